"""Logs in the domain: entries in order, raw and structured traces, database-side search."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from db.models import ChatSession, LogKind, Message, SessionLog
from sessionlens import logs
from sessionlens.errors import NotFound, PermissionDenied
from sessionlens.trace_text import find_all
from tests.conftest import NOW
from tests.helpers import actor

RAW = (
    "Agent: form_agent\nPrompt:\nRecord the results. Refund refund REFUND.\nGeneration:\n"
    'Action: record_result\nAction Input: {"refund": true}\n#######\nupstream timeout (refund)'
)


def _traced_session(db, who):
    return db.scalar(
        select(SessionLog.session_id)
        .where(SessionLog.tenant_id == who.tenant_id, SessionLog.kind == LogKind.TRACE)
        .limit(1)
    )


def test_search_counts_match_what_the_tab_shows(db):
    who = actor(db)
    sid = _traced_session(db, who)
    db.add(
        SessionLog(tenant_id=who.tenant_id, session_id=sid, kind=LogKind.TRACE, at=NOW, text=RAW)
    )
    db.flush()
    entries = logs.list_logs(db, sid, LogKind.TRACE, actor=who)
    raw_entry = entries[-1]
    assert [c.parsed for c in raw_entry.calls] == [True, False]
    assert raw_entry.calls[1].raw == "upstream timeout (refund)"
    for term in ("refund", "REFUND", "(refund)", "Action Input", "main_agent", "a.b", "ü"):
        found = {m.entry_id: m.count for m in logs.search(db, sid, LogKind.TRACE, term, actor=who)}
        expected = {
            e.id: len(find_all(e.as_text(), term)) for e in entries if find_all(e.as_text(), term)
        }
        assert found == expected, term
    assert {m.entry_id for m in logs.search(db, sid, LogKind.TRACE, "refund", actor=who)} >= {
        raw_entry.id
    }


def test_system_lines_in_time_order_and_searchable(db):
    who = actor(db)
    sid = _traced_session(db, who)
    lines = logs.list_logs(db, sid, LogKind.SYSTEM, actor=who)
    assert lines[0].text.startswith("Session opened")
    assert [e.at for e in lines] == sorted(e.at for e in lines)
    hits = logs.search(db, sid, LogKind.SYSTEM, "SESSION", actor=who)
    assert sum(m.count for m in hits) == sum(len(find_all(e.text, "session")) for e in lines)


def test_ai_message_links_to_its_trace_call(db):
    who = actor(db)
    sid, msg = db.execute(
        select(SessionLog.session_id, SessionLog.message_id)
        .where(SessionLog.tenant_id == who.tenant_id, SessionLog.message_id.is_not(None))
        .limit(1)
    ).one()
    entry = logs.trace_for_message(db, sid, msg, actor=who)
    row = db.get(SessionLog, entry)
    assert row.message_id == msg and row.action_input == db.get(Message, msg).text
    assert msg in logs.traced_messages(db, sid, [msg], actor=who)
    # The same message asked for under another session of the tenant has no trace there.
    other = db.scalar(
        select(ChatSession.id).where(ChatSession.tenant_id == who.tenant_id, ChatSession.id != sid)
    )
    assert logs.trace_for_message(db, other, msg, actor=who) is None
    assert logs.traced_messages(db, other, [msg], actor=who) == set()


def test_free_plan_and_other_tenants_are_refused(db):
    free, paid = actor(db, 1), actor(db, 0)
    sid = _traced_session(db, paid)
    free_sid = db.scalar(select(ChatSession.id).where(ChatSession.tenant_id == free.tenant_id))
    with pytest.raises(PermissionDenied, match="paid plans"):
        logs.search(db, free_sid, LogKind.TRACE, "x", actor=free)
    assert logs.trace_for_message(db, free_sid, 1, actor=free) is None
    with pytest.raises(NotFound):
        logs.search(db, sid, LogKind.SYSTEM, "Session", actor=free)
