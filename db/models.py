"""SQLAlchemy 2 typed models for every table Sessionlens keeps.

Conventions:
- every row carries ``tenant_id``; every read is scoped by it (see ``sessionlens.sessions``);
- every time is stored in UTC and comes back timezone-aware (``UTCDateTime``), on SQLite as on Postgres;
- ``chat_sessions`` holds derived columns (message_count, last_message_at, has_attachments, country,
  city) kept by the domain's write functions, so the list and its filters never join messages.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    event,
    func,
    text,
)
from sqlalchemy import (
    false as sa_false,
)
from sqlalchemy import (
    true as sa_true,
)
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# The kinds of things (roles, modes, author kinds, job states...) belong to the domain, which the
# screens use too; the tables store them as plain strings.
from sessionlens.kinds import (  # noqa: F401 - re-exported for the code that imports them here
    AuthorKind,
    Channel,
    Initiator,
    JobStatus,
    LogKind,
    Mode,
    Plan,
    Role,
    SystemEvent,
)
from sessionlens.search_tokens import document, people_document, phone_key, tsvector_literal

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BIGINT on Postgres, INTEGER on SQLite (only INTEGER PRIMARY KEY autoincrements there).
BigId = BigInteger().with_variant(Integer(), "sqlite")
Json = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp stored in UTC that always comes back aware.

    SQLite has no time zone type and returns naive values; Postgres returns aware ones. Naive input is
    refused so a local time can never be stored as if it were UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: Sessionlens stores aware UTC times only")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class SearchDoc(TypeDecorator[list[str]]):
    """The search tokens of a row (``sessionlens.search_tokens``), written by the app, never read.

    Postgres: a ``tsvector`` built from the tokens (GIN index on ``(tenant_id, search)``). SQLite:
    the tokens joined by spaces, indexed by an FTS5 table (``<table>_fts``) that triggers keep in
    step. The value to bind is the token list; neither database parses the text itself.
    """

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        return dialect.type_descriptor(TSVECTOR() if dialect.name == "postgresql" else Text())

    def process_bind_param(self, value: list[str] | None, dialect: Any) -> str | None:
        if value is None:
            return None
        return tsvector_literal(value) if dialect.name == "postgresql" else " ".join(value)


def _message_search(ctx: Any) -> list[str]:
    return document(ctx.get_current_parameters().get("text") or "")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _enum(e: type[enum.StrEnum], length: int = 16) -> String:
    # Plain strings, not native enums: adding a channel or status must not need an ALTER TYPE.
    return String(length)


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    plan: Mapped[str] = mapped_column(_enum(Plan), default=Plan.FREE)
    # The statuses this tenant's sessions can take, in display order.
    statuses: Mapped[list[str]] = mapped_column(Json, default=list)
    # The fields the agents collect: [{"key", "label", "type": str|int|bool|date|datetime|list|choice,
    # "choices": [...] (choice only)}], in display order.
    result_fields: Mapped[list[dict[str, Any]]] = mapped_column(Json, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class User(Base):
    """A portal user. Human agents are users that can be assigned sessions."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(_enum(Role), default=Role.VIEWER)
    is_human_agent: Mapped[bool] = mapped_column(Boolean, default=False)
    # An emoji or up to two initials shown in the Responsible column.
    avatar: Mapped[str | None] = mapped_column(String(16))
    # argon2id hash (argon2-cffi's encoded form); None: cannot sign in with a password.
    password_hash: Mapped[str | None] = mapped_column(String(200))
    # A deactivated user cannot sign in and is signed out on their next request.
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sa_true())
    # Part of every sign-in cookie; raising it (sign out, password reset, deactivation) ends
    # every browser session of the user at its next request.
    auth_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # When a Human Agents page of theirs last checked in: "online" in the workspace
    # (sessionlens.human_agents.check_in).
    workspace_seen_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


# One user per address whatever its case: it is what they sign in with (migration 0018).
Index("uq_users_email_lower", func.lower(User.email), unique=True)


