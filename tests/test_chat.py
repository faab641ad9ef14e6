"""The conversation read model and customer profiles: window, transcript flag, contact edits."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from db.models import AuditEvent, AuthorKind, ChatSession, Customer, Job, Message, Role
from sessionlens import chat, customers, filter_options
from sessionlens.errors import BadInput, NotFound, PermissionDenied
from sessionlens.messages import append_message
from tests.conftest import NOW
from tests.helpers import actor


def _session(db, who):
    return db.scalars(
        select(ChatSession)
        .where(ChatSession.tenant_id == who.tenant_id)
        .order_by(ChatSession.id)
        .limit(1)
    ).one()


def test_a_long_session_opens_with_the_newest_window_and_counts_the_rest(db):
    who = actor(db)
    cs = _session(db, who)
    before = len(chat.conversation(db, cs.id, actor=who, last=None).messages)
    for i in range(450):
        append_message(
            db,
            cs,
            author_kind=AuthorKind.CUSTOMER,
            text=f"line {i}",
            sent_at=NOW + dt.timedelta(seconds=i),
        )
    conv = chat.conversation(db, cs.id, actor=who)
    assert len(conv.messages) == chat.WINDOW
    assert conv.messages[-1].text == "line 449" and conv.messages[0].text == "line 250"
    assert conv.earlier == before + 450 - chat.WINDOW
    wider = chat.conversation(db, cs.id, actor=who, last=2 * chat.WINDOW)
    assert wider.messages[-chat.WINDOW :] == conv.messages
    db.refresh(cs)
    assert cs.last_message_at == NOW + dt.timedelta(seconds=449)


def test_a_queued_transcription_shows_the_placeholder_flag(db):
    who = actor(db)
    cs = _session(db, who)
    assert not chat.conversation(db, cs.id, actor=who).transcribing
    db.add(Job(tenant_id=who.tenant_id, session_id=cs.id, kind="transcription", created_at=NOW))
    db.flush()
    assert chat.conversation(db, cs.id, actor=who).transcribing


def test_contact_edit_validates_and_writes_nothing_on_bad_input(db):
    who = actor(db)
    c = db.scalars(select(Customer).where(Customer.tenant_id == who.tenant_id).limit(1)).one()
    old_email = c.email
    with pytest.raises(BadInput, match="Email 'not-an-email' is not an email address"):
        customers.update_contact(
            db,
            actor=who,
            customer_id=c.id,
            fields={"name": "Renamed", "email": "not-an-email"},
            now=NOW,
        )
    db.refresh(c)
    assert c.email == old_email and c.name != "Renamed"
    with pytest.raises(BadInput, match="Phone 'call me' is not a phone number"):
        customers.update_contact(
            db, actor=who, customer_id=c.id, fields={"phone": "call me"}, now=NOW
        )
    saved = customers.update_contact(
        db,
        actor=who,
        customer_id=c.id,
        fields={
            "name": "  Zoë   Quill ",
            "email": "zoe@example.org",
            "phone": "+49 30 1234567",
            "telegram": "",
        },
        now=NOW,
    )
    assert (saved.name, saved.email, saved.telegram) == ("Zoë Quill", "zoe@example.org", None)
    assert [x.id for x in filter_options.search_customers(db, "zoë q", actor=who)] == [str(c.id)]
    assert db.scalar(select(AuditEvent.action).where(AuditEvent.target_id == str(c.id)))


def test_contact_edit_needs_the_role_and_the_tenant(db):
    viewer, other = actor(db, 0, Role.VIEWER), actor(db, 1)
    c = db.scalars(select(Customer).where(Customer.tenant_id == viewer.tenant_id).limit(1)).one()
    with pytest.raises(PermissionDenied):
        customers.update_contact(db, actor=viewer, customer_id=c.id, fields={"name": "X"}, now=NOW)
    with pytest.raises(NotFound):
        customers.update_contact(db, actor=other, customer_id=c.id, fields={"name": "X"}, now=NOW)


def test_customer_sessions_are_oldest_first_and_scoped(db):
    who = actor(db)
    cid = db.scalar(
        select(ChatSession.customer_id).where(
            ChatSession.tenant_id == who.tenant_id, ChatSession.customer_id.is_not(None)
        )
    )
    found = customers.customer_sessions(db, cid, actor=who)
    heads = found.shown
    assert heads and [h.started_at for h in heads] == sorted(h.started_at for h in heads)
    assert found.total == db.scalar(
        select(func.count()).select_from(ChatSession).where(ChatSession.customer_id == cid)
    )
    newest = customers.customer_sessions(db, cid, actor=who, limit=1)
    assert [h.id for h in newest.shown] == [heads[-1].id] and newest.total == found.total
    with pytest.raises(NotFound):
        customers.customer_sessions(db, cid, actor=actor(db, 1))


def test_several_conversations_read_in_a_fixed_number_of_queries(db):
    from sqlalchemy import event

    who = actor(db)
    ids = db.scalars(
        select(ChatSession.id)
        .where(ChatSession.tenant_id == who.tenant_id, ChatSession.message_count > 3)
        .limit(6)
    ).all()
    windows = {sid: (2 if i % 2 else None) for i, sid in enumerate(ids)}
    statements = []
    listen = lambda *args: statements.append(1)  # noqa: E731
    event.listen(db.get_bind(), "before_cursor_execute", listen)
    try:
        many = chat.conversations(db, windows, actor=who)
        queries_for_many = len(statements)
        statements.clear()
        chat.conversations(db, {ids[0]: None}, actor=who)
        queries_for_one = len(statements)
    finally:
        event.remove(db.get_bind(), "before_cursor_execute", listen)
    assert queries_for_many == queries_for_one  # not one query per session
    for sid, last in windows.items():  # against a plain reference: all ids by seq, then cut
        every = db.scalars(
            select(Message.id).where(Message.session_id == sid).order_by(Message.seq)
        ).all()
        expected = every if last is None else every[-last:]
        assert [m.id for m in many[sid].messages] == expected
        assert many[sid].earlier == len(every) - len(expected)
    assert many[ids[1]].earlier > 0 and len(many[ids[1]].messages) == 2
