"""What the Sessions and Human Agents pages poll to redraw without a click: which changes count.

A lead's own steps (Load More, a Refresh, another session opened) change which rows a page
shows; only a change to something both polls saw is a change made elsewhere."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from db.models import ChatSession, Mode
from sessionlens import handover, human_agents, live, messages, sessions
from sessionlens.filters import SessionFilter
from tests.conftest import NOW
from tests.helpers import actor


def _rows(db, who, n: int) -> list[int]:
    return [r.id for r in sessions.list_page(db, SessionFilter(), actor=who, limit=n).rows]


def test_rows_as_the_table_drew_them_match_the_signature_until_one_changes(db):
    """The poll compares the table's rows as they were loaded with the signature read now: the
    same values, on both databases, until something happens to one of them."""
    who = actor(db)
    newest = live.newest(db, actor=who)
    page = sessions.list_page(db, SessionFilter(), actor=who, limit=20)
    drawn = {"newest": newest} | {r.id: live.state(r) for r in page.rows}
    now = live.signature(db, actor=who, ids=[r.id for r in page.rows])
    assert now == drawn
    messages.append_message(
        db,
        db.get_one(ChatSession, page.rows[7].id),
        author_kind="ai",
        text="Anything else?",
        sent_at=NOW + dt.timedelta(hours=1),
    )
    now = live.signature(db, actor=who, ids=[r.id for r in page.rows])
    assert live.changed(drawn, now)
    assert [k for k in now if now[k] != drawn[k]] == [page.rows[7].id]


def test_a_message_in_a_shown_row_is_a_change_and_loading_more_rows_is_not(db):
    who = actor(db)
    first, more = _rows(db, who, 5), _rows(db, who, 10)
    seen = live.signature(db, actor=who, ids=first)
    assert not live.changed(seen, live.signature(db, actor=who, ids=more))
    assert not live.changed(seen, live.signature(db, actor=who, ids=[]))
    cs = db.get_one(ChatSession, first[2])
    messages.append_message(
        db, cs, author_kind="customer", text="Still there?", sent_at=NOW + dt.timedelta(hours=1)
    )
    assert live.changed(seen, live.signature(db, actor=who, ids=more))


def test_a_handover_of_the_open_session_and_a_new_session_are_changes(db):
    who = actor(db)
    cs = db.scalar(
        select(ChatSession)
        .where(
            ChatSession.tenant_id == who.tenant_id,
            ChatSession.finished_at.is_(None),
            ChatSession.mode == Mode.AI,
        )
        .limit(1)
    )
    seen = live.signature(db, actor=who, ids=[cs.id])
    handover.hand_over(db, actor=who, session_id=cs.id, now=NOW + dt.timedelta(minutes=1))
    assert live.changed(seen, live.signature(db, actor=who, ids=[cs.id]))
    seen = live.signature(db, actor=who, ids=[])
    db.add(
        ChatSession(
            tenant_id=who.tenant_id,
            agent_id=cs.agent_id,
            channel="web",
            status="open",
            started_at=NOW + dt.timedelta(hours=2),
            last_message_at=NOW + dt.timedelta(hours=2),
        )
    )
    db.flush()
    assert live.changed(seen, live.signature(db, actor=who, ids=[]))


def test_human_agents_another_conversation_opened_is_not_a_change_a_message_in_it_is(db):
    who = actor(db)
    a, b = db.scalars(
        select(ChatSession)
        .where(ChatSession.tenant_id == who.tenant_id)
        .order_by(ChatSession.id)
        .limit(2)
    ).all()
    seen = human_agents.signature(db, actor=who, open_session=a.id)
    assert not live.changed(seen, human_agents.signature(db, actor=who, open_session=b.id))
    messages.append_message(
        db, a, author_kind="copilot_draft", text="A draft", sent_at=NOW + dt.timedelta(minutes=5)
    )
    assert live.changed(seen, human_agents.signature(db, actor=who, open_session=a.id))
