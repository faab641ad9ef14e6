"""Handing an active AI session over to the human agents' queue."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update
from sqlalchemy.orm import Session

from db.engine import rowcount
from db.models import ChatSession, Handoff, Mode, SystemEvent
from sessionlens import access, audit, logs
from sessionlens.errors import RuleViolation
from sessionlens.kinds import Channel, HandoffTrigger
from sessionlens.messages import append_marker
from sessionlens.permissions import Action, Actor, can, require
from sessionlens.sessions import SessionRow

FINISHED = "Session is already finished"
HANDLED = "Session is already handled by an operator"
NO_PERMISSION = "You do not have permission to hand over sessions"
# The spec: "For the Intercom channel, handover is controlled by the Assignee field in Intercom
# itself". A handover from the console would leave Intercom's assignee on the bot; the agent
# runtime reports an assignee change through the API instead (ingest.intercom_assignee).
INTERCOM = (
    "Intercom sessions are handed over in Intercom: assign the conversation to a person there"
)


def _state_rule(
    finished_at: dt.datetime | None, mode: str, channel: str, trigger: str
) -> str | None:
    """Why a session in this state cannot be handed over by ``trigger``; None if it can."""
    if finished_at is not None:
        return FINISHED
    if mode != Mode.AI:
        return HANDLED
    if channel == Channel.INTERCOM and trigger == HandoffTrigger.MANUAL:
        return INTERCOM
    return None


def blocked_reason(row: SessionRow, actor: Actor) -> str | None:
    """Why the Hand over button is disabled for ``actor``, in the spec's words; None if enabled."""
    if reason := _state_rule(row.finished_at, row.mode, row.channel, HandoffTrigger.MANUAL):
        return reason
    return None if can(actor, Action.HAND_OVER) else NO_PERMISSION


def hand_over(
    db: Session,
    *,
    actor: Actor,
    session_id: int,
    now: dt.datetime,
    trigger: str = HandoffTrigger.MANUAL,
    reason: str | None = None,
) -> None:
    """Move the session to human mode: the AI stops answering and human agents see it queued.
    A person cannot hand over an Intercom session (``INTERCOM``); the runtime can.

    Writes the "Transfer to human agent" marker, a system log line, an audit event and the
    handoff record (``trigger``: a ``HandoffTrigger``; ``reason``).
    """
    require(actor, Action.HAND_OVER)
    # One conditional UPDATE is the transition, on both backends: Postgres locks the row and
    # re-checks the condition after a concurrent commit; SQLite's single writer does the same by
    # serialising writers (SELECT ... FOR UPDATE would do nothing there). Of any number of
    # simultaneous clicks exactly one changes a row; the others read the new state and refuse.
    handable = [
        ChatSession.tenant_id == actor.tenant_id,
        ChatSession.id == session_id,
        ChatSession.mode == Mode.AI,
        ChatSession.finished_at.is_(None),
    ]
    if trigger == HandoffTrigger.MANUAL:
        handable.append(ChatSession.channel != Channel.INTERCOM)  # INTERCOM: not from the console
    moved = rowcount(db.execute(update(ChatSession).where(*handable).values(mode=Mode.HUMAN)))
    cs = access.session(db, actor, session_id)
    if not moved:
        raise RuleViolation(_state_rule(cs.finished_at, cs.mode, cs.channel, trigger) or HANDLED)
    append_marker(db, cs, SystemEvent.TRANSFER, {"by": actor.name}, at=now)
    logs.append_system(
        db,
        tenant_id=cs.tenant_id,
        session_id=cs.id,
        at=now,
        text=f"Handover: session set to operator by {actor.name} ({trigger})",
    )
    db.add(
        Handoff(
            tenant_id=cs.tenant_id,
            session_id=cs.id,
            agent_id=cs.agent_id,
            trigger=trigger,
            reason=reason or None,
            requested_at=now,
            reassignments=0,
        )
    )
    audit.record(db, actor, "hand_over", "chat_session", cs.id, now=now, trigger=trigger)
    db.flush()
