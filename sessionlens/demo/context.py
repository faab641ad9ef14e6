"""What every part of the demo generator shares: the writer, the random source, the clock, the next
ids, the sample files, and the tenants being filled.

The parts (`reference`, `sessions`, `showcase`, `conversation`, `logs`) each take a `DemoContext`
and never reach into one another, so a newcomer can change how one kind of row is made without
reading the others.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sessionlens.demo import assets
from sessionlens.demo.writer import BulkWriter

# The tables the demo writes, in foreign-key order, with the columns of its row tuples.
SESSION_COLS = [
    "id",
    "tenant_id",
    "agent_id",
    "channel",
    "customer_id",
    "mode",
    "assigned_user_id",
    "status",
    "initiator",
    "initiator_user_id",
    "started_at",
    "finished_at",
    "last_message_at",
    "message_count",
    "has_attachments",
    "ip",
    "country",
    "country_name",
    "city",
    "geo_note",
    "is_mobile",
    "parameters",
    "results",
]
MESSAGE_COLS = [
    "id",
    "tenant_id",
    "session_id",
    "seq",
    "author_kind",
    "author_user_id",
    "text",
    "sent_at",
    "reaction",
    "delivery_status",
    "delivery_at",
    "delivery_note",
    "quick_replies",
    "is_template",
    "system_event",
    "event_data",
]
ATTACHMENT_COLS = [
    "id",
    "tenant_id",
    "session_id",
    "message_id",
    "is_recording",
    "file_name",
    "mime_type",
    "size_bytes",
    "content",
    "created_at",
]
LOG_COLS = [
    "id",
    "tenant_id",
    "session_id",
    "kind",
    "at",
    "level",
    "text",
    "agent_name",
    "prompt",
    "action",
    "action_input",
    "message_id",
]
TABLES: list[tuple[str, list[str]]] = [
    ("tenants", ["id", "name", "timezone", "plan", "statuses", "result_fields", "created_at"]),
    (
        "users",
        ["id", "tenant_id", "name", "email", "role", "is_human_agent", "avatar", "password_hash"],
    ),
    ("agents", ["id", "tenant_id", "name"]),
    (
        "customers",
        [
            "id",
            "tenant_id",
            "name",
            "name_key",
            "email",
            "phone",
            "telegram",
            "whatsapp",
            "linkedin",
            "external_id",
            "custom_fields",
            "phone_key",
        ],
    ),
    ("chat_sessions", SESSION_COLS),
    (
        "handoffs",
        [
            "id",
            "tenant_id",
            "session_id",
            "agent_id",
            "trigger",
            "reason",
            "requested_at",
            "accepted_at",
            "accepted_by",
            "first_reply_at",
            "reassignments",
            "resolved_at",
            "resolved_by",
        ],
    ),
    ("messages", MESSAGE_COLS),
    ("attachments", ATTACHMENT_COLS),
    ("session_logs", LOG_COLS),
]


class Customer(NamedTuple):
    """A demo customer as the sessions need it: who, the phone on file (if any), and the language
    they write in (every session of theirs is in it)."""

    id: int
    name: str
    phone: str | None
    language: str


@dataclass
class Tenant:
    """A demo tenant and the people, agents and customers made for it so far."""

    id: int
    name: str
    tz: str
    plan: str
    statuses: list[str]
    fields: list[dict[str, Any]]
    agents: list[tuple[int, str]] = field(default_factory=list)
    humans: list[tuple[int, str]] = field(default_factory=list)
    admin: tuple[int, str] = (0, "")
    customers: list[Customer] = field(default_factory=list)
    #: The customers by the language they write in.
    speakers: dict[str, list[Customer]] = field(default_factory=dict)


class DemoContext:
    """The shared state of one demo run: rows go to ``w``, randomness comes from ``rng`` only."""

    def __init__(self, w: BulkWriter, rng: random.Random, now: dt.datetime):
        self.w, self.rng, self.now = w, rng, now
        for name, cols in TABLES:
            w.table(name, cols)
        self._ids = {t: w.next_id(t) for t in w.counts}
        self.png, self.pdf, self.wav = assets.png(), assets.pdf(), assets.wav()
        self.photo = assets.photo()

    def next_id(self, table: str) -> int:
        """The id the next row of ``table`` gets (ids are assigned here, not by the database)."""
        value = self._ids[table]
        self._ids[table] += 1
        return value
