"""What a page polls to show changes made elsewhere (the HTTP API, a worker, another operator)
without a click: a small signature of what it shows. When the signature changes, the page redraws.

A signature maps each thing a page shows (a row, the open conversation, the queue) to a few
values that change with it. The page compares the signature read now with the same values as it
drew them, read no later than what they stand for: a row's from the row itself, the newest
session's id from before the rows were read. Only a changed value is a change: a key that one
side has and the other not is a row loaded or dropped by the user's own step.

The queries are cheap on purpose: the shown rows and the open session by primary key, and the
newest session id of the tenant.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import ChatSession
from sessionlens.permissions import Action, Actor, require
from sessionlens.sessions import SessionRow

Signature = Mapping[Hashable, object]  # what a page shows -> values that change with it

#: What the table and the chat show of a session that changes while it runs: a message, a finish,
#: a handover, an accept.
WATCHED = ("message_count", "last_message_at", "finished_at", "mode", "assigned_user_id")
_COLUMNS = [getattr(ChatSession, name) for name in WATCHED]


def state(row: SessionRow) -> tuple[Any, ...]:
    """A drawn row's values for the signature, as ``signature`` reads them."""
    return tuple(getattr(row, name) for name in WATCHED)


def newest(db: Session, *, actor: Actor) -> int | None:
    """The tenant's newest session id: read before a page of rows, it tells of sessions started
    after them."""
    require(actor, Action.VIEW_SESSIONS)
    return db.scalar(
        select(func.max(ChatSession.id)).where(ChatSession.tenant_id == actor.tenant_id)
    )


def signature(db: Session, *, actor: Actor, ids: Iterable[int]) -> dict[Hashable, object]:
    """The sessions ``ids`` as ``state`` gives them, and the newest session id: changes when a
    message arrives in one of them, when one finishes or changes hands, or when a session
    starts."""
    wanted = list(set(ids))
    rows = (
        db.execute(
            select(ChatSession.id, *_COLUMNS).where(
                ChatSession.tenant_id == actor.tenant_id, ChatSession.id.in_(wanted)
            )
        ).all()
        if wanted
        else []
    )
    return {"newest": newest(db, actor=actor)} | {r[0]: tuple(r[1:]) for r in rows}


def changed(drawn: Signature, now: Signature) -> bool:
    """Whether something both signatures cover has changed since it was drawn."""
    return any(key in drawn and drawn[key] != value for key, value in now.items())
