"""Customer profiles (the 360 View)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import Agent, ChatSession, Customer
from sessionlens import access, audit, strict
from sessionlens.errors import BadInput
from sessionlens.permissions import Action, Actor, require


@dataclass(frozen=True)
class Contact:
    id: int
    name: str | None
    email: str | None
    phone: str | None
    telegram: str | None
    whatsapp: str | None
    linkedin: str | None
    external_id: str | None


def customer_name_key(name: str | None) -> str | None:
    """The customer's search key: the name lower-cased, so a typed prefix matches any case.

    Every write of ``Customer.name`` also writes this (the Users filter searches on it).
    """
    return " ".join(name.split()).lower() if name else None


def get_contact(db: Session, customer_id: int, *, actor: Actor) -> Contact:
    require(actor, Action.VIEW_SESSIONS)
    c = access.customer(db, actor, customer_id)
    return Contact(
        c.id, c.name, c.email, c.phone, c.telegram, c.whatsapp, c.linkedin, c.external_id
    )


#: How a session without a customer, or with a customer who gave no name, is named: in the
#: table's User column, the Human Agents list and its chat's heading alike.
ANONYMOUS = "Anonymous"
PHONE = re.compile(r"^\+?[0-9][0-9 ()./-]{4,30}$")
EDITABLE = ("name", "email", "phone", "telegram", "whatsapp", "linkedin")


def phone_problem(value: str) -> str | None:
    """What is wrong with ``value`` as a phone number, to follow the field's name, or None: the
    contact edit's rule and the one for a number a runtime sends."""
    if PHONE.match(value):
        return None
    return f"{strict.quote(value)} is not a phone number (digits, spaces, + ( ) - . /)"


LABELS = {
    "name": "Name",
    "email": "Email",
    "phone": "Phone",
    "telegram": "Telegram",
    "whatsapp": "WhatsApp",
    "linkedin": "LinkedIn",
}


def update_contact(
    db: Session, *, actor: Actor, customer_id: int, fields: dict[str, str], now: dt.datetime
) -> Contact:
    """Change the contact fields of a customer; empty text clears a field.

    Refuses the whole change (nothing written) if any value is invalid, naming the field.
    """
    require(actor, Action.EDIT_CUSTOMER)
    c = access.customer(db, actor, customer_id)
    clean: dict[str, str | None] = {}
    for key, raw in fields.items():
        if key not in EDITABLE:
            raise BadInput(f"{key!r} is not a contact field")
        if key == "email":
            value = strict.email(raw, LABELS[key])
        else:
            value = strict.text(raw, LABELS[key], max_len=strict.limit(getattr(Customer, key)))
        if value and key in ("phone", "whatsapp") and (why := phone_problem(value)):
            raise BadInput(f"{LABELS[key]} {why}")
        clean[key] = value
    changed = {k: v for k, v in clean.items() if getattr(c, k) != v}
    for key, value in changed.items():
        setattr(c, key, value)
    if "name" in changed:
        c.name_key = customer_name_key(c.name)
    if changed:
        audit.record(
            db, actor, "update_customer", "customer", c.id, now=now, fields=sorted(changed)
        )
    db.flush()
    return get_contact(db, customer_id, actor=actor)


@dataclass(frozen=True)
class SessionHeader:
    id: int
    channel: str
    agent_name: str
    started_at: dt.datetime


#: How many of a customer's sessions 360 View shows at first, and adds with "Show earlier".
SESSIONS_SHOWN = 20


@dataclass(frozen=True)
class CustomerSessions:
    """The newest of a customer's sessions, oldest first (a chat reads down), and how many the
    customer has in all (more than ``shown`` when older ones were left out)."""

    shown: list[SessionHeader]
    total: int


def customer_sessions(
    db: Session, customer_id: int, *, actor: Actor, limit: int = SESSIONS_SHOWN
) -> CustomerSessions:
    """The customer's newest ``limit`` sessions across channels and their number."""
    get_contact(db, customer_id, actor=actor)  # NotFound outside the tenant
    theirs = (ChatSession.tenant_id == actor.tenant_id, ChatSession.customer_id == customer_id)
    rows = db.execute(
        select(ChatSession.id, ChatSession.channel, Agent.name, ChatSession.started_at)
        .join(Agent, Agent.id == ChatSession.agent_id)
        .where(*theirs)
        .order_by(ChatSession.started_at.desc(), ChatSession.id.desc())
        .limit(limit)
    ).all()
    total = (
        len(rows)
        if len(rows) < limit
        else db.scalar(select(func.count()).select_from(ChatSession).where(*theirs)) or 0
    )
    return CustomerSessions([SessionHeader(*r) for r in reversed(rows)], total)
