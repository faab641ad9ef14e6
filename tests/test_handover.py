"""Hand over to the operator: the rule, the permission, the marker and the audit trail."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from db.models import AuditEvent, ChatSession, Mode, Role
from sessionlens import handover, sessions
from sessionlens.errors import NotFound, PermissionDenied, RuleViolation
from tests.conftest import NOW
from tests.helpers import actor


def _session(db, who, **where):
    conds = [ChatSession.tenant_id == who.tenant_id] + [
        getattr(ChatSession, k) == v if v is not None else getattr(ChatSession, k).is_(None)
        for k, v in where.items()
    ]
    return db.scalar(select(ChatSession).where(*conds).order_by(ChatSession.id).limit(1))


def test_hand_over_active_ai_session(db):
    who = actor(db)
    cs = _session(db, who, finished_at=None, mode=Mode.AI)
    before = sessions.get_session(db, cs.id, actor=who)
    assert handover.blocked_reason(before.row, who) is None
    at = NOW + dt.timedelta(minutes=1)
    handover.hand_over(db, actor=who, session_id=cs.id, now=at)
    after = sessions.get_session(db, cs.id, actor=who)
    assert after.row.mode == Mode.HUMAN and after.row.responsible == "Unassigned"
    assert after.conversation.messages[-1].system_event == "transfer"
    assert after.row.message_count == before.row.message_count  # markers are not messages
    assert handover.blocked_reason(after.row, who) == "Session is already handled by an operator"
    audit = db.scalar(select(AuditEvent).where(AuditEvent.target_id == str(cs.id)))
    assert audit.action == "hand_over" and audit.actor_user_id == who.user_id


def test_finished_session_cannot_be_handed_over(db):
    who = actor(db)
    cs = _session(db, who, mode=Mode.AI)
    assert cs.finished_at is not None
    with pytest.raises(RuleViolation, match="Session is already finished"):
        handover.hand_over(db, actor=who, session_id=cs.id, now=NOW)


def test_human_session_cannot_be_handed_over_again(db):
    who = actor(db)
    cs = _session(db, who, mode=Mode.HUMAN)
    cs.finished_at = None
    db.flush()
    with pytest.raises(RuleViolation, match="already handled by an operator"):
        handover.hand_over(db, actor=who, session_id=cs.id, now=NOW)


def test_viewer_is_refused_by_the_domain_not_only_the_button(db):
    viewer = actor(db, 0, Role.VIEWER)
    cs = _session(db, viewer, finished_at=None, mode=Mode.AI)
    row = sessions.get_session(db, cs.id, actor=viewer).row
    assert (
        handover.blocked_reason(row, viewer) == "You do not have permission to hand over sessions"
    )
    with pytest.raises(PermissionDenied, match="permission to hand over sessions"):
        handover.hand_over(db, actor=viewer, session_id=cs.id, now=NOW)
    assert db.get(ChatSession, cs.id).mode == Mode.AI


def test_other_tenants_session_is_not_found(db):
    mine, theirs = actor(db, 0), actor(db, 1)
    cs = _session(db, theirs)
    with pytest.raises(NotFound):
        handover.hand_over(db, actor=mine, session_id=cs.id, now=NOW)


def test_an_intercom_session_is_handed_over_in_intercom_not_from_the_console(db):
    """The spec: for Intercom, the Assignee field in Intercom controls handover. The button says
    so and the domain refuses a person's handover; the runtime's (an assignee change) goes on."""
    who = actor(db)
    cs = _session(db, who, finished_at=None, mode=Mode.AI)
    cs.channel = "intercom"
    db.flush()
    row = sessions.get_session(db, cs.id, actor=who).row
    assert handover.blocked_reason(row, who) == handover.INTERCOM
    assert "assign the conversation to a person" in handover.INTERCOM
    with pytest.raises(RuleViolation, match="handed over in Intercom"):
        handover.hand_over(db, actor=who, session_id=cs.id, now=NOW)
    assert db.get(ChatSession, cs.id).mode == Mode.AI
    handover.hand_over(db, actor=who, session_id=cs.id, now=NOW, trigger="automatic")
    assert db.get(ChatSession, cs.id).mode == Mode.HUMAN
