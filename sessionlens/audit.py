"""The audit trail: who did what to which row, written in the same transaction as the change."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from db.models import AuditEvent
from sessionlens.permissions import Actor

#: What ``via`` says of a change made with the `sessionlens` command.
COMMAND_LINE = "command line"
#: The target types that name a chat session (older writes say "chat_session", newer "session").
SESSION_TARGETS = ("session", "chat_session")


def record(
    db: Session,
    actor: Actor,
    action: str,
    target_type: str,
    target_id: object,
    *,
    now: dt.datetime,
    **details: Any,
) -> None:
    """Add one audit row for ``actor`` in the actor's tenant; the caller's transaction commits it.
    A change made through an API key names the key (``via``) beside the admin who made it; one
    made with the `sessionlens` command names no user (it runs with a tenant admin's rights, but
    whoever typed it did not sign in), as ``record_cli`` does."""
    if actor.via is not None:
        details = {**details, "via": actor.via}
    db.add(
        AuditEvent(
            tenant_id=actor.tenant_id,
            actor_user_id=None if actor.via == COMMAND_LINE else actor.user_id,
            action=action,
            target_type=target_type,
            target_id=str(target_id),
            at=now,
            details=details,
        )
    )


def record_cli(
    db: Session,
    tenant_id: int,
    action: str,
    target_type: str,
    target_id: object,
    *,
    now: dt.datetime,
    **details: Any,
) -> None:
    """An audit row for a change made with the `sessionlens` command (no signed-in user)."""
    db.add(
        AuditEvent(
            tenant_id=tenant_id,
            actor_user_id=None,
            action=action,
            target_type=target_type,
            target_id=str(target_id),
            at=now,
            details={**details, "via": COMMAND_LINE},
        )
    )
