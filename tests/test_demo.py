"""The demo data set shows every feature of the Sessions screen, deterministically."""

from __future__ import annotations

import hashlib
import re

from sqlalchemy import func, select

from db.engine import make_engine
from db.migrate import upgrade
from db.models import (
    Agent,
    Attachment,
    AuthorKind,
    Channel,
    ChatSession,
    Customer,
    Handoff,
    LogKind,
    Message,
    Mode,
    SessionLog,
    SystemEvent,
    Tenant,
    User,
)
from sessionlens import demo
from tests.conftest import NOW


def test_demo_covers_every_kind_the_screen_shows(db):
    q = lambda stmt: set(db.scalars(stmt.distinct()))  # noqa: E731
    assert q(select(ChatSession.channel)) == {c.value for c in Channel}
    assert q(select(Message.author_kind)) == {k.value for k in AuthorKind}
    assert q(select(Message.system_event).where(Message.system_event.is_not(None))) == {
        e.value for e in SystemEvent
    }
    assert q(select(ChatSession.mode)) == {m.value for m in Mode}
    assert q(select(Message.reaction).where(Message.reaction.is_not(None))) == {"up", "down"}
    assert {"delivered", "read", "failed"} <= q(select(Message.delivery_status))
    assert db.scalar(select(func.count()).where(Message.is_template))
    assert db.scalar(select(func.count()).where(Message.quick_replies.is_not(None)))
    mimes = q(select(Attachment.mime_type))
    assert {"image/png", "application/pdf", "audio/wav"} <= mimes
    assert db.scalar(select(func.count()).where(ChatSession.finished_at.is_(None)))
    assert db.scalar(
        select(func.count()).where(
            ChatSession.mode != Mode.AI, ChatSession.assigned_user_id.is_(None)
        )
    )
    assert q(select(SessionLog.kind)) == {LogKind.SYSTEM, LogKind.TRACE}
    plans = {(t.plan, t.timezone) for t in db.scalars(select(Tenant))}
    assert plans == {("paid", "Europe/Berlin"), ("free", "America/New_York")}
    assert db.scalar(select(func.count()).select_from(Agent)) >= 5
    assert db.scalar(select(func.count()).where(User.is_human_agent)) >= 5


def test_the_ai_never_says_the_customers_lines(db):
    """The customer and the AI keep their own lines, also in conversations that go on with
    another topic (a topic of odd length once swapped them from the second round on)."""
    from sessionlens.demo import content

    customer_lines = {
        line for t in content.TOPICS for line in [*t.lines[0::2], t.follow_up] if line
    }
    ai_lines = {line for t in content.TOPICS for line in t.lines[1::2]}
    said = lambda kind: set(db.scalars(select(Message.text).where(Message.author_kind == kind)))  # noqa: E731
    assert said(AuthorKind.AI) & ai_lines and said(AuthorKind.CUSTOMER) & customer_lines
    assert not said(AuthorKind.AI) & (customer_lines - ai_lines)
    assert not said(AuthorKind.CUSTOMER) & (ai_lines - customer_lines)
    traced = set(
        db.scalars(select(SessionLog.action_input).where(SessionLog.kind == LogKind.TRACE))
    )
    assert not traced & (customer_lines - ai_lines)


def test_a_long_demo_conversation_never_repeats_itself(db):
    """A reader opening a 30-message demo session reads one conversation, not one topic said
    over and over: it goes on with other topics of its language, each brought up once, and a
    copilot draft differs from the one before it."""
    from sessionlens.demo import content

    rows = db.execute(
        select(Message.session_id, Message.text)
        .where(
            Message.author_kind.in_([AuthorKind.CUSTOMER, AuthorKind.AI, AuthorKind.COPILOT_DRAFT])
        )
        .order_by(Message.session_id, Message.seq)
    ).all()
    by_session: dict[int, list[str]] = {}
    for sid, text in rows:
        by_session.setdefault(sid, []).append(text)
    long = {sid: texts for sid, texts in by_session.items() if len(texts) >= 20}
    assert long, "the demo has long conversations"
    repeated = {
        sid: sorted({t for t in texts if texts.count(t) > 1}) for sid, texts in by_session.items()
    }
    assert not {sid: r for sid, r in repeated.items() if r}
    follow_ups = {t.follow_up for t in content.TOPICS if t.follow_up}
    assert any(follow_ups & set(texts) for texts in long.values())
    openers = {t.lines[0] for t in content.TOPICS}
    assert all(len(openers & set(texts)) == 1 for texts in long.values())


