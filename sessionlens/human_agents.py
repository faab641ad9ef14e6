"""The Human Agents workspace: handed-over conversations that wait for, or are worked by, a person.

A conversation is a session in human or copilot mode that is not finished. Accepting one is a
single conditional UPDATE checked by its row count, as handing over is: of any number of operators
who accept at once exactly one becomes the assignee and one marker is written; the others are told
who took it. Only the assignee replies; a reply is a human-agent message with delivery status
"queued", which the agent runtime delivers (and reports back) through the HTTP API. Resolving writes
the spec's marker and finishes the session.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import ColumnElement, and_, func, or_, select, true, update
from sqlalchemy.orm import Session, aliased

from db.engine import rowcount
from db.models import Agent, ChatSession, Customer, Handoff, Message, User
from sessionlens import access, audit, logs, statuses, strict
from sessionlens.customers import ANONYMOUS
from sessionlens.errors import NotFound, PermissionDenied, RuleViolation
from sessionlens.kinds import AuthorKind, Mode, Role, SystemEvent
from sessionlens.messages import append_marker, append_message
from sessionlens.permissions import Action, Actor, require

Show = Literal["all", "mine", "unassigned"] | int  # an int: a teammate's user id
MAX_REPLY = 10_000

OPEN = and_(ChatSession.mode != Mode.AI, ChatSession.finished_at.is_(None))


@dataclass(frozen=True)
class Card:
    id: int
    channel: str
    customer: str
    agent: str
    assignee_id: int | None
    assignee: str | None
    assignee_avatar: str | None
    unread: int  # customer messages since the last human-agent message
    last_message_at: dt.datetime


@dataclass(frozen=True)
class Teammate:
    id: int
    name: str


def waiting(db: Session, *, actor: Actor) -> int:
    """How many conversations wait with nobody assigned (the navigation's count)."""
    require(actor, Action.VIEW_SESSIONS)
    return (
        db.scalar(
            select(func.count())
            .select_from(ChatSession)
            .where(
                ChatSession.tenant_id == actor.tenant_id,
                OPEN,
                ChatSession.assigned_user_id.is_(None),
            )
        )
        or 0
    )


LIST_LIMIT = 200


def _shown(actor: Actor, show: Show) -> ColumnElement[bool]:
    """The condition of the list's "Show" choice."""
    if show == "mine":
        return ChatSession.assigned_user_id == actor.user_id
    if show == "unassigned":
        return ChatSession.assigned_user_id.is_(None)
    if isinstance(show, int):
        return ChatSession.assigned_user_id == show
    return true()


def _may_steer(actor: Actor, cs: ChatSession, what: str) -> None:
    """The assignee steers a conversation; an admin or lead may step in."""
    if cs.assigned_user_id != actor.user_id and actor.role not in (Role.ADMIN, Role.LEAD):
        raise PermissionDenied(f"Only the assigned human agent can {what}")


def conversations(
    db: Session, *, actor: Actor, show: Show = "all", limit: int = LIST_LIMIT
) -> list[Card]:
    """The open conversations of the tenant, newest activity first (the first ``limit``; the
    group counts come from ``group_counts``)."""
    require(actor, Action.VIEW_SESSIONS)
    assignee = aliased(User)
    last_human = (
        select(func.max(Message.seq))
        .where(Message.session_id == ChatSession.id, Message.author_kind == AuthorKind.HUMAN)
        .correlate(ChatSession)
        .scalar_subquery()
    )
    unread = (
        select(func.count())
        .select_from(Message)
        .where(
            Message.session_id == ChatSession.id,
            Message.author_kind == AuthorKind.CUSTOMER,
            Message.seq > func.coalesce(last_human, 0),
        )
        .correlate(ChatSession)
        .scalar_subquery()
    )
    stmt = (
        select(
            ChatSession.id,
            ChatSession.channel,
            Customer.name,
            Agent.name,
            ChatSession.assigned_user_id,
            assignee.name,
            assignee.avatar,
            unread,
            ChatSession.last_message_at,
        )
        .join(Agent, Agent.id == ChatSession.agent_id)
        .outerjoin(Customer, Customer.id == ChatSession.customer_id)
        .outerjoin(assignee, assignee.id == ChatSession.assigned_user_id)
        .where(ChatSession.tenant_id == actor.tenant_id, OPEN)
    )
    stmt = stmt.where(_shown(actor, show))
    rows = db.execute(
        stmt.order_by(ChatSession.last_message_at.desc(), ChatSession.id.desc()).limit(limit)
    )
    return [
        Card(r[0], r[1], r[2] or ANONYMOUS, r[3], r[4], r[5], r[6], r[7] or 0, r[8]) for r in rows
    ]


def group_counts(
    db: Session, *, actor: Actor, by: Literal["agent", "human"], show: Show = "all"
) -> dict[str, int]:
    """How many open conversations each group holds (by AI agent, or by assignee with
    "Unassigned"), whatever the list shows."""
    require(actor, Action.VIEW_SESSIONS)
    key = Agent.name if by == "agent" else func.coalesce(User.name, "Unassigned")
    stmt = select(key, func.count()).select_from(ChatSession)
    stmt = (
        stmt.join(Agent, Agent.id == ChatSession.agent_id)
        if by == "agent"
        else stmt.outerjoin(User, User.id == ChatSession.assigned_user_id)
    )
    stmt = stmt.where(ChatSession.tenant_id == actor.tenant_id, OPEN)
    stmt = stmt.where(_shown(actor, show))
    return {str(k): n for k, n in db.execute(stmt.group_by(key))}


def teammates(db: Session, *, actor: Actor) -> list[Teammate]:
    """The tenant's active human agents (whom a conversation can be assigned to)."""
    require(actor, Action.VIEW_SESSIONS)
    rows = db.execute(
        select(User.id, User.name)
        .where(User.tenant_id == actor.tenant_id, User.is_human_agent, User.is_active)
        .order_by(User.name)
    )
    return [Teammate(i, n) for i, n in rows]


#: A human agent is online while a Human Agents page of theirs checked in this recently. A page
#: checks in every ``CHECK_IN_EVERY`` (a tab in the background too: browsers slow its timers to
#: once a minute at worst, within this window).
ONLINE = dt.timedelta(seconds=90)
CHECK_IN_EVERY = dt.timedelta(seconds=30)


def check_in(db: Session, *, actor: Actor, now: dt.datetime) -> None:
    """The actor has the Human Agents workspace open: they count as online for ``ONLINE``. A
    write at most every ``CHECK_IN_EVERY`` per user, whatever the number of their open tabs.
    Those who may not work conversations (viewers) are never online here."""
    require(actor, Action.WORK_CONVERSATIONS)
    mine = (User.id == actor.user_id, User.tenant_id == actor.tenant_id)
    stale = or_(User.workspace_seen_at.is_(None), User.workspace_seen_at < now - CHECK_IN_EVERY)
    # Read first: most page runs find a recent check-in, and an UPDATE that changes nothing
    # would still take SQLite's write lock from the worker writing a transcript.
    if db.scalar(select(User.id).where(*mine, stale)) is not None:
        db.execute(update(User).where(*mine, stale).values(workspace_seen_at=now))


def back_to_the_queue(db: Session, *, tenant_id: int, user: User, by: str, now: dt.datetime) -> int:
    """The open conversations ``user`` holds go back to the queue, unassigned, each with a line
    in its System Logs; how many. For a deactivation (``admin.set_active``, the command line),
    whose caller has checked its rights: nobody could answer them otherwise, since only the
    assignee replies, and "Unassigned" is where a teammate looks for work."""
    held = list(
        db.scalars(
            select(ChatSession.id).where(
                ChatSession.tenant_id == tenant_id, ChatSession.assigned_user_id == user.id, OPEN
            )
        )
    )
    if held:
        db.execute(
            update(ChatSession).where(ChatSession.id.in_(held)).values(assigned_user_id=None)
        )
    for session_id in held:
        logs.append_system(
            db,
            tenant_id=tenant_id,
            session_id=session_id,
            at=now,
            text=f"Back in the Human Agents queue: {user.name} was deactivated by {by}",
        )
    return len(held)


def online(db: Session, *, actor: Actor, now: dt.datetime) -> list[Teammate]:
    """The tenant's active human agents who have the Human Agents workspace open now, by name:
    whom a handed-over session can expect to be picked up by."""
    require(actor, Action.VIEW_SESSIONS)
    rows = db.execute(
        select(User.id, User.name)
        .where(
            User.tenant_id == actor.tenant_id,
            User.is_human_agent,
            User.is_active,
            User.workspace_seen_at >= now - ONLINE,
        )
        .order_by(User.name)
    )
    return [Teammate(i, n) for i, n in rows]


def holder(db: Session, *, actor: Actor, session_id: int) -> int | None:
    """The user id of the conversation's assignee (None: nobody yet)."""
    return access.session(db, actor, session_id).assigned_user_id


def signature(
    db: Session, *, actor: Actor, open_session: int | None = None
) -> dict[Hashable, object]:
    """Changes when a conversation arrives, leaves, changes hands or gets a message, and when the
    open one gets anything at all (a Copilot draft, a note, a marker). Keyed as ``live.signature``
    explains: opening another conversation is a new key, not a change."""
    require(actor, Action.VIEW_SESSIONS)
    row = db.execute(
        select(
            func.count(),
            func.max(ChatSession.last_message_at),
            func.sum(ChatSession.id * 7 + func.coalesce(ChatSession.assigned_user_id, 0)),
            func.sum(ChatSession.message_count),
        ).where(ChatSession.tenant_id == actor.tenant_id, OPEN)
    ).one()
    if not open_session:
        return {"queue": tuple(row)}
    newest = db.scalar(
        select(func.max(Message.seq)).where(
            Message.tenant_id == actor.tenant_id, Message.session_id == open_session
        )
    )
    return {"queue": tuple(row), f"conversation {open_session}": newest}


def _handoff(db: Session, session_id: int) -> Handoff | None:
    """The session's current handoff record (the newest)."""
    return db.scalar(
        select(Handoff).where(Handoff.session_id == session_id).order_by(Handoff.id.desc()).limit(1)
    )


def _open(db: Session, actor: Actor, session_id: int) -> ChatSession:
    cs = access.session(db, actor, session_id, for_update=True)
    if cs.mode == Mode.AI or cs.finished_at is not None:
        raise RuleViolation("This conversation is not waiting for a human agent any more")
    return cs


def accept(db: Session, *, actor: Actor, session_id: int, now: dt.datetime) -> None:
    """Assign the conversation to the actor, if nobody has it yet."""
    require(actor, Action.WORK_CONVERSATIONS)
    me = db.get_one(User, actor.user_id)
    if not me.is_human_agent:
        raise PermissionDenied("You are not a human agent: ask an admin to make you one")
    took = rowcount(
        db.execute(
            update(ChatSession)
            .where(
                ChatSession.tenant_id == actor.tenant_id,
                ChatSession.id == session_id,
                OPEN,
                ChatSession.assigned_user_id.is_(None),
            )
            .values(assigned_user_id=actor.user_id)
            .execution_options(synchronize_session=False)
        )
    )
    cs = access.session(db, actor, session_id)
    if not took:
        if cs.mode == Mode.AI or cs.finished_at is not None:
            raise RuleViolation("This conversation is not waiting for a human agent any more")
        holder = db.get(User, cs.assigned_user_id) if cs.assigned_user_id else None
        raise RuleViolation(
            f"{holder.name if holder else 'Someone'} already took this conversation"
        )
    append_marker(db, cs, SystemEvent.ASSIGNED, {"name": actor.name}, at=now)
    logs.append_system(
        db,
        tenant_id=cs.tenant_id,
        session_id=cs.id,
        at=now,
        text=f"Accepted by human agent {actor.name}",
    )
    record = _handoff(db, cs.id)
    if record is not None and record.accepted_at is None:
        record.accepted_at, record.accepted_by = now, actor.user_id
    audit.record(db, actor, "conversation_accepted", "session", cs.id, now=now)


def assign(db: Session, *, actor: Actor, session_id: int, user_id: int, now: dt.datetime) -> None:
    """Give the conversation to a teammate (or take it over from one)."""
    require(actor, Action.WORK_CONVERSATIONS)
    mate = db.scalar(
        select(User).where(
            User.tenant_id == actor.tenant_id,
            User.id == user_id,
            User.is_human_agent,
            User.is_active,
        )
    )
    if mate is None:
        raise NotFound(f"Human agent {user_id} not found")
    cs = _open(db, actor, session_id)
    if cs.assigned_user_id == mate.id:
        return
    before = cs.assigned_user_id
    cs.assigned_user_id = mate.id
    record = _handoff(db, cs.id)
    if record is not None:
        if record.accepted_at is None:
            record.accepted_at, record.accepted_by = now, mate.id
        else:
            record.reassignments += 1
    append_marker(db, cs, SystemEvent.ASSIGNED, {"name": mate.name, "by": actor.name}, at=now)
    audit.record(
        db,
        actor,
        "conversation_assigned",
        "session",
        cs.id,
        now=now,
        to=mate.id,
        **({"from": before} if before else {}),
    )


def reply(db: Session, *, actor: Actor, session_id: int, text: str, now: dt.datetime) -> int:
    """A message from the assignee to the customer, queued for the agent runtime to deliver."""
    require(actor, Action.WORK_CONVERSATIONS)
    body = strict.text(text, "The reply", max_len=MAX_REPLY, multiline=True, required=True)
    cs = _open(db, actor, session_id)
    if cs.assigned_user_id != actor.user_id:
        raise PermissionDenied("Only the assigned human agent can reply: accept it first")
    msg = append_message(
        db,
        cs,
        author_kind=AuthorKind.HUMAN,
        text=body,
        sent_at=now,
        author_user_id=actor.user_id,
        delivery_status="queued",
    )
    record = _handoff(db, cs.id)
    if record is not None and record.first_reply_at is None:
        record.first_reply_at = now
    return msg.id


def set_copilot(db: Session, *, actor: Actor, session_id: int, on: bool, now: dt.datetime) -> None:
    """Copilot mode on or off: while on, the agent runtime posts drafts for the human agent. It
    never hands the conversation back to the AI."""
    require(actor, Action.WORK_CONVERSATIONS)
    cs = _open(db, actor, session_id)
    _may_steer(actor, cs, "switch Copilot")
    mode = Mode.COPILOT if on else Mode.HUMAN
    if cs.mode == mode:
        return
    cs.mode = mode
    logs.append_system(
        db,
        tenant_id=cs.tenant_id,
        session_id=cs.id,
        at=now,
        text=f"Copilot {'on' if on else 'off'} ({actor.name})",
    )
    audit.record(db, actor, "copilot_switched", "session", cs.id, now=now, on=on)


def note(db: Session, *, actor: Actor, session_id: int, text: str, now: dt.datetime) -> None:
    """A private note for colleagues; never delivered to the customer."""
    require(actor, Action.WORK_CONVERSATIONS)
    body = strict.text(text, "The note", max_len=MAX_REPLY, multiline=True, required=True)
    cs = _open(db, actor, session_id)
    append_message(
        db,
        cs,
        author_kind=AuthorKind.PRIVATE_NOTE,
        text=body,
        sent_at=now,
        author_user_id=actor.user_id,
    )


def resolve(db: Session, *, actor: Actor, session_id: int, now: dt.datetime) -> None:
    """Close an assigned conversation: the spec's marker, and the session finishes. The assignee
    resolves; an admin or lead may too."""
    require(actor, Action.WORK_CONVERSATIONS)
    cs = _open(db, actor, session_id)
    if cs.assigned_user_id is None:
        raise RuleViolation("Accept or assign the conversation before resolving it")
    _may_steer(actor, cs, "resolve this conversation")
    append_marker(db, cs, SystemEvent.RESOLVED, {"name": actor.name}, at=now)
    cs.finished_at = now
    record = _handoff(db, cs.id)
    if record is not None:
        record.resolved_at, record.resolved_by = now, actor.user_id
    if "resolved" in statuses.of_tenant(db, cs.tenant_id):
        cs.status = "resolved"
    logs.append_system(
        db,
        tenant_id=cs.tenant_id,
        session_id=cs.id,
        at=now,
        text=f"Resolved by human agent {actor.name}",
    )
    audit.record(db, actor, "conversation_resolved", "session", cs.id, now=now)


# --- delivery back to the customer: the agent runtime's outbox ------------------------------------


@dataclass(frozen=True)
class OutboxItem:
    id: int
    session_external_id: str | None
    channel: str
    text: str
    author_name: str | None
    sent_at: dt.datetime


DELIVERY = ("sent", "delivered", "read", "failed")


def outbox(db: Session, *, actor: Actor, after: int = 0, limit: int = 100) -> list[OutboxItem]:
    """Human-agent replies of the tenant still waiting for delivery, oldest first, after the
    message id ``after`` (a runtime polls with the last id it saw)."""
    require(actor, Action.VIEW_SESSIONS)
    rows = db.execute(
        select(
            Message.id,
            ChatSession.external_id,
            ChatSession.channel,
            Message.text,
            User.name,
            Message.sent_at,
        )
        .join(ChatSession, ChatSession.id == Message.session_id)
        .outerjoin(User, User.id == Message.author_user_id)
        .where(
            Message.tenant_id == actor.tenant_id,
            Message.author_kind == AuthorKind.HUMAN,
            Message.delivery_status == "queued",
            Message.id > after,
        )
        .order_by(Message.id)
        .limit(max(1, min(limit, 1000)))
    )
    return [OutboxItem(*r) for r in rows]


def report_delivery(
    db: Session,
    *,
    actor: Actor,
    message_id: int,
    status: str,
    note: str | None,
    at: dt.datetime,
) -> None:
    """What the provider said about a reply: sent, delivered, read or failed (with its note)."""
    require(actor, Action.IMPORT)
    status = strict.choice(status, "status", set(DELIVERY), noun="delivery status")
    msg = db.scalar(
        select(Message).where(
            Message.tenant_id == actor.tenant_id,
            Message.id == message_id,
            Message.author_kind == AuthorKind.HUMAN,
        )
    )
    if msg is None:
        raise NotFound(f"Message {message_id} not found")
    msg.delivery_status = status
    msg.delivery_at = at
    msg.delivery_note = (note or "")[:500] or None
