"""Who is acting. Until sign-in exists, the console acts as the first admin of the first tenant."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Role, Tenant, User
from sessionlens.errors import NotFound
from sessionlens.permissions import Actor


def default_actor(db: Session) -> Actor:
    """The actor of an unauthenticated console; the only function sign-in will replace."""
    user = db.scalar(
        select(User).where(User.role == Role.ADMIN).order_by(User.tenant_id, User.id).limit(1)
    )
    if user is None:
        raise NotFound("No admin user yet: run `sessionlens demo` or create a tenant first")
    return actor_for(user)


def actor_for(user: User) -> Actor:
    return Actor(user_id=user.id, tenant_id=user.tenant_id, role=user.role, name=user.name)


@dataclass(frozen=True)
class TenantInfo:
    id: int
    name: str
    timezone: str
    plan: str
    statuses: list[str]


def tenant_info(db: Session, *, actor: Actor) -> TenantInfo:
    t = db.get_one(Tenant, actor.tenant_id)
    return TenantInfo(t.id, t.name, t.timezone, t.plan, list(t.statuses))