def test_a_demo_conversation_stays_in_its_customers_language(db):
    """A customer who wrote in German, Russian or Japanese is answered in that language by the AI
    and, after a handover, by the person and their Copilot drafts; the customer thanks them in it.
    A customer writes in one language in all their sessions (their 360 View reads as one person's)."""
    from sessionlens.demo import content

    language: dict[str, str] = {}
    patterns: list[tuple[re.Pattern[str], str]] = []
    for topic in content.TOPICS:
        for line in [*topic.lines, topic.follow_up or ""]:
            language[line] = topic.language
    for lang in content.HUMAN_LINES:
        for line in [*content.HUMAN_LINES[lang], *content.DRAFTS[lang], content.THANKS[lang]]:
            if "{name}" in line:
                patterns.append((re.compile(re.escape(line).replace(r"\{name\}", ".+")), lang))
            else:
                language[line] = lang
    rows = db.execute(
        select(Message.session_id, ChatSession.customer_id, Message.text)
        .join(ChatSession, ChatSession.id == Message.session_id)
        .where(
            Message.author_kind.in_(
                [AuthorKind.CUSTOMER, AuthorKind.AI, AuthorKind.HUMAN, AuthorKind.COPILOT_DRAFT]
            )
        )
    ).all()
    spoken: dict[int, set[str]] = {}
    writes: dict[int, set[str]] = {}
    for sid, customer, text in rows:
        lang = language.get(text) or next((g for p, g in patterns if p.fullmatch(text)), None)
        if lang is not None:
            spoken.setdefault(sid, set()).add(lang)
            if customer is not None:
                writes.setdefault(customer, set()).add(lang)
    assert not {sid: langs for sid, langs in spoken.items() if len(langs) > 1}
    assert not {c: langs for c, langs in writes.items() if len(langs) > 1}
    assert set.union(*writes.values()) == {"en", "de", "ru", "ja"}
    rows = [(sid, text) for sid, _, text in rows]
    # what only comes after a handover: the demo has such sessions in every language
    after = {t: g for g in content.THANKS for t in [content.THANKS[g], *content.DRAFTS[g]]}
    assert {after[t] for _, t in rows if t in after} == {"en", "de", "ru", "ja"}


def test_demo_sessions_carry_parameters_results_and_real_locations(db):
    rows = db.scalars(select(ChatSession)).all()
    params = [r.parameters for r in rows]
    assert any("utm_source" in p for p in params) and any("customer_id" in p for p in params)
    assert any(p == {} for p in params)
    results = [r.results for r in rows]
    assert any(r == {} for r in results) and any(0 < len(r) < 8 for r in results)
    assert {r.country for r in rows if r.country} >= {"GB", "SE", "US"}
    assert any(r.geo_note and r.country is None for r in rows if r.ip)


def test_demo_results_fit_their_fields(db):
    """A "Human Name" holds the customer's name (a sample name when anonymous), a "Phone
    Number" a phone number, never each other's values."""
    rows = db.execute(
        select(ChatSession.results, Customer.name).outerjoin(
            Customer, Customer.id == ChatSession.customer_id
        )
    ).all()
    names = [(r["human_name"], who) for r, who in rows if "human_name" in r]
    phones = [r["phone_number"] for r, _ in rows if "phone_number" in r]
    assert names and phones
    assert all(value == who for value, who in names if who)
    assert all(not any(c.isdigit() for c in value) for value, _ in names)
    assert all(p.startswith("+") and sum(c.isdigit() for c in p) >= 8 for p in phones)


def test_same_seed_gives_same_data(tmp_path, test_locator):
    def digest(name: str) -> str:
        eng = make_engine(f"sqlite:///{tmp_path / name}")
        upgrade(eng)
        with eng.begin() as conn:
            demo.generate(conn, locator=test_locator, sessions=60, seed=5, now=NOW)
            rows = conn.execute(
                select(Message.text, Message.sent_at, Message.author_kind).order_by(Message.id)
            ).all()
        eng.dispose()
        return hashlib.sha256(repr(rows).encode()).hexdigest()

    assert digest("a.db") == digest("b.db")


def test_nothing_happens_after_now_and_live_sessions_are_open(db):
    from sqlalchemy import or_

    late = db.scalar(
        select(func.count())
        .select_from(ChatSession)
        .where(or_(ChatSession.finished_at > NOW, ChatSession.last_message_at > NOW))
    )
    assert late == 0
    assert db.scalar(select(func.count()).where(Message.sent_at > NOW)) == 0
    live = db.scalars(select(ChatSession.status).where(ChatSession.finished_at.is_(None))).all()
    assert live and set(live) == {"open"}


