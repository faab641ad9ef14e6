"""What a page polls to show changes made elsewhere (the HTTP API, a worker, another operator)
without a click: a small signature of what it shows. When the signature changes, the page redraws.

A signature maps each thing a page shows (a row, the open conversation, the queue) to a few
values that change with it. Only a changed value is a change: a key that appears or goes is what
the page itself did (Load More, a Refresh, another conversation opened), and redrawing for it
would undo the user's own step.

The queries are cheap on purpose: the open session by primary key, the shown rows by primary key
(at most a few pages), and the newest session id of the tenant.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import ChatSession
from sessionlens.permissions import Action, Actor, require

Signature = Mapping[Hashable, object]  # what a page shows -> values that change with it


def signature(
    db: Session, *, actor: Actor, open_session: int | None, shown: Sequence[int]
) -> dict[Hashable, object]:
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
            ).where(ChatSession.tenant_id == actor.tenant_id, ChatSession.id.in_(ids))
        ).all()
        if ids
        else []
    )
    newest = db.scalar(
        select(func.max(ChatSession.id)).where(ChatSession.tenant_id == actor.tenant_id)
    )
    return {"newest": newest} | {r[0]: tuple(r[1:]) for r in rows}


def changed(before: Signature, now: Signature) -> bool:
    """Whether something both signatures cover has changed between them."""
    return any(key in before and before[key] != value for key, value in now.items())


def carried(before: Signature, now: Signature) -> dict[Hashable, object]:
    """``now``'s keys with the values ``before`` saw first: what a page read before it drew stays
    the reference, so that a change landing while it drew is still a change at the next poll."""
    return {key: before.get(key, value) for key, value in now.items()}
