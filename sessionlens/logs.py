"""A session's logs: system lifecycle lines and, on paid plans, the LLM trace calls.

Logs can be megabytes per session, so they are paged and searched in the database: a search
returns, per matching entry, how many times the term occurs (counted in SQL), and only the entry
on screen is fetched whole.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, String, case, cast, func, literal, select
from sqlalchemy.orm import Session

from db.models import LogKind, Plan, SessionLog, Tenant
from sessionlens import access
from sessionlens.errors import PermissionDenied
from sessionlens.permissions import Action, Actor, require
from sessionlens.trace_text import ParsedCall, format_call, parse_trace

TRACES_PAID_ONLY = "Trace Logs are available on paid plans"


@dataclass(frozen=True)
class LogEntry:
    """One stored log row: a system line, or a trace entry holding one or more calls."""

    id: int
    number: int  # 1-based position in the tab
    at: dt.datetime
    level: str
    text: str
    calls: list[ParsedCall]  # trace entries only
    message_id: int | None

    def as_text(self) -> str:
        """The entry as the tab shows and copies it; search counts occurrences in exactly this."""
        if self.calls and self.calls[0].parsed and not self.text:
            return format_call(self.calls[0])  # a structured call
        return self.text


@dataclass(frozen=True)
class Match:
    entry_id: int
    count: int


def append_system(
    db: Session,
    *,
    tenant_id: int,
    session_id: int,
    at: dt.datetime,
    text: str,
    level: str = "INFO",
) -> None:
    """Add one line to a session's System Logs (opening, handover, import, transcription...).

    The caller has checked the actor may write to this session; the caller commits."""
    db.add(
        SessionLog(
            tenant_id=tenant_id,
            session_id=session_id,
            kind=LogKind.SYSTEM,
            at=at,
            level=level,
            text=text,
        )
    )


def traces_available(db: Session, *, actor: Actor) -> bool:
    return db.get_one(Tenant, actor.tenant_id).plan == Plan.PAID


def first_tab(db: Session, session_id: int, *, actor: Actor) -> LogKind:
    """The tab the Logs drawer opens on: Trace Logs on a paid plan when the session has a trace
    call, else System Logs (a call recording's or a plain runtime's session has only those,
    and opening on an empty "No logs found" hid them)."""
    _check(db, session_id, LogKind.SYSTEM, actor)
    if not traces_available(db, actor=actor):
        return LogKind.SYSTEM
    traced = db.scalar(
        select(SessionLog.id).where(*_scope(actor, session_id, LogKind.TRACE)).limit(1)
    )
    return LogKind.SYSTEM if traced is None else LogKind.TRACE


def _check(db: Session, session_id: int, kind: LogKind, actor: Actor) -> None:
    require(actor, Action.VIEW_SESSIONS)
    if kind == LogKind.TRACE:
        require(actor, Action.VIEW_TRACES)
        if not traces_available(db, actor=actor):
            raise PermissionDenied(TRACES_PAID_ONLY)
    access.session(db, actor, session_id)


def _scope(actor: Actor, session_id: int, kind: LogKind) -> tuple[ColumnElement[bool], ...]:
    return (
        SessionLog.tenant_id == actor.tenant_id,
        SessionLog.session_id == session_id,
        SessionLog.kind == kind,
    )


def entry_ids(db: Session, session_id: int, kind: LogKind, *, actor: Actor) -> list[int]:
    """The ids of the tab's entries in display order (small: one integer per entry)."""
    _check(db, session_id, kind, actor)
    return list(
        db.scalars(
            select(SessionLog.id)
            .where(*_scope(actor, session_id, kind))
            .order_by(SessionLog.at, SessionLog.id)
        )
    )


def entries(
    db: Session,
    session_id: int,
    kind: LogKind,
    ids: list[int],
    *,
    actor: Actor,
    numbers: dict[int, int],
) -> list[LogEntry]:
    """The entries with these ids (one page), whole, in display order."""
    _check(db, session_id, kind, actor)
    if not ids:
        return []
    rows = db.scalars(
        select(SessionLog)
        .where(*_scope(actor, session_id, kind), SessionLog.id.in_(ids))
        .order_by(SessionLog.at, SessionLog.id)
    )
    return [_entry(r, numbers.get(r.id, 0)) for r in rows]


def list_logs(db: Session, session_id: int, kind: LogKind, *, actor: Actor) -> list[LogEntry]:
    """Every entry of a tab (for small logs, exports and tests)."""
    ids = entry_ids(db, session_id, kind, actor=actor)
    return entries(
        db, session_id, kind, ids, actor=actor, numbers={i: n for n, i in enumerate(ids, 1)}
    )


