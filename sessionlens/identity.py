"""Who is acting: the actor a users row stands for, and what the screens need to know of them."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Role, Tenant, User
from sessionlens.errors import BadInput, NotFound
from sessionlens.permissions import Actor


def default_actor(db: Session) -> Actor:
    """The first admin of the first tenant: the actor of the CLI's commands (and of tests)."""
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
    result_fields: dict[str, str] = field(default_factory=dict)  # key → label, in order


def tenant_info(db: Session, *, actor: Actor) -> TenantInfo:
    t = db.get_one(Tenant, actor.tenant_id)
    fields = {f["key"]: f.get("label") or f["key"] for f in t.result_fields}
    return TenantInfo(t.id, t.name, t.timezone, t.plan, list(t.statuses), fields)


def admin_names(db: Session, *, actor: Actor) -> list[str]:
    """The names of the active admins of the actor's tenant (whom to ask for access)."""
    return list(
        db.scalars(
            select(User.name)
            .where(User.tenant_id == actor.tenant_id, User.role == Role.ADMIN, User.is_active)
            .order_by(User.name)
        )
    )


def first_admin(db: Session, tenant_id: int) -> Actor:
    """The tenant's first active admin: whom a command-line change acts as."""
    user = db.scalar(
        select(User)
        .where(User.tenant_id == tenant_id, User.role == Role.ADMIN, User.is_active)
        .order_by(User.id)
        .limit(1)
    )
    if user is None:
        raise BadInput("This tenant has no active admin: add one with `sessionlens users add`")
    return actor_for(user)
