"""Small helpers shared by tests."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Role, User
from sessionlens.identity import actor_for
from sessionlens.permissions import Actor


def actor(db: Session, tenant_index: int = 0, role: str = Role.ADMIN) -> Actor:
    """An actor of the demo's first (paid, Berlin) or second (Free, New York) tenant."""
    users = db.scalars(
        select(User).where(User.role == role).order_by(User.tenant_id, User.id)
    ).all()
    tenants = sorted({u.tenant_id for u in users})
    return actor_for(next(u for u in users if u.tenant_id == tenants[tenant_index]))


def busiest_customer(db: Session, tenant_id: int) -> tuple[int, int]:
    """The tenant's customer with the most sessions (the lowest id among equals) and how many."""
    from sqlalchemy import func

    from db.models import ChatSession

    cid, n = db.execute(
        select(ChatSession.customer_id, func.count())
        .where(ChatSession.tenant_id == tenant_id, ChatSession.customer_id.is_not(None))
        .group_by(ChatSession.customer_id)
        .order_by(func.count().desc(), ChatSession.customer_id)
        .limit(1)
    ).one()
    return cid, n
