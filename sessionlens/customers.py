"""Customer profiles (the 360 View)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Customer
from sessionlens.errors import NotFound
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
    c = db.scalar(
        select(Customer).where(Customer.tenant_id == actor.tenant_id, Customer.id == customer_id)
    )
    if c is None:
        raise NotFound(f"Customer {customer_id} not found")
    return Contact(
        c.id, c.name, c.email, c.phone, c.telegram, c.whatsapp, c.linkedin, c.external_id
    )
