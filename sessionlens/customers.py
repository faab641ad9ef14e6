"""Customer profiles (the 360 View)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Customer
from sessionlens.errors import NotFound
from sessionlens.permissions import Action, Actor, require
from sessionlens.sessions import Contact


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
