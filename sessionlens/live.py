"""What a page polls to show changes made elsewhere (the HTTP API, a worker, another operator)
without a click: a small signature of what it shows. When the signature changes, the page redraws.

The queries are cheap on purpose: the open session by primary key, the shown rows by primary key
(at most a few pages), and the newest session id of the tenant.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import ChatSession
from sessionlens.permissions import Action, Actor, require


def signature(
    db: Session, *, actor: Actor, open_session: int | None, shown: Sequence[int]
) -> tuple[Any, ...]:
    """Changes when a message arrives in the open session or in a shown row, when one of them
    finishes or changes hands, or when a new session starts."""
    require(actor, Action.VIEW_SESSIONS)
    ids = list({*shown, *([open_session] if open_session else [])})
    rows = (
        db.execute(
            select(
                ChatSession.id,
                ChatSession.message_count,
                ChatSession.last_message_at,
                ChatSession.finished_at,
                ChatSession.mode,
                ChatSession.assigned_user_id,
            )
            .where(ChatSession.tenant_id == actor.tenant_id, ChatSession.id.in_(ids))
            .order_by(ChatSession.id)
        ).all()
        if ids
        else []
    )
    newest = db.scalar(
        select(func.max(ChatSession.id)).where(ChatSession.tenant_id == actor.tenant_id)
    )
    return (newest, *(tuple(r) for r in rows))
