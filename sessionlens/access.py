"""Finding a row within the actor's tenant: one function per noun, used by every read and write.

"Missing" and "another tenant's" raise the same NotFound, so the caller cannot tell them apart.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from db.models import Agent, ChatSession, Customer
from sessionlens.errors import NotFound
from sessionlens.permissions import Actor


def session(db: Session, actor: Actor, session_id: int, *, for_update: bool = False) -> ChatSession:
    """The chat session ``session_id`` of the actor's tenant (locked for update if asked:
    Postgres locks the row; SQLite's single writer needs no lock)."""
    return _session(db, actor, ChatSession.id == session_id, f"{session_id}", for_update)


def session_by_external_id(
    db: Session, actor: Actor, external_id: str, *, for_update: bool = False
) -> ChatSession:
    """The actor's tenant's session with the agent runtime's id ``external_id``, as ``session``."""
    return _session(
        db, actor, ChatSession.external_id == external_id, repr(external_id), for_update
    )


def _session(
    db: Session, actor: Actor, which: ColumnElement[bool], named: str, for_update: bool
) -> ChatSession:
    stmt = select(ChatSession).where(ChatSession.tenant_id == actor.tenant_id, which)
    if for_update:
        stmt = stmt.with_for_update()
    found = db.scalar(stmt.execution_options(populate_existing=True))
    if found is None:
        raise NotFound(f"Session {named} not found")
    return found


def customer(db: Session, actor: Actor, customer_id: int) -> Customer:
    """The customer ``customer_id`` of the actor's tenant."""
    found = db.scalar(
        select(Customer).where(Customer.tenant_id == actor.tenant_id, Customer.id == customer_id)
    )
    if found is None:
        raise NotFound(f"Customer {customer_id} not found")
    return found


def agent_or_new(db: Session, actor: Actor, name: str) -> int:
    """The id of the actor's tenant's AI agent called ``name``, made on first sight (a session
    document that names it, a call recording imported for a new agent)."""
    try:
        return agent_id(db, actor, name)
    except NotFound:
        pass
    agent = Agent(tenant_id=actor.tenant_id, name=name)
    db.add(agent)
    db.flush()
    return agent.id


def agent_id(db: Session, actor: Actor, name: str) -> int:
    """The id of the actor's tenant's AI agent called ``name``."""
    found = db.scalar(
        select(Agent.id).where(Agent.tenant_id == actor.tenant_id, Agent.name == name)
    )
    if found is None:
        raise NotFound(f"Agent {name!r} not found")
    return found
