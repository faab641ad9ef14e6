"""Reading sessions: the paged list of the Sessions table and one session with its chat and data.

Every read takes the acting user and is scoped by the actor's tenant before anything else.
The list pages by keyset on (sort column, id), newest first, and never counts.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import enum
import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, SQLColumnExpression, select, tuple_
from sqlalchemy.orm import Session, aliased

from db.models import Agent, ChatSession, Customer, Mode, Tenant, User
from sessionlens import filter_options, search
from sessionlens.chat import WINDOW, Conversation, conversation
from sessionlens.customers import Contact
from sessionlens.errors import BadInput, NotFound
from sessionlens.filters import SessionFilter
from sessionlens.permissions import Action, Actor, require

DEFAULT_PAGE_SIZE = 50


class SortKey(enum.StrEnum):
    STARTED = "started"
    LAST_MESSAGE = "last_message"

    @property
    def column(self) -> SQLColumnExpression[dt.datetime | None]:
        return ChatSession.started_at if self is SortKey.STARTED else ChatSession.last_message_at


@dataclass(frozen=True)
class SessionRow:
    """One line of the Sessions table."""

    id: int
    agent_name: str
    channel: str
    mode: str
    responsible_name: str | None
    responsible_avatar: str | None
    customer_id: int | None
    customer_name: str | None
    customer_external_id: str | None
    is_mobile: bool | None
    status: str
    started_at: dt.datetime
    last_message_at: dt.datetime
    message_count: int
    finished_at: dt.datetime | None
    ip: str | None
    country: str | None
    country_name: str | None
    city: str | None
    geo_note: str | None
    has_attachments: bool
    assigned_user_id: int | None

    @property
    def active(self) -> bool:
        return self.finished_at is None

    @property
    def responsible(self) -> str:
        """ "AI" while the agent handles it, the human agent's name after a handover, or "Unassigned"."""
        if self.mode == Mode.AI:
            return "AI"
        return self.responsible_name or "Unassigned"


@dataclass(frozen=True)
class Page:
    rows: list[SessionRow]
    next_cursor: str | None  # None when there is nothing older


