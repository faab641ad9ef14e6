"""A session's logs: system lifecycle lines and, on paid plans, the LLM trace calls."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import ChatSession, LogKind, Plan, SessionLog, Tenant
from sessionlens.errors import NotFound, PermissionDenied
from sessionlens.permissions import Action, Actor, require

TRACES_PAID_ONLY = "Trace Logs are available on paid plans"


@dataclass(frozen=True)
class LogEntry:
    at: dt.datetime
    level: str
    text: str
    agent_name: str | None
    prompt: str | None
    action: str | None
    action_input: str | None


def traces_available(db: Session, *, actor: Actor) -> bool:
    return db.get_one(Tenant, actor.tenant_id).plan == Plan.PAID


def list_logs(db: Session, session_id: int, kind: LogKind, *, actor: Actor) -> list[LogEntry]:
    """The session's log entries of one kind, oldest first. Trace reads need a paid plan."""
    require(actor, Action.VIEW_SESSIONS)
    if kind == LogKind.TRACE:
        require(actor, Action.VIEW_TRACES)
        if not traces_available(db, actor=actor):
            raise PermissionDenied(TRACES_PAID_ONLY)
    exists = db.scalar(
        select(ChatSession.id).where(
            ChatSession.tenant_id == actor.tenant_id, ChatSession.id == session_id
        )
    )
    if exists is None:
        raise NotFound(f"Session {session_id} not found")
    rows = db.execute(
        select(
            SessionLog.at,
            SessionLog.level,
            SessionLog.text,
            SessionLog.agent_name,
            SessionLog.prompt,
            SessionLog.action,
            SessionLog.action_input,
        )
        .where(
            SessionLog.tenant_id == actor.tenant_id,
            SessionLog.session_id == session_id,
            SessionLog.kind == kind,
        )
        .order_by(SessionLog.at, SessionLog.id)
    ).all()
    return [LogEntry(*r) for r in rows]
