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


def test_a_message_in_a_shown_row_is_a_change_and_loading_more_rows_is_not(db):
    who = actor(db)
    first, more = _rows(db, who, 5), _rows(db, who, 10)
    seen = live.signature(db, actor=who, open_session=None, shown=first)
    assert not live.changed(seen, live.signature(db, actor=who, open_session=None, shown=more))
    assert not live.changed(seen, live.signature(db, actor=who, open_session=None, shown=[]))
    cs = db.get_one(ChatSession, first[2])
    messages.append_message(
        db, cs, author_kind="customer", text="Still there?", sent_at=NOW + dt.timedelta(hours=1)
    )
    assert live.changed(seen, live.signature(db, actor=who, open_session=None, shown=more))


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
    seen = live.signature(db, actor=who, open_session=cs.id, shown=[])
    handover.hand_over(db, actor=who, session_id=cs.id, now=NOW + dt.timedelta(minutes=1))
    assert live.changed(seen, live.signature(db, actor=who, open_session=cs.id, shown=[]))
    seen = live.signature(db, actor=who, open_session=None, shown=[])
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
    assert live.changed(seen, live.signature(db, actor=who, open_session=None, shown=[]))


def test_what_was_read_before_the_page_drew_stays_the_reference():
    """A page records the signature it read before drawing; rows it showed for the first time
    come in with the values read after. A change that landed while it drew is still a change."""
    before_drawing = {"newest": 9, 1: ("2 messages",)}
    after_drawing = {"newest": 9, 1: ("3 messages",), 2: ("1 message",)}  # row 2: loaded now
    recorded = live.carried(before_drawing, after_drawing)
    assert recorded == {"newest": 9, 1: ("2 messages",), 2: ("1 message",)}
    assert live.changed(recorded, after_drawing)  # the next poll redraws: the chat shows 3
    assert not live.changed(after_drawing, after_drawing)


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