def encode_cursor(sort: SortKey, value: dt.datetime, row_id: int) -> str:
    raw = json.dumps([sort.value, value.isoformat(), row_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: SortKey) -> tuple[dt.datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        kind, value, row_id = json.loads(raw)
        when = dt.datetime.fromisoformat(value)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise BadInput(f"Invalid page cursor {cursor!r}") from exc
    if kind != sort.value or when.tzinfo is None or not isinstance(row_id, int):
        raise BadInput(f"Page cursor {cursor!r} does not belong to this sort order")
    return when, row_id


def _page_ids(
    actor: Actor,
    flt: SessionFilter,
    sort: SortKey,
    after: tuple[dt.datetime, int] | None,
    limit: int,
) -> Select[Any]:
    col = sort.column
    stmt = select(ChatSession.id).where(ChatSession.tenant_id == actor.tenant_id, flt.conditions())
    if after is not None:
        stmt = stmt.where(tuple_(col, ChatSession.id) < tuple_(*after))
    return stmt.order_by(col.desc(), ChatSession.id.desc()).limit(limit)


def list_page(
    db: Session,
    flt: SessionFilter,
    sort: SortKey = SortKey.STARTED,
    cursor: str | None = None,
    *,
    actor: Actor,
    limit: int = DEFAULT_PAGE_SIZE,
) -> Page:
    """One page of the actor's tenant's sessions matching ``flt``, newest first by ``sort``.

    A deferred join: the page's ids are chosen on the sessions indexes alone, then names are joined
    to those rows only. Pass the previous page's ``next_cursor`` to get the next older page.
    """
    require(actor, Action.VIEW_SESSIONS)
    if cursor is None:
        filter_options.check(db, flt, actor=actor)
    stmt = list_statement(actor, planned(db, flt), sort, cursor, limit + 1)
    rows = [SessionRow(*r) for r in db.execute(stmt)]
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        value = last.started_at if sort is SortKey.STARTED else last.last_message_at
        next_cursor = encode_cursor(sort, value, last.id)
    return Page(rows, next_cursor)


def planned(db: Session, flt: SessionFilter) -> SessionFilter:
    """``flt`` with what the database needs to plan its search well (``search.planned``)."""
    if flt.text is None:
        return flt
    return dataclasses.replace(flt, text=search.planned(db, flt.text))


def list_statement(
    actor: Actor, flt: SessionFilter, sort: SortKey, cursor: str | None, limit: int
) -> Select[Any]:
    """The SQL of one page (exposed so benchmarks can run the very same query as raw SQL)."""
    after = decode_cursor(cursor, sort) if cursor else None
    ids = _page_ids(actor, flt, sort, after, limit).subquery()
    return (
        _row_select()
        .join(ids, ids.c.id == ChatSession.id)
        .order_by(sort.column.desc(), ChatSession.id.desc())
    )


@functools.cache
def _row_select() -> Select[*tuple[Any, ...]]:
    """The columns of a SessionRow, in its field order, with the names joined in.

    Built once: statements are immutable, and building this one costs more than running a page.
    """
    s, human = ChatSession, aliased(User)
    return (
        select(
            s.id,
            Agent.name,
            s.channel,
            s.mode,
            human.name,
            human.avatar,
            s.customer_id,
            Customer.name,
            Customer.external_id,
            s.is_mobile,
            s.status,
            s.started_at,
            s.last_message_at,
            s.message_count,
            s.finished_at,
            s.ip,
            s.country,
            s.country_name,
            s.city,
            s.geo_note,
            s.has_attachments,
            s.assigned_user_id,
        )
        .select_from(s)
        .join(Agent, Agent.id == s.agent_id)
        .outerjoin(human, human.id == s.assigned_user_id)
        .outerjoin(Customer, Customer.id == s.customer_id)
    )


# --- one session ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResultEntry:
    label: str
    value: Any  # None when the agent has not collected it
    kind: str = "str"  # the field's type in the tenant's settings: str, int, date, datetime, ...
    choices: tuple[str, ...] = ()  # a choice field's choices

    @property
    def missing(self) -> bool:
        """Not collected: what the "Results missing" filter looks for."""
        return self.value is None or self.value == "" or self.value == []

    @property
    def wrong(self) -> str | None:
        """What is wrong with a collected value for its field's type ("not a whole number"), or
        None. The value is kept as the agent sent it: a lead checks results "for missing or wrong
        values" (the spec), and the panel marks this beside it."""
        if self.missing:
            return None
        return _wrong_for(self.kind, self.value, self.choices)


_WHOLE = re.compile(r"[+-]?[0-9]+")


def _iso(parse: Callable[[str], object], value: Any) -> bool:
    """Whether ``value`` is text that ``parse`` (an ISO 8601 reader) takes."""
    try:
        parse(value if isinstance(value, str) else "")
    except ValueError:
        return False
    return True


def _wrong_for(kind: str, value: Any, choices: tuple[str, ...]) -> str | None:
    match kind:
        case "int":
            fits = (
                (isinstance(value, int) and not isinstance(value, bool))
                or (isinstance(value, float) and value.is_integer())  # 120.0 from a JSON encoder
                or (isinstance(value, str) and _WHOLE.fullmatch(value.strip()) is not None)
            )
            return None if fits else "not a whole number"
        case "bool":
            return None if isinstance(value, bool) else "not yes or no"
        case "date":
            return None if _iso(dt.date.fromisoformat, value) else "not a date (YYYY-MM-DD)"
        case "datetime":
            return None if _iso(dt.datetime.fromisoformat, value) else "not a date and time"
        case "list":
            return None if isinstance(value, list) else "not a list"
        case "choice":
            if isinstance(value, str) and value in choices:
                return None
            return f"not one of {', '.join(choices)}"
        case _:
            return "not text" if isinstance(value, dict | list) else None


@dataclass(frozen=True)
class SessionDetail:
    row: SessionRow
    timezone: str
    plan: str
    contact: Contact | None
    parameters: dict[str, Any]
    results: list[ResultEntry]  # one per configured field, in the tenant's order
    conversation: Conversation

    @property
    def has_results(self) -> bool:
        return any(not r.missing for r in self.results)


def get_session(
    db: Session, session_id: int, *, actor: Actor, last_messages: int | None = WINDOW
) -> SessionDetail:
    """The session with its chat, contact, parameters and results; NotFound outside the tenant."""
    require(actor, Action.VIEW_SESSIONS)
    found = db.execute(
        _row_select()
        .add_columns(ChatSession.parameters, ChatSession.results)
        .where(ChatSession.tenant_id == actor.tenant_id, ChatSession.id == session_id)
    ).first()
    if found is None:
        raise NotFound(f"Session {session_id} not found")
    row, parameters, collected = SessionRow(*found[:-2]), found[-2], found[-1]
    tenant = db.get_one(Tenant, actor.tenant_id)
    contact = None
    if row.customer_id is not None:
        c = db.get_one(Customer, row.customer_id)
        contact = Contact(
            c.id, c.name, c.email, c.phone, c.telegram, c.whatsapp, c.linkedin, c.external_id
        )
    results = [
        ResultEntry(
            f.get("label") or f["key"],
            (collected or {}).get(f["key"]),
            f.get("type") or "str",
            tuple(f.get("choices") or ()),
        )
        for f in tenant.result_fields
    ]
    chat = conversation(db, row.id, actor=actor, last=last_messages)
    return SessionDetail(
        row,
        tenant.timezone,
        tenant.plan,
        contact,
        dict(parameters or {}),
        results,
        chat,
    )
