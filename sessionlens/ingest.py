"""Writing sessions that come from outside: the agent runtime's HTTP API and JSON import.

Every write is idempotent by the runtime's ids: a session by its ``external_id`` in the tenant, a
message by its ``external_id`` in the session, a log line by what it says and when. Sending the same
request or importing the same file twice changes nothing. A document or batch is written whole or
not at all (the caller's transaction), after it has been checked whole.

Messages of one batch are added with one lock on the session row, one ``max(seq)`` read and one
counter update, not one of each per message: a runtime sends them by the thousand.
"""

from __future__ import annotations

import codecs
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import (
    Connection,
    String,
    Table,
    Update,
    and_,
    bindparam,
    case,
    cast,
    func,
    insert,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Session

from db.models import (
    Agent,
    Attachment,
    ChatSession,
    Customer,
    Handoff,
    Message,
    SessionLog,
    User,
)
from sessionlens import (
    access,
    audit,
    bulk,
    exchange,
    handover,
    logs,
    media,
    metrics,
    search,
    statuses,
)
from sessionlens.customers import customer_name_key
from sessionlens.errors import NotFound, RuleViolation
from sessionlens.exchange import FieldsIn, FinishIn, HandoverIn, LogIn, MessageIn, SessionIn
from sessionlens.geo import Location
from sessionlens.kinds import AuthorKind, Channel, LogKind, Mode
from sessionlens.messages import COUNTED_KINDS
from sessionlens.permissions import Action, Actor, can, require
from sessionlens.search_tokens import SESSION_WORDS, document, tsvector_literal, words_literal
from sessionlens.wording import counted

Locate = Callable[[str | None], Location]
# Core inserts: the ORM's bulk path costs more per row than the database does.
MESSAGES: Table = Message.__table__  # type: ignore[assignment]
SESSIONS: Table = ChatSession.__table__  # type: ignore[assignment]


class SessionGone(Exception):
    """The session an append found was deleted (its customer erased) before the append got its
    row's lock."""


@dataclass(frozen=True)
class Written:
    session_id: int
    external_id: str
    created: bool
    messages_added: int
    messages_skipped: int
    logs_added: int
    #: Who drives the session once this write commits (``Mode``), and whether it is finished:
    #: the runtime learns from its own write whether its AI is to answer (``ai_answers``).
    mode: str
    finished: bool

    @property
    def ai_answers(self) -> bool:
        return ai_answers(self.mode, finished=self.finished)


def ai_answers(mode: str, *, finished: bool) -> bool:
    """Whether the agent runtime's AI is to answer in a session: not after a handover (a human
    or Copilot mode; an operator may have handed it over in the console) and not once finished."""
    return mode == Mode.AI and not finished


@dataclass(frozen=True)
class SessionState:
    """A session as the agent runtime asks for it (``GET /api/v1/sessions/{external_id}``)."""

    external_id: str
    agent: str
    channel: str
    status: str
    mode: str
    #: The human agent who has the conversation (their name), if one was assigned.
    assignee: str | None
    started_at: dt.datetime
    finished_at: dt.datetime | None
    last_message_at: dt.datetime
    message_count: int
    parameters: dict[str, Any]
    results: dict[str, Any]

    @property
    def ai_answers(self) -> bool:
        return ai_answers(self.mode, finished=self.finished_at is not None)


def state(db: Session, external_id: str, *, actor: Actor) -> SessionState:
    """The session of ``external_id`` (or the one that continues it after a human resolved it),
    as it is now; NotFound outside the tenant."""
    cs = find(db, actor, external_id)
    assignee = db.get(User, cs.assigned_user_id) if cs.assigned_user_id else None
    return SessionState(
        external_id=cs.external_id or external_id,
        agent=db.get_one(Agent, cs.agent_id).name,
        channel=cs.channel,
        status=cs.status,
        mode=cs.mode,
        assignee=assignee.name if assignee else None,
        started_at=cs.started_at,
        finished_at=cs.finished_at,
        last_message_at=cs.last_message_at,
        message_count=cs.message_count,
        parameters=cs.parameters or {},
        results=cs.results or {},
    )


def find(db: Session, actor: Actor, external_id: str, *, for_update: bool = False) -> ChatSession:
    """The tenant's session with this runtime id (or the newest session that continues it after a
    human resolved it), or NotFound (another tenant's looks missing)."""
    require(actor, Action.VIEW_SESSIONS)
    current = _current_id(db, actor, external_id)
    return access.session_by_external_id(db, actor, current, for_update=for_update)


def upsert_session(
    db: Session,
    doc: SessionIn,
    *,
    actor: Actor,
    now: dt.datetime,
    locate: Locate,
    agents: dict[str, int] | None = None,
    audit_each: bool = True,
    via: str = "api",
) -> Written:
    """Create the session ``doc`` describes, or bring the existing one of that id up to date: its
    fields are set from ``doc``, and the messages and logs it lacks are added. ``agents`` caches
    agent ids by name across the documents of one import; ``audit_each`` writes a
    ``session_created`` row per new session (a file import writes one row for the file)."""
    require(actor, Action.IMPORT)
    existing = db.scalar(
        select(ChatSession)
        .where(ChatSession.tenant_id == actor.tenant_id, ChatSession.external_id == doc.external_id)
        .with_for_update()
    )
    given = doc.model_fields_set
    status = stated_status(doc, statuses.of_tenant(db, actor.tenant_id))
    if existing is None or ("status" in given and existing.status != status):
        _check_status(db, actor, status)
    cache = agents if agents is not None else {}
    if doc.agent not in cache:
        cache[doc.agent] = access.agent_or_new(db, actor, doc.agent)
    agent_id = cache[doc.agent]
    created = existing is None
    # A customer without an external id is made once, with the session; later copies of the
    # document keep the session's customer.
    customer_id = (
        _customer(db, actor, doc)
        if existing is None or (doc.customer and doc.customer.external_id)
        else existing.customer_id
    )
    cs: ChatSession | Target
    if existing is None:
        # A new session is one INSERT with its counters already right (no ORM object, no
        # counter UPDATE): a file import makes hundreds of them.
        place = (locate(doc.ip) if doc.ip else Location()).columns()
        unique = [doc.messages[i] for i in _fresh(doc.messages, set())]
        n_counted, newest, with_files = _counts(unique, doc.started_at)
        sid = db.scalar(
            insert(SESSIONS)
            .values(
                tenant_id=actor.tenant_id,
                external_id=doc.external_id,
                agent_id=agent_id,
                channel=doc.channel,
                customer_id=customer_id,
                mode=doc.mode,
                initiator="client",
                status=status,
                started_at=doc.started_at,
                finished_at=doc.finished_at,
                last_message_at=newest,
                message_count=n_counted,
                has_attachments=with_files,
                ip=doc.ip,
                **place,
                parameters=doc.parameters,
                results=doc.results,
            )
            .returning(SESSIONS.c.id)
        )
        assert sid is not None
        cs = Target(sid, actor.tenant_id, doc.started_at)
    else:
        # Only the fields the document gives change (a late retry of the first document must not
        # undo a PATCH), and a finish is for good: a document without a finish time, or with a
        # null one, does not reopen a finished session.
        cs = existing
        for name, value, field in (
            ("agent_id", agent_id, "agent"),
            ("channel", doc.channel.value, "channel"),
            ("customer_id", customer_id, "customer"),
            ("status", status, "status"),
            ("finished_at", doc.finished_at, "finished_at"),
            ("parameters", doc.parameters, "parameters"),
            ("results", doc.results, "results"),
        ):
            if field not in given or (name == "finished_at" and value is None):
                continue
            if getattr(cs, name) != value:
                setattr(cs, name, value)
        if "ip" in given and doc.ip and doc.ip != cs.ip:  # known later (it was kept unset)
            cs.ip = doc.ip
            for name, value in locate(doc.ip).columns().items():
                setattr(cs, name, value)
    written = _with_start_marker(doc.messages, doc.started_at) if created else doc.messages
    added, skipped = add_messages(db, cs, written, new=created)
    added -= len(written) - len(doc.messages)  # the runtime is told of its own messages
    logs = add_logs(db, cs, doc.logs, new=created)
    if created and audit_each:
        audit.record(
            db,
            actor,
            "session_created",
            "session",
            cs.id,
            now=now,
            external_id=doc.external_id,
            messages=added,
        )
    _counted(db, via, sessions=int(created), messages=added)
    mode, finished_at = (
        (cs.mode, cs.finished_at) if isinstance(cs, ChatSession) else (doc.mode, doc.finished_at)
    )
    return Written(
        cs.id, doc.external_id, created, added, skipped, logs, mode, finished_at is not None
    )


def _counted(db: Session, via: str, *, sessions: int, messages: int) -> None:
    """Sessions and messages ingested, for /metrics, once the transaction commits."""
    metrics.count_on_commit(db, metrics.SESSIONS_INGESTED.labels(via), sessions)
    metrics.count_on_commit(db, metrics.MESSAGES_INGESTED.labels(via), messages)


class Target(NamedTuple):
    """What appending needs of a session (a row, not the whole ORM object: a runtime appends
    one message at a time, and loading parameters and results for each costs more than the
    append)."""

    id: int
    tenant_id: int
    started_at: dt.datetime


CONTINUED = "~"  # "conv-1~2": the session that continues conv-1 after a human resolved it

# The statements of a live append, built once: a runtime sends one message at a time, and building
# and hashing a statement for each cost more Python time than Postgres spends running it.
_APPEND_TO = select(
    SESSIONS.c.id,
    SESSIONS.c.tenant_id,
    SESSIONS.c.started_at,
    SESSIONS.c.external_id,
    SESSIONS.c.finished_at,
).where(SESSIONS.c.tenant_id == bindparam("tenant"), SESSIONS.c.external_id == bindparam("ext"))
_HIGHEST_SEQ = select(func.max(MESSAGES.c.seq)).where(MESSAGES.c.session_id == bindparam("sid"))
_HAVE = select(MESSAGES.c.external_id).where(
    MESSAGES.c.session_id == bindparam("sid"),
    MESSAGES.c.external_id.in_(bindparam("wanted", expanding=True)),
)
_WHO_ANSWERS = select(SESSIONS.c.mode, SESSIONS.c.finished_at).where(
    SESSIONS.c.id == bindparam("sid")
)
_LOCK_PG = select(SESSIONS.c.id).where(SESSIONS.c.id == bindparam("sid")).with_for_update()
_LOCK_SQLITE = update(SESSIONS).where(SESSIONS.c.id == bindparam("sid")).values(id=SESSIONS.c.id)
_INSERT_MESSAGE = insert(MESSAGES)
_INSERT_NEXT = insert(MESSAGES).values(
    seq=select(func.coalesce(func.max(MESSAGES.c.seq), 0) + 1)
    .where(MESSAGES.c.session_id == bindparam("sid"))
    .scalar_subquery()
)


def append_messages(
    db: Session, external_id: str, messages: list[MessageIn], *, actor: Actor
) -> Written:
    """Append to the session of ``external_id``. Once a human agent has resolved it, the
    customer's next message starts a new session that the AI handles (external id
    ``<id>~2``, then ``~3``...), and later appends to ``<id>`` go there."""
    require(actor, Action.IMPORT)
    db.flush()  # the Core statements below do not autoflush what the ORM still holds
    conn = db.connection()

    def lookup(ext: str) -> Any:
        return conn.execute(_APPEND_TO, {"tenant": actor.tenant_id, "ext": ext}).first()

    row = lookup(external_id)  # one index lookup while the session is open
    if row is not None and row[4] is not None:
        current = _current_id(db, actor, external_id)
        if current != external_id:
            row = lookup(current)
    if row is None:
        raise NotFound(f"Session {external_id!r} not found")
    target = Target(row[0], row[1], row[2])
    current = row[3] or external_id
    continued = row[4] is not None and _resolved_by_a_human(db, row[0])
    if continued:
        target, current = _continue(db, row[0], external_id, messages, actor=actor)
    written = _with_start_marker(messages, target.started_at) if continued else messages
    try:
        added, skipped = add_messages(db, target, written)  # it takes the row's lock
    except SessionGone:  # erased with its customer while this request waited for the lock
        raise NotFound(f"Session {external_id!r} not found") from None
    added -= len(written) - len(messages)
    _counted(db, "api", sessions=int(continued), messages=added)
    # Read after the lock: a hand-over in the console is either before this append or waits for
    # it, so the answer is who drives the session once the customer's message is in.
    mode, finished_at = conn.execute(_WHO_ANSWERS, {"sid": target.id}).one()
    return Written(target.id, current, continued, added, skipped, 0, mode, finished_at is not None)


def _current_id(db: Session, actor: Actor, external_id: str) -> str:
    """``external_id``, or the newest ``external_id~N`` that continues it. Continuations exist
    only after a finish, so an unfinished session costs one index lookup."""
    current = external_id
    for n in range(2, 10_000):
        finished = db.scalar(
            select(ChatSession.finished_at.is_not(None)).where(
                ChatSession.tenant_id == actor.tenant_id, ChatSession.external_id == current
            )
        )
        if not finished:
            return current
        nxt = f"{external_id}{CONTINUED}{n}"
        exists = db.scalar(
            select(ChatSession.id).where(
                ChatSession.tenant_id == actor.tenant_id, ChatSession.external_id == nxt
            )
        )
        if exists is None:
            return current
        current = nxt
    return current


def _resolved_by_a_human(db: Session, session_id: int) -> bool:
    return (
        db.scalar(
            select(Handoff.id)
            .where(Handoff.session_id == session_id, Handoff.resolved_at.is_not(None))
            .limit(1)
        )
        is not None
    )


def _continue(
    db: Session, old_id: int, external_id: str, messages: list[MessageIn], *, actor: Actor
) -> tuple[Target, str]:
    """A new AI session for the same customer, agent and channel, after a resolved one."""
    old = db.get_one(ChatSession, old_id)
    current = old.external_id or external_id
    base, _, number = current.rpartition(CONTINUED)
    ext = (
        f"{base}{CONTINUED}{int(number) + 1}"
        if base == external_id and number.isdigit()
        else f"{external_id}{CONTINUED}2"
    )
    started = min((m.sent_at for m in messages), default=old.finished_at or old.started_at)
    sid = db.scalar(
        insert(SESSIONS)
        .values(
            tenant_id=old.tenant_id,
            external_id=ext,
            agent_id=old.agent_id,
            channel=old.channel,
            customer_id=old.customer_id,
            mode=Mode.AI,
            initiator="client",
            status=statuses.opening(statuses.of_tenant(db, old.tenant_id)),
            started_at=started,
            last_message_at=started,
            message_count=0,
            has_attachments=False,
            ip=old.ip,
            country=old.country,
            country_name=old.country_name,
            city=old.city,
            geo_note=old.geo_note,
            is_mobile=old.is_mobile,
            parameters=old.parameters,
            results={},
        )
        .returning(SESSIONS.c.id)
    )
    assert sid is not None
    target = Target(sid, old.tenant_id, started)
    logs.append_system(
        db,
        tenant_id=old.tenant_id,
        session_id=sid,
        at=started,
        text=f"Session opened: the customer wrote again after {external_id} was resolved",
    )
    return target, ext


def append_logs(db: Session, external_id: str, entries: list[LogIn], *, actor: Actor) -> int:
    require(actor, Action.IMPORT)
    cs = find(db, actor, external_id, for_update=True)
    return add_logs(db, cs, entries)


def set_fields(db: Session, external_id: str, change: FieldsIn, *, actor: Actor) -> None:
    require(actor, Action.IMPORT)
    cs = find(db, actor, external_id, for_update=True)
    if change.parameters is not None:
        cs.parameters = change.parameters
    if change.results is not None:
        cs.results = change.results
    if change.status is not None:
        _set_status(db, actor, cs, change.status)


def finish(
    db: Session, external_id: str, change: FinishIn, *, actor: Actor, now: dt.datetime
) -> None:
    """Set the finish time (now if not given); finishing again keeps the first time. A finished
    session is no longer live: this write puts its words in the search index at once, instead of
    waiting for ``search.settle_live_words``."""
    require(actor, Action.IMPORT)
    cs = find(db, actor, external_id, for_update=True)
    if cs.finished_at is None and change.finished_at is not None:
        try:
            exchange.check_finish(change.finished_at, cs.started_at)
        except ValueError as err:
            raise exchange.Invalid([f"$.finished_at: {err}"]) from None
    if cs.finished_at is None:
        cs.finished_at = change.finished_at or now
    cs.search_live = False
    if change.status is not None:
        _set_status(db, actor, cs, change.status)


def request_handover(
    db: Session, external_id: str, req: HandoverIn, *, actor: Actor, now: dt.datetime
) -> None:
    """The runtime asks for a human: the same rules, marker and audit row as the button, and a
    System Logs line naming the trigger and the reason."""
    cs = find(db, actor, external_id)
    handover.hand_over(
        db, actor=actor, session_id=cs.id, now=now, trigger=req.trigger, reason=req.reason
    )
    reason = f": {req.reason}" if req.reason else ""
    logs.append_system(
        db,
        tenant_id=cs.tenant_id,
        session_id=cs.id,
        at=now,
        text=f"Handover requested by the agent runtime ({req.trigger}){reason}",
    )


def intercom_assignee(
    db: Session, external_id: str, *, is_bot: bool, actor: Actor, now: dt.datetime
) -> bool:
    """Intercom: an assignee change to anyone but the bot moves the session to human mode (the
    spec). True when it moved; a session already with a human stays as it is."""
    cs = find(db, actor, external_id)
    if cs.channel != Channel.INTERCOM:
        raise RuleViolation("Assignee changes apply to Intercom sessions only")
    if is_bot or cs.mode != Mode.AI or cs.finished_at is not None:
        return False
    handover.hand_over(
        db,
        actor=actor,
        session_id=cs.id,
        now=now,
        trigger="automatic",
        reason="Intercom: assigned to a person",
    )
    return True


# --- the parts -----------------------------------------------------------------------------------


def _check_status(db: Session, actor: Actor, status: str) -> None:
    """Invalid, naming the workspace's statuses, unless ``status`` is one of them."""
    why = statuses.unknown(status, statuses.of_tenant(db, actor.tenant_id))
    if why is not None:
        raise exchange.Invalid([f"$.status: {why}"])


def _set_status(db: Session, actor: Actor, cs: ChatSession, status: str) -> None:
    """Give ``cs`` the runtime's ``status``, checked unless the session already has it (a status
    dropped from the list since stays on the sessions that have it)."""
    if status != cs.status:
        _check_status(db, actor, status)
    cs.status = status


def _customer(db: Session, actor: Actor, doc: SessionIn) -> int | None:
    c = doc.customer
    if c is None:
        return None
    if c.external_id:
        found = db.scalar(
            select(Customer.id).where(
                Customer.tenant_id == actor.tenant_id, Customer.external_id == c.external_id
            )
        )
        if found is not None:
            return found
    customer = Customer(
        tenant_id=actor.tenant_id,
        name=c.name,
        name_key=customer_name_key(c.name),
        email=c.email,
        phone=c.phone,
        external_id=c.external_id,
        custom_fields={},
    )
    db.add(customer)
    db.flush()
    return customer.id


def add_messages(
    db: Session, cs: ChatSession | Target, messages: list[MessageIn], *, new: bool = False
) -> tuple[int, int]:
    """Append the messages ``cs`` does not have yet (by external id), in the order given;
    (added, skipped). Keeps message_count, last_message_at, has_attachments and, on Postgres, the
    session's search words. ``new``: the session was created in this transaction and has no
    messages yet."""
    if not messages:
        return 0, 0
    db.flush()  # the Core statements below do not autoflush what the ORM still holds
    conn = db.connection()
    pg = conn.dialect.name == "postgresql"
    have: set[str | None] = set()
    seq = 0
    wanted = [m.external_id for m in messages if m.external_id]
    docs = [document(m.text) for m in messages]
    counted = new  # a session created in this transaction was inserted with its counters
    # One plain message (a runtime's live append) takes its seq in the INSERT, after the lock:
    # one statement fewer. Attachments need the ids of a multi-row INSERT, and a batch a COPY.
    seq_in_insert = not new and not wanted and len(messages) == 1 and not messages[0].attachments
    if not new:
        # Lock the session row first, then read: two batches for one session cannot read the
        # same highest seq or both add the same message. Without external ids every message is
        # new, so the counter UPDATE itself is the lock. The highest seq is read by the next
        # statement: in Postgres a subquery of the UPDATE would see the snapshot from before it
        # waited for the lock.
        if wanted:
            locked = conn.execute(_LOCK_PG if pg else _LOCK_SQLITE, {"sid": cs.id})
            if not (locked.first() is not None if pg else locked.rowcount):
                raise SessionGone(cs.id)
        else:
            _bump(conn, cs, messages, docs)
            counted = True
        if not seq_in_insert:
            seq = conn.execute(_HIGHEST_SEQ, {"sid": cs.id}).scalar() or 0
        if wanted:
            have = set(conn.execute(_HAVE, {"sid": cs.id, "wanted": wanted}).scalars())
    keep = _fresh(messages, have)
    if not keep:
        return 0, len(messages)
    fresh = [messages[i] for i in keep]
    if not counted:
        # Before the INSERT: the trigger then finds the words there and leaves the row alone.
        _bump(conn, cs, fresh, [docs[i] for i in keep])
    rows: list[dict[str, object]] = []
    for i in keep:
        m = messages[i]
        seq += 1
        rows.append(
            {
                "tenant_id": cs.tenant_id,
                "session_id": cs.id,
                "seq": seq,
                "external_id": m.external_id,
                "author_kind": m.author,
                "author_user_id": None,
                "author_name": m.author_name,
                "text": m.text,
                "sent_at": m.sent_at,
                "reaction": m.reaction,
                "delivery_status": m.delivery.status if m.delivery else None,
                "delivery_at": m.delivery.at if m.delivery else None,
                "delivery_note": m.delivery.note if m.delivery else None,
                "quick_replies": m.quick_replies,
                "is_template": m.template,
                "system_event": m.event if m.author == AuthorKind.SYSTEM else None,
                "event_data": m.event_data,
                "search": docs[i],
            }
        )
    if any(m.attachments for m in fresh):
        # Multi-row INSERT statements with the ids in order, for the attachments.
        ids = list(
            db.scalars(
                insert(MESSAGES).returning(MESSAGES.c.id, sort_by_parameter_order=True), rows
            )
        )
        for mid, m in zip(ids, fresh, strict=True):
            for a in m.attachments:
                data = a.content()
                db.add(
                    Attachment(
                        tenant_id=cs.tenant_id,
                        session_id=cs.id,
                        message_id=mid,
                        is_recording=False,
                        file_name=a.file_name,
                        mime_type=media.safe_mime(a.mime_type),
                        size_bytes=len(data),
                        content=data,
                        created_at=m.sent_at,
                    )
                )
    elif seq_in_insert:
        row = {k: v for k, v in rows[0].items() if k != "seq"}  # the subquery gives it
        conn.execute(_INSERT_NEXT, {**row, "sid": cs.id})
    else:
        _insert_messages(conn, rows)
    if isinstance(cs, ChatSession) and not new:
        db.expire(cs, ["message_count", "last_message_at", "has_attachments"])
    return len(rows), len(messages) - len(rows)


def _insert_messages(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` in one statement. Postgres: one COPY (``bulk.copy_rows``): each INSERT
    statement runs the trigger that adds the words to the session (migration 0011), and psycopg's
    executemany sends one INSERT a row (1,000 messages took 1.5 s that way). SQLite runs its
    triggers for each row anyway: a plain executemany. One row is one INSERT on both: a COPY
    costs two more round trips than it saves."""
    if len(rows) == 1 or conn.dialect.name != "postgresql":
        conn.execute(_INSERT_MESSAGE, rows[0] if len(rows) == 1 else rows)
        return
    cols = list(rows[0])
    at = cols.index("search")
    bulk.copy_rows(
        conn,
        "messages",
        cols,
        [(*(r[c] for c in cols[:at]), tsvector_literal(r["search"])) for r in rows],
    )


def _bump(
    conn: Connection, cs: ChatSession | Target, added: list[MessageIn], docs: list[list[str]]
) -> None:
    """Add ``added`` to the session's message_count, last_message_at and has_attachments, and on
    Postgres their words (``docs``) to its search words, in one write of the row. On Postgres the
    session becomes live (``search_live``): this write, and the next ones, stay out of the GIN
    index until ``search.settle_live_words`` finds it quiet."""
    n, newest, files = _counts(added, cs.started_at)
    pg = conn.dialect.name == "postgresql"
    words = words_literal(docs) if pg else ""
    bumped = conn.execute(
        _bump_statement(bool(n), files, bool(words), pg),
        {"sid": cs.id, "n": n, "newest": newest, "words": words},
    )
    if not bumped.rowcount:
        raise SessionGone(cs.id)
    if pg:
        search.keep_settling(conn.engine)


@cache
def _bump_statement(counted: bool, files: bool, words: bool, live: bool) -> Update:
    """The counter UPDATE of ``_bump`` for one shape of batch, built once."""
    values: dict[str, Any] = {"message_count": SESSIONS.c.message_count + bindparam("n")}
    if live:
        values["search_live"] = True
    if counted:
        newest = bindparam("newest", type_=SESSIONS.c.last_message_at.type)
        values["last_message_at"] = case(
            (SESSIONS.c.last_message_at < newest, newest), else_=SESSIONS.c.last_message_at
        )
    if files:
        values["has_attachments"] = True
    if words:
        # Only when a word is new: otherwise the row keeps the very same value, and Postgres
        # keeps its TOAST copy instead of writing the whole list again (tens of KB for a long
        # conversation; 3.2 ms an append for a session of 3,000 words).
        held = func.coalesce(SESSIONS.c.search, literal_column("''::tsvector"))
        more = held.op("||")(cast(bindparam("words", type_=String), TSVECTOR))
        values["search"] = case(
            (and_(func.length(held) < SESSION_WORDS, more != held), more),
            else_=SESSIONS.c.search,
        )
    return update(SESSIONS).where(SESSIONS.c.id == bindparam("sid")).values(values)


def _with_start_marker(messages: list[MessageIn], at: dt.datetime) -> list[MessageIn]:
    """``messages`` of a new session, opened by the chat's "Client started the session at …"
    line when the runtime sent none (every conversation opens with one, as in the spec)."""
    if any(m.author == AuthorKind.SYSTEM and m.event == "started" for m in messages):
        return messages
    marker = MessageIn(
        author="system", sent_at=at, event="started", event_data={"initiator": "Client"}
    )
    return [marker, *messages]


def _counts(messages: list[MessageIn], floor: dt.datetime) -> tuple[int, dt.datetime, bool]:
    """How many of ``messages`` count, the newest counted time (at least ``floor``), and whether
    any has files."""
    counted = [m.sent_at for m in messages if m.author in COUNTED_KINDS]
    return len(counted), max([floor, *counted]), any(m.attachments for m in messages)


def _fresh(messages: list[MessageIn], have: set[str | None]) -> list[int]:
    """Where the messages to add are: those whose external id is not there yet (nor earlier in
    the list)."""
    fresh: list[int] = []
    seen: set[str] = set()
    for i, m in enumerate(messages):
        if m.external_id and (m.external_id in have or m.external_id in seen):
            continue
        if m.external_id:
            seen.add(m.external_id)
        fresh.append(i)
    return fresh


def add_logs(
    db: Session, cs: ChatSession | Target, entries: list[LogIn], *, new: bool = False
) -> int:
    """Append the log lines ``cs`` does not have yet (same kind, time and words)."""
    if not entries:
        return 0
    have = (
        set()
        if new
        else {
            (r.kind, r.at, r.text, r.prompt or "")
            for r in db.execute(
                select(SessionLog.kind, SessionLog.at, SessionLog.text, SessionLog.prompt).where(
                    SessionLog.session_id == cs.id
                )
            )
        }
    )
    refs = [entry.message_external_id for entry in entries if entry.message_external_id]
    message_ids: dict[str | None, int] = (
        {
            ext: mid
            for ext, mid in db.execute(
                select(Message.external_id, Message.id).where(
                    Message.session_id == cs.id, Message.external_id.in_(refs)
                )
            )
        }
        if refs
        else {}
    )
    added = 0
    for entry in entries:
        key = (entry.kind, entry.at, entry.text, entry.prompt or "")
        if key in have:
            continue
        have.add(key)
        db.add(
            SessionLog(
                tenant_id=cs.tenant_id,
                session_id=cs.id,
                kind=LogKind(entry.kind),
                at=entry.at,
                level=entry.level,
                text=entry.text,
                agent_name=entry.agent_name,
                prompt=entry.prompt,
                action=entry.action,
                action_input=entry.action_input,
                message_id=message_ids.get(entry.message_external_id or ""),
            )
        )
        added += 1
    return added


# --- files: `sessionlens import-sessions` and the Import session dialog --------------------------


@dataclass(frozen=True)
class FileReport:
    """What importing a file did, or (dry run) would do."""

    sessions: int
    created: int
    updated: int
    unchanged: int
    messages_added: int
    logs_added: int
    statuses_added: list[str] = field(default_factory=list)

    def summary(self, *, dry_run: bool) -> str:
        verb = "would create" if dry_run else "created"
        added = ", ".join(repr(s) for s in self.statuses_added)
        return (
            f"{counted(self.sessions, 'session')}: {verb} {self.created}, "
            f"{'would update' if dry_run else 'updated'} {self.updated}, "
            f"unchanged {self.unchanged}; {self.messages_added} new messages, "
            f"{self.logs_added} new log lines"
            + (f"; {'would add' if dry_run else 'added'} the statuses {added}" if added else "")
        )


def read_file(raw: bytes, name: str) -> list[SessionIn]:
    """The session documents of a .json file (one document or an array) or a .jsonl file (one per
    line), all checked; Invalid lists every error with where it is (``line 3: $.channel: ...``).
    The file is UTF-8 or has a byte order mark (``_text_of``)."""
    from sessionlens import exchange

    text = _text_of(raw)
    docs: list[SessionIn] = []
    errors: list[str] = []
    if name.lower().endswith(".jsonl"):
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                docs.append(exchange.parse(SessionIn, exchange.loads(line)))
            except exchange.Invalid as err:
                errors += [f"line {n}: {e}" for e in err.errors]
    else:
        data = exchange.loads(text)
        items = data if isinstance(data, list) else [data]
        for i, item in enumerate(items):
            try:
                docs.append(exchange.parse(SessionIn, item))
            except exchange.Invalid as err:
                errors += [
                    e.replace("$", f"$[{i}]", 1) if isinstance(data, list) else e
                    for e in err.errors
                ]
    if errors:
        raise exchange.Invalid(errors)
    if not docs:
        raise exchange.Invalid(["$: no sessions in the file"])
    return docs


#: Byte order marks and their encodings, the four-byte ones first (UTF-32 LE's begins with
#: UTF-16 LE's). A file saved by Windows PowerShell (``>`` or ``Out-File``) is UTF-16 with a mark.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _text_of(raw: bytes) -> str:
    """A file's text: UTF-8, or what its byte order mark says; anything else is refused naming
    where it stops being text (it was a traceback: "'utf-8' codec can't decode byte 0xff")."""
    from sessionlens import exchange

    encoding = next((enc for bom, enc in _BOMS if raw.startswith(bom)), "utf-8")
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as err:
        raise exchange.Invalid(
            [
                f"$: not {encoding.removesuffix('-sig').upper()} text (byte {err.start + 1:,} of"
                " the file); save it as UTF-8"
            ]
        ) from None


class NewStatuses(NamedTuple):
    """What importing a file does to the workspace's statuses, known before anything is written."""

    added: list[str]  # the file's statuses the list lacks, in the file's order (an admin's import)
    refused: list[str]  # one line per session with such a status (anyone else's import)


def new_statuses(db: Session, docs: list[SessionIn], *, actor: Actor) -> NewStatuses:
    """The statuses the file's sessions have that the workspace lacks: an admin's import adds them
    to the workspace's list, so that the Statuses filter finds the sessions; anyone else's import
    of such a file is refused, naming every session at fault (the import dialog shows either
    before its Import button)."""
    require(actor, Action.IMPORT)
    configured = statuses.of_tenant(db, actor.tenant_id)
    given = [(d, stated_status(d, configured)) for d in docs]
    new = list(dict.fromkeys(s for _, s in given if statuses.unknown(s, configured)))
    if not new or can(actor, Action.ADMINISTER):
        return NewStatuses(new, [])
    return NewStatuses(
        [],
        [
            f"session {d.external_id!r}: $.status: {statuses.unknown(s, configured)}"
            for d, s in given
            if s in new
        ],
    )


def stated_status(doc: SessionIn, configured: list[str]) -> str:
    """The status a document gives, or, when it gives none, the one a new session of the
    workspace starts with (``statuses.opening``: "open", or the first of a workspace that
    renamed it, where the format's default "open" was refused as unknown)."""
    return doc.status if "status" in doc.model_fields_set else statuses.opening(configured)


def import_documents(
    db: Session,
    docs: list[SessionIn],
    *,
    actor: Actor,
    now: dt.datetime,
    locate: Locate,
    dry_run: bool = False,
) -> FileReport:
    """Write every document in the caller's transaction (all or nothing: the caller rolls back on
    any error, and for a dry run)."""
    created = updated = unchanged = messages = logs_added = 0
    agents: dict[str, int] = {}
    added, refused = new_statuses(db, docs, actor=actor)  # before anything is written
    if refused:
        raise exchange.Invalid(refused)
    if added:
        statuses.add(db, added, actor=actor, now=now)
    for doc in docs:
        w = upsert_session(
            db,
            doc,
            actor=actor,
            now=now,
            locate=locate,
            agents=agents,
            audit_each=False,
            via="import",
        )
        messages += w.messages_added
        logs_added += w.logs_added
        if w.created:
            created += 1
        elif (
            w.messages_added
            or w.logs_added
            or db.is_modified(db.get_one(ChatSession, w.session_id))
        ):
            updated += 1
        else:
            unchanged += 1
    report = FileReport(len(docs), created, updated, unchanged, messages, logs_added, added)
    if not dry_run:
        audit.record(
            db,
            actor,
            "sessions_imported",
            "tenant",
            actor.tenant_id,
            now=now,
            sessions=len(docs),
            created=created,
            messages=messages,
        )
    return report