def search(db: Session, session_id: int, kind: LogKind, term: str, *, actor: Actor) -> list[Match]:
    """Entries containing ``term`` (literal, case-insensitive) with their number of occurrences,
    counted by the database; the log text itself never leaves it."""
    _check(db, session_id, kind, actor)
    if not term:
        return []
    needle = literal(term.lower(), String)
    # Lower-case each entry once (OFFSET 0 keeps Postgres from inlining it into every use).
    lowered = (
        select(SessionLog.id, SessionLog.at, func.lower(_searchable()).label("h"))
        .where(*_scope(actor, session_id, kind))
        .offset(0)
        .subquery()
    )
    occurrences = (
        func.length(lowered.c.h) - func.length(func.replace(lowered.c.h, needle, ""))
    ) / len(term.lower())
    counted = select(lowered.c.id, lowered.c.at, occurrences.label("n")).offset(0).subquery()
    rows = db.execute(
        select(counted.c.id, counted.c.n)
        .where(counted.c.n > 0)
        .order_by(counted.c.at, counted.c.id)
    )
    return [Match(i, int(n)) for i, n in rows]


def trace_for_message(db: Session, session_id: int, message_id: int, *, actor: Actor) -> int | None:
    """The trace entry of session ``session_id`` that generated an AI message, if it has one.
    (By session first: the logs are indexed by session and kind, not by message.)"""
    require(actor, Action.VIEW_TRACES)
    if not traces_available(db, actor=actor):
        return None
    return db.scalar(
        select(SessionLog.id)
        .where(*_scope(actor, session_id, LogKind.TRACE), SessionLog.message_id == message_id)
        .limit(1)
    )


def traced_messages(
    db: Session, session_id: int, message_ids: list[int], *, actor: Actor
) -> set[int]:
    """Which of these AI messages of session ``session_id`` have a trace entry (for the chat's
    "View trace" buttons). One index range, the session's trace calls: asked by message id
    alone, Postgres read every log line of every session (a million sessions: all of them)."""
    if not message_ids or not traces_available(db, actor=actor):
        return set()
    return set(
        db.scalars(
            select(SessionLog.message_id).where(
                *_scope(actor, session_id, LogKind.TRACE),
                SessionLog.message_id.in_(message_ids),
            )
        )
    )


def _searchable() -> ColumnElement[str]:
    """LogEntry.as_text() in SQL: a structured call in its raw form, else the stored text."""
    s = SessionLog
    structured = (
        literal("Agent: ")
        + func.coalesce(s.agent_name, "")
        + "\nPrompt:\n"
        + func.coalesce(s.prompt, "")
        + "\nGeneration:\nAction: "
        + func.coalesce(s.action, "")
        + "\nAction Input: "
        + func.coalesce(s.action_input, "")
    )
    return case(
        (
            (s.kind == LogKind.TRACE)
            & ((s.prompt.is_not(None)) | (s.action.is_not(None)))
            & (func.coalesce(s.text, "") == ""),
            structured,
        ),
        else_=cast(func.coalesce(s.text, ""), String),
    )


def _entry(r: SessionLog, number: int) -> LogEntry:
    calls: list[ParsedCall] = []
    if r.kind == LogKind.TRACE:
        if r.prompt is not None or r.action is not None:
            calls = [ParsedCall(r.agent_name, r.prompt, r.action, r.action_input)]
        calls += parse_trace(r.text) if r.text else []
    return LogEntry(r.id, number, r.at, r.level, r.text, calls, r.message_id)


def full_text(
    db: Session, session_id: int, kind: LogKind, *, actor: Actor, max_chars: int | None = None
) -> str | None:
    """The whole tab as text (what Copy copies); None if it is longer than ``max_chars``."""
    _check(db, session_id, kind, actor)
    size = db.scalar(
        select(func.coalesce(func.sum(func.length(_searchable())), 0)).where(
            *_scope(actor, session_id, kind)
        )
    )
    if max_chars is not None and (size or 0) > max_chars:
        return None
    sep = "\n#######\n" if kind == LogKind.TRACE else "\n"
    rows = db.execute(
        select(SessionLog.at, SessionLog.level, _searchable())
        .where(*_scope(actor, session_id, kind))
        .order_by(SessionLog.at, SessionLog.id)
    )
    if kind == LogKind.TRACE:
        return sep.join(text for _, _, text in rows)
    return sep.join(f"{at.isoformat()} {level} {text}" for at, level, text in rows)
