"""The Chat panel and the 360 View in AppTest: every message kind, marker and attachment."""

from __future__ import annotations

import re
from html import unescape

from sqlalchemy import select

from db.models import ChatSession, Customer, Message
from tests import appdb

APP = appdb.FRAME


_open = appdb.run_app


def _html(at) -> str:
    return "\n".join(h.proto.body for h in at.get("html"))


def test_every_message_kind_marker_and_attachment(app_db):
    cs = appdb.showcase(app_db)
    at = _open({"session": str(cs.id)})
    html = _html(at)
    assert "Client started the session at" in html
    assert "Transfer to human agent at" in html
    assert "was assigned by Dana Whitfield at" in html
    assert "The session was resolved by" in html
    assert (
        "Draft from Copilot" in html
        and 'class="sl-copy' in html
        and 'data-copy="I&#x27;m sorry' in html
    )
    assert "Private note" in html
    authors = set(re.findall(r'data-author="([a-z_]+)"', html))
    assert {"customer", "ai", "human", "copilot_draft", "private_note"} <= authors
    # Each avatar says who wrote (a picture drawn by the page's CSS, named for screen readers).
    named = set(
        re.findall(r'class="sl-avatar sl-av-[a-z_]+" role="img" aria-label="([^"]+)"', html)
    )
    assert {"Customer", "AI agent", "Human agent", "Copilot draft", "Private note"} <= named
    human = html[html.index('data-author="human"') :]
    assert human.index("<strong>Grace Kim</strong>") < human.index("Hi, this is Grace")
    assert '<a href="https://example.com/returns">returns policy</a>' in html  # a live link
    assert 'class="sl-chip"' in html  # quick replies
    assert "Customer reaction: 👍" in html and "Customer reaction: 👎" in html
    assert '<figure class="sl-img"' in html  # the image attachment shows inline
    # the PDF shows as a file card: its name, type and size, and a Download of the server's copy
    card = re.search(r'<div class="sl-file".*?</div>\s*<a class="sl-file-dl" href="([^"]+)"', html)
    assert card and "invoice-2026-11.pdf" in card[0] and "application/pdf" in card[0]
    assert card[1].startswith("/files/") and "ticket=" in card[1]


def test_template_and_delivery_status(app_db):
    with app_db.connect() as conn:
        sid = conn.scalar(select(Message.session_id).where(Message.is_template).limit(1))
        failed = conn.execute(
            select(Message).where(Message.delivery_status == "failed").limit(1)
        ).first()
    at = _open({"session": str(sid)})
    assert "WhatsApp template" in _html(at)
    at = _open({"session": str(failed.session_id)})
    tips = [
        unescape(t)
        for t in re.findall(r'<span class="sl-tiptext" role="tooltip">(.*?)</span>', _html(at))
    ]
    assert any(
        t.startswith("Failed at ") and "UTC" in t and failed.delivery_note in t for t in tips
    )


def test_customer_360_shows_sessions_and_edits_contact(app_db):
    cs = appdb.showcase(app_db)
    at = _open({"customer": str(cs.customer_id)}, "screens/customer.py")
    assert any(s.value.startswith("Sessions · ") for s in at.subheader), (
        [s.value for s in at.subheader],
        appdb.shown(at.error),
        cs.customer_id,
    )
    links = at.main.get("page_link")  # the session headers (the sidebar holds the menu)
    assert links and all(link.proto.query_string.startswith("session=") for link in links)
    assert f"session={cs.id}" in [link.proto.query_string for link in links]
    at.button(key="contact_edit").click().run()
    at.text_input(key="contact_email").input("broken@")
    at.button(key="FormSubmitter:contact_form-Save").click().run()
    assert any("is not an email address" in e for e in appdb.shown(at.error))
    at.text_input(key="contact_email").input("new.address@example.com")
    at.button(key="FormSubmitter:contact_form-Save").click().run()
    assert any("Contact info saved" in s.value for s in at.success)
    assert "Email: new.address@example.com" in appdb.contact_lines(at)


def test_unknown_customer_and_customer_without_sessions(app_db):
    at = _open({"customer": "99999999"}, "screens/customer.py")
    assert any("Customer 99999999 not found" in e for e in appdb.shown(at.error))

    with app_db.connect() as conn:
        lonely = conn.scalar(
            select(Customer.id)
            .where(
                Customer.id.not_in(
                    select(ChatSession.customer_id).where(ChatSession.customer_id.is_not(None))
                )
            )
            .limit(1)
        )
    at = _open({"customer": str(lonely)}, "screens/customer.py")
    assert any("no sessions yet" in i.value for i in at.info)


def test_a_failed_transcription_shows_its_error_and_retry_queues_it_again(app_db):
    """A voice session whose transcription failed says why and that the recording is kept; Retry
    queues it again and the chat then says a transcript is on its way. The newest job counts."""
    from sqlalchemy.orm import Session

    from db.models import Attachment, Job, JobStatus

    with Session(app_db) as db, db.begin():
        sid = db.scalar(select(Attachment.session_id).where(Attachment.is_recording).limit(1))
        tenant = db.get_one(ChatSession, sid).tenant_id
        _, failed = appdb.transcription_jobs(
            db,
            (tenant, sid, JobStatus.DONE, None),
            (tenant, sid, JobStatus.FAILED, "the decoder gave up at 0:42"),
        )
    at = _open({"session": str(sid)})
    errors = appdb.shown(at.error)
    assert "Transcription failed: the decoder gave up at 0:42. The recording is kept." in errors
    at.button(key=f"retry_{sid}").click().run()
    with Session(app_db) as db:
        assert db.get_one(Job, failed).status == JobStatus.QUEUED
    assert not appdb.shown(at.error)
    assert any("still being produced" in i.value for i in at.info)
    assert any("Waiting for a transcription worker" in p.proto.text for p in at.get("progress"))


def test_one_earlier_message_reads_in_the_singular(app_db, monkeypatch):
    """A chat whose window leaves one message out offers "Show 1 earlier message (1 not shown)",
    not "1 earlier messages"."""
    from sqlalchemy.orm import Session

    from sessionlens import chat, identity

    cs = appdb.showcase(app_db)
    with Session(app_db) as db:
        whole = chat.conversation(db, cs.id, actor=identity.default_actor(db), last=None)
    monkeypatch.setattr(chat, "WINDOW", len(whole.messages) - 1)  # the page's window
    with Session(app_db) as db:
        who = identity.default_actor(db)
        assert chat.conversation(db, cs.id, actor=who, last=chat.WINDOW).earlier == 1
    at = _open({"session": str(cs.id)})
    assert at.button(key=f"earlier_{cs.id}").label == "Show 1 earlier message (1 not shown)"