class Handoff(Base):
    """One handover and what became of it: who took it and how fast, reassignments, resolution."""

    __tablename__ = "handoffs"
    __table_args__ = (Index(None, "tenant_id", "requested_at"), Index(None, "session_id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    session_id: Mapped[int] = mapped_column(ForeignKey("chat_sessions.id"))
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    trigger: Mapped[str] = mapped_column(String(32))  # a sessionlens.kinds.HandoffTrigger
    reason: Mapped[str | None] = mapped_column(String(500))
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    accepted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    first_reply_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    reassignments: Mapped[int] = mapped_column(Integer, default=0)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class ApiKey(Base):
    """A tenant's key for the HTTP API: only a SHA-256 hash is kept; the key is shown once."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    # The first characters of the key, shown in lists so a person can tell keys apart.
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class SignInAttempt(Base):
    """One checked password, kept a few minutes for the per-account and per-address limits."""

    __tablename__ = "sign_in_attempts"
    __table_args__ = (Index(None, "email_key", "at"), Index(None, "address", "at"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    email_key: Mapped[str] = mapped_column(String(320))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ok: Mapped[bool] = mapped_column(Boolean)


class Agent(Base):
    """An AI agent."""

    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = (
        Index(None, "tenant_id", "name"),
        Index(None, "tenant_id", "name_key"),
        Index(None, "tenant_id", "external_id"),
        Index(None, "tenant_id", "email"),
        Index(None, "tenant_id", "phone"),
        Index(None, "tenant_id", "phone_key"),
        Index("ix_customers_search", "tenant_id", "search", postgresql_using="gin").ddl_if(
            dialect="postgresql"
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    name: Mapped[str | None] = mapped_column(String(200))
    # lower(name) in byte order ("C" collation), so a name prefix is an index range on any server.
    name_key: Mapped[str | None] = mapped_column(
        String(200).with_variant(String(200, collation="C"), "postgresql")
    )
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(64))
    # The phone's digits reversed (``search_tokens.phone_key``): the end of a number typed any
    # way is a prefix of it. Byte order, so a prefix is an index range on any server.
    phone_key: Mapped[str | None] = mapped_column(
        String(64).with_variant(String(64, collation="C"), "postgresql")
    )
    telegram: Mapped[str | None] = mapped_column(String(128))
    whatsapp: Mapped[str | None] = mapped_column(String(64))
    linkedin: Mapped[str | None] = mapped_column(String(300))
    external_id: Mapped[str | None] = mapped_column(String(128))
    custom_fields: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    # Name, email and phone as search tokens (Search with "also names, emails and phones").
    search: Mapped[list[str] | None] = mapped_column(SearchDoc, deferred=True)


@event.listens_for(Customer, "before_insert")
@event.listens_for(Customer, "before_update")
def _customer_search(mapper: Any, connection: Any, target: Customer) -> None:
    target.search = people_document(target.name, target.email, target.phone)
    target.phone_key = phone_key(target.phone, target.whatsapp)


class ChatSession(Base):
    """One conversation of a customer with an AI agent in one channel."""

    __tablename__ = "chat_sessions"
    __table_args__ = (
        # Every list query starts with tenant_id and ends with (sort column, id) for keyset paging.
        Index(None, "tenant_id", "started_at", "id"),
        Index(None, "tenant_id", "last_message_at", "id"),
        Index(None, "tenant_id", "agent_id", "started_at", "id"),
        Index(None, "tenant_id", "channel", "started_at", "id"),
        Index(None, "tenant_id", "country", "started_at", "id"),
        Index(None, "tenant_id", "status", "started_at", "id"),
        Index(None, "tenant_id", "ip"),
        Index(None, "tenant_id", "external_id", unique=True),
        # The Human Agents queue: open sessions a person handles (a small part of all sessions).
        Index(
            "ix_chat_sessions_open_human",
            "tenant_id",
            "assigned_user_id",
            postgresql_where=text("mode <> 'ai' AND finished_at IS NULL"),
            # The refresh poll reads these too: Postgres answers it from the index alone.
            postgresql_include=["id", "last_message_at", "message_count"],
            sqlite_where=text("mode <> 'ai' AND finished_at IS NULL"),
        ),
        Index(None, "tenant_id", "finished_at"),
        Index(None, "customer_id", "started_at", "id"),
        Index(None, "assigned_user_id", "started_at", "id"),
        # Full-text search, tenant first (btree_gin); SQLite uses the FTS5 table chat_sessions_fts.
        # Postgres: a session that a runtime is writing to (search_live) is left out of the GIN
        # index and found through the small index after it instead (migration 0014).
        Index(
            "ix_chat_sessions_search",
            "tenant_id",
            "search",
            postgresql_using="gin",
            postgresql_where=text("NOT search_live"),
        ).ddl_if(dialect="postgresql"),
        Index(
            "ix_chat_sessions_search_live", "tenant_id", postgresql_where=text("search_live")
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    channel: Mapped[str] = mapped_column(_enum(Channel))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    mode: Mapped[str] = mapped_column(_enum(Mode), default=Mode.AI)
    assigned_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(64))
    initiator: Mapped[str] = mapped_column(_enum(Initiator), default=Initiator.CLIENT)
    initiator_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Derived, kept by the writers: equals started_at until the first message arrives.
    last_message_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    message_count: Mapped[int] = mapped_column(Integer, default=0)
    has_attachments: Mapped[bool] = mapped_column(Boolean, default=False)
    ip: Mapped[str | None] = mapped_column(String(45))
    # Resolved from ip when the session is written (sessionlens.geo); geo_note says why it is empty.
    country: Mapped[str | None] = mapped_column(String(2))
    country_name: Mapped[str | None] = mapped_column(String(100))
    city: Mapped[str | None] = mapped_column(String(200))
    geo_note: Mapped[str | None] = mapped_column(String(200))
    is_mobile: Mapped[bool | None] = mapped_column(Boolean)
    parameters: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    results: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    # The agent runtime's own id of the session (HTTP API, JSON import): unique in a tenant, so the
    # same request or file twice makes one session.
    external_id: Mapped[str | None] = mapped_column(String(200))
    # The words of all its messages, kept by database triggers on messages (migration 0011):
    # Postgres, the distinct words; SQLite, every token in order, U+E000 between two messages.
    search: Mapped[list[str] | None] = mapped_column(SearchDoc, deferred=True)
    # Postgres: a runtime appended to the session in the last few minutes, so its words are not in
    # the GIN index on search, which every write of the row would otherwise fill with all of them
    # again; search reads these few rows one by one, and search.settle_live_words puts a quiet
    # session back in the index. Always false on SQLite, whose FTS5 table has no such cost.
    search_live: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        Index(None, "session_id", "seq", unique=True),
        Index(None, "session_id", "external_id", unique=True),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    session_id: Mapped[int] = mapped_column(ForeignKey("chat_sessions.id"))
    seq: Mapped[int] = mapped_column(Integer)
    author_kind: Mapped[str] = mapped_column(_enum(AuthorKind))
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Markdown, untrusted: rendered without HTML.
    text: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    reaction: Mapped[str | None] = mapped_column(String(16))  # "up" | "down"
    delivery_status: Mapped[str | None] = mapped_column(String(16))  # sent|delivered|read|failed
    delivery_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    delivery_note: Mapped[str | None] = mapped_column(String(500))
    quick_replies: Mapped[list[str] | None] = mapped_column(Json)
    is_template: Mapped[bool] = mapped_column(Boolean, default=False)
    # For author_kind == system: which marker, and its data ({"by": ..., "name": ...}).
    system_event: Mapped[str | None] = mapped_column(_enum(SystemEvent))
    event_data: Mapped[dict[str, Any] | None] = mapped_column(Json)
    # The runtime's id of the message, unique in its session (appends are idempotent by it).
    external_id: Mapped[str | None] = mapped_column(String(200))
    # Who wrote it when that is not a user of the console (a human agent of another system).
    author_name: Mapped[str | None] = mapped_column(String(200))
    # The text's search tokens, computed on every insert (messages are never edited); the
    # triggers of migration 0011 add them to the session's.
    search: Mapped[list[str] | None] = mapped_column(
        SearchDoc, default=_message_search, deferred=True
    )


class Attachment(Base):
    """A file in a message, or (message_id NULL, is_recording) the audio recording of a voice session."""

    __tablename__ = "attachments"
    __table_args__ = (Index(None, "session_id"), Index(None, "message_id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    session_id: Mapped[int] = mapped_column(ForeignKey("chat_sessions.id"))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    is_recording: Mapped[bool] = mapped_column(Boolean, default=False)
    file_name: Mapped[str] = mapped_column(String(300))
    mime_type: Mapped[str] = mapped_column(String(120))
    size_bytes: Mapped[int] = mapped_column(Integer)
    # Small files live in the database, so any app server behind a load balancer can serve them;
    # recordings live in the blob store (sessionlens.blobs) under storage_key.
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    storage_key: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class SessionLog(Base):
    """A system log line, or one LLM call of the trace (agent, prompt, generation)."""

    __tablename__ = "session_logs"
    __table_args__ = (Index(None, "session_id", "kind", "at", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    session_id: Mapped[int] = mapped_column(ForeignKey("chat_sessions.id"))
    kind: Mapped[str] = mapped_column(_enum(LogKind))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    level: Mapped[str] = mapped_column(String(8), default="INFO")
    text: Mapped[str] = mapped_column(Text, default="")  # the system line, or a raw trace call
    agent_name: Mapped[str | None] = mapped_column(String(200))
    prompt: Mapped[str | None] = mapped_column(Text)
    action: Mapped[str | None] = mapped_column(String(200))
    action_input: Mapped[str | None] = mapped_column(Text)
    # The AI message this call produced, when known (links an answer to its prompt).
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))


class Job(Base):
    """A unit of background work (transcription), claimed by one worker at a time."""

    __tablename__ = "jobs"
    __table_args__ = (Index(None, "status", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    session_id: Mapped[int | None] = mapped_column(ForeignKey("chat_sessions.id"))
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(_enum(JobStatus), default=JobStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # 0..1, advanced by the worker as transcript segments arrive.
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    error: Mapped[str | None] = mapped_column(Text)
    worker: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Blob(Base):
    """A recording in the database blob store (sessionlens.blobs.DatabaseBlobStore): its size,
    checksum and number of chunks; the bytes are in blob_chunks."""

    __tablename__ = "blobs"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    chunks: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class BlobChunk(Base):
    """One part (1 MiB, the last shorter) of a blob, in order of seq."""

    __tablename__ = "blob_chunks"

    key: Mapped[str] = mapped_column(ForeignKey("blobs.key", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (Index(None, "tenant_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str] = mapped_column(String(64))
    target_id: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    details: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)


class SavedView(Base):
    """A named set of Session Filters and a sort key; private to its owner or shared with the tenant."""

    __tablename__ = "saved_views"
    __table_args__ = (Index(None, "tenant_id", "owner_user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    owner_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(80))
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    # The URL query parameters of the view (filters and sort), as filter_query.encode writes them.
    query: Mapped[dict[str, str]] = mapped_column(Json, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
