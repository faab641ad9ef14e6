"""SessionFilter: the one description of a filter set, turned into SQL conditions. Pure.

The page builds it from widgets or the URL; the list, the export and the tests all use it.
Filters combine with AND. Date bounds are aware datetimes: start inclusive, end exclusive.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, or_, true

from db.models import ChatSession, Mode
from sessionlens.search import TextMatch, TextQuery


class Responsible(enum.StrEnum):
    HUMAN = "human"
    AI = "ai"


class Compare(enum.StrEnum):
    EQ = "Equal"
    NE = "Not Equal"
    GT = "More Than"
    LT = "Less Than"
    GE = "More Than or Equal"
    LE = "Less Than or Equal"


@dataclass(frozen=True)
class SessionFilter:
    agent_ids: tuple[int, ...] = ()
    channels: tuple[str, ...] = ()
    responsible: Responsible | None = None
    human_agent_ids: tuple[int, ...] = ()
    customer_ids: tuple[int, ...] = ()
    statuses: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    ip: str | None = None
    started_from: dt.datetime | None = None
    started_to: dt.datetime | None = None
    finished_from: dt.datetime | None = None
    finished_to: dt.datetime | None = None
    last_message_from: dt.datetime | None = None
    last_message_to: dt.datetime | None = None
    messages_op: Compare | None = None
    messages_count: int | None = None
    has_attachments: bool = False
    # Words said in the session (sessionlens.search); combines with the rest by AND.
    text: TextQuery | None = None
    # Result fields of which at least one is not collected (None, "" or []); ``missing_any``: the
    # user asked for "any configured field", and these are the tenant's fields at the time.
    missing_results: tuple[str, ...] = ()
    missing_any: bool = False

    def conditions(self) -> ColumnElement[bool]:
        s = ChatSession
        conds: list[ColumnElement[bool]] = []
        if self.agent_ids:
            conds.append(s.agent_id.in_(self.agent_ids))
        if self.channels:
            conds.append(s.channel.in_(self.channels))
        if self.responsible is Responsible.AI:
            conds.append(s.mode == Mode.AI)
        elif self.responsible is Responsible.HUMAN:
            conds.append(s.mode != Mode.AI)
        if self.human_agent_ids:
            conds.append(s.assigned_user_id.in_(self.human_agent_ids))
        if self.customer_ids:
            conds.append(s.customer_id.in_(self.customer_ids))
        if self.statuses:
            conds.append(s.status.in_(self.statuses))
        if self.countries:
            conds.append(s.country.in_(self.countries))
        if self.ip:
            conds.append(s.ip == self.ip)
        for col, lo, hi in (
            (s.started_at, self.started_from, self.started_to),
            (s.finished_at, self.finished_from, self.finished_to),
            (s.last_message_at, self.last_message_from, self.last_message_to),
        ):
            if lo is not None:
                conds.append(col >= lo)
            if hi is not None:
                conds.append(col < hi)
                if col is not s.started_at:
                    # A session finishes and gets its last message no earlier than it starts, so
                    # this bound is implied; it lets the planner begin the walk of the started_at
                    # index at the range's end instead of at "now" (postgres-sessions.md, §4).
                    conds.append(s.started_at < hi)
        if self.messages_op is not None and self.messages_count is not None:
            conds.append(_compare(self.messages_op, self.messages_count))
        if self.has_attachments:
            conds.append(s.has_attachments.is_(True))
        if self.missing_results:
            conds.append(or_(*(_missing(key) for key in self.missing_results)))
        if self.text is not None:
            conds.append(TextMatch(self.text))
        return and_(true(), *conds)


def _missing(key: str) -> ColumnElement[bool]:
    """The session has not collected result ``key``: absent, null, empty text or empty list
    (what the Parameters & results panel shows as not collected)."""
    value = ChatSession.results[key].as_string()
    return or_(value.is_(None), value.in_(["", "[]"]))


def _compare(op: Compare, n: int) -> ColumnElement[bool]:
    col = ChatSession.message_count
    return {
        Compare.EQ: col == n,
        Compare.NE: col != n,
        Compare.GT: col > n,
        Compare.LT: col < n,
        Compare.GE: col >= n,
        Compare.LE: col <= n,
    }[op]