def test_every_handover_in_the_chats_is_on_the_handoffs_page(db):
    """A session whose chat shows "Transfer to human agent" has one handover row at that moment,
    accepted at its assignment marker by the person named as responsible, resolved when the
    chat says so; the Handoffs page reads these rows (it showed nothing on the demo before)."""
    transfers = dict(
        db.execute(
            select(Message.session_id, Message.sent_at).where(
                Message.system_event == SystemEvent.TRANSFER
            )
        ).all()
    )
    handoffs = {h.session_id: h for h in db.scalars(select(Handoff))}
    assert transfers and set(handoffs) == set(transfers)
    assigned = dict(
        db.execute(
            select(Message.session_id, Message.sent_at).where(
                Message.system_event == SystemEvent.ASSIGNED
            )
        ).all()
    )
    resolved = dict(
        db.execute(
            select(Message.session_id, Message.sent_at).where(
                Message.system_event == SystemEvent.RESOLVED
            )
        ).all()
    )
    sessions = {
        cs.id: cs for cs in db.scalars(select(ChatSession).where(ChatSession.id.in_(transfers)))
    }
    for sid, h in handoffs.items():
        assert h.requested_at == transfers[sid]
        assert h.tenant_id == sessions[sid].tenant_id and h.agent_id == sessions[sid].agent_id
        assert h.accepted_at == assigned.get(sid)
        assert h.accepted_by == (sessions[sid].assigned_user_id if sid in assigned else None)
        assert h.resolved_at == resolved.get(sid)
        if h.first_reply_at is not None:
            assert h.accepted_at is not None and h.first_reply_at > h.accepted_at
    assert {h.trigger for h in handoffs.values()} == {"manual", "automatic", "customer_request"}
    assert any(h.resolved_at for h in handoffs.values())
    assert any(h.accepted_at is None for h in handoffs.values())  # some wait for a person


def test_demo_customers_of_one_name_have_addresses_of_their_own(db):
    """Names repeat among the demo's customers, as in life; their emails do not."""
    names = db.execute(
        select(Customer.tenant_id, Customer.name)
        .group_by(Customer.tenant_id, Customer.name)
        .having(func.count() > 1)
    ).all()
    assert names, "some demo customers share a name"
    shared = db.execute(
        select(Customer.tenant_id, Customer.email)
        .where(Customer.email.is_not(None))
        .group_by(Customer.tenant_id, Customer.email)
        .having(func.count() > 1)
    ).all()
    assert shared == []


def test_demo_addresses_are_spelled_as_providers_allow(db):
    """A customer named María Müller has maria.muller@…, @maria_muller and linkedin.com/in/
    maria-muller: e-mail providers, Telegram and LinkedIn take no accented letters there."""
    rows = db.execute(
        select(Customer.name, Customer.email, Customer.telegram, Customer.linkedin)
    ).all()
    accented = [r for r in rows if not r.name.isascii()]
    assert accented, "some demo customers have accented names"
    for r in accented:
        for value in (r.email, r.telegram, r.linkedin):
            assert value is None or value.isascii(), (r.name, value)
    assert any(r.email and "muller" in r.email for r in accented)


def test_the_demo_voice_agent_takes_the_calls(db):
    """ "Echo (Voice)" answers the phone lines, and an e-mail is never its."""
    from sessionlens.channels import VOICE_CHANNELS

    rows = db.execute(
        select(Agent.name, ChatSession.channel)
        .join(Agent, Agent.id == ChatSession.agent_id)
        .where(Agent.name == "Echo (Voice)")
    ).all()
    assert rows and {channel for _, channel in rows} <= VOICE_CHANNELS
    calls = db.execute(
        select(Agent.name)
        .join(ChatSession, ChatSession.agent_id == Agent.id)
        .where(ChatSession.channel.in_(VOICE_CHANNELS), ChatSession.tenant_id == Agent.tenant_id)
        .distinct()
    ).scalars()
    assert "Echo (Voice)" in set(calls)


def test_the_demos_pictures_are_pictures_wider_than_the_chats_preview():
    """The demo's screenshot and the showcase's photo decode, are wider than the chat shows them
    (so a click on one shows more than the preview) and stay a few KB each in the database."""
    import io

    from PIL import Image

    from components.chat import IMAGE_WIDTH
    from sessionlens.demo import assets

    for made, size in ((assets.png(), assets.SCREEN), (assets.photo(), assets.PHOTO)):
        with Image.open(io.BytesIO(made)) as img:
            img.load()
            assert img.size == size and img.width > IMAGE_WIDTH
        assert len(made) < 8_000


def test_every_demo_session_has_one_of_its_tenants_statuses(db):
    """The Statuses filter offers the tenant's statuses only: the demo's sessions are all found
    by it, and together they have all but at most one status of each list (the paid tenant's
    spam is rare: 3 % of its finished sessions)."""
    listed = {t.id: set(t.statuses) for t in db.scalars(select(Tenant))}
    used: dict[int, set[str]] = {}
    for tenant, status in db.execute(select(ChatSession.tenant_id, ChatSession.status).distinct()):
        used.setdefault(tenant, set()).add(status)
    assert all(used[t] <= listed[t] for t in used), (used, listed)
    assert all(len(used[t]) >= len(listed[t]) - 1 for t in used)
