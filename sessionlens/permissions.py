"""Who may do what: the one place that answers it. Pages may hide buttons; these checks still run."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from db.models import Role
from sessionlens.errors import PermissionDenied


@dataclass(frozen=True)
class Actor:
    """The signed-in portal user on whose behalf every domain call runs."""

    user_id: int
    tenant_id: int
    role: str
    name: str
    #: What the user acts through when it is not they who sign in: "API key runtime" for a
    #: request with a key they made. Their audit rows say so (``audit.record``).
    via: str | None = None


class Action(enum.StrEnum):
    VIEW_SESSIONS = "view sessions"
    VIEW_TRACES = "view trace logs"
    HAND_OVER = "hand over sessions"
    EXPORT = "export sessions"
    IMPORT = "import sessions"
    EDIT_CUSTOMER = "edit customers"
    WORK_CONVERSATIONS = "work conversations in the Human Agents workspace"
    ADMINISTER = "manage users, tenant settings, API keys and the audit log"


_READ = frozenset({Action.VIEW_SESSIONS, Action.VIEW_TRACES})
# Admin: everything. Lead (a support lead): everything but what only an admin may. Operator: works
# sessions (hand over, import, export, edit contacts, the Human Agents workspace). Viewer: reads
# sessions, chats, logs and the 360 View. User: signed in, no sessions at all.
_ALLOWED: dict[str, frozenset[Action]] = {
    Role.ADMIN: frozenset(Action),
    Role.LEAD: frozenset(Action) - {Action.ADMINISTER},
    Role.OPERATOR: _READ
    | {
        Action.HAND_OVER,
        Action.IMPORT,
        Action.EXPORT,
        Action.EDIT_CUSTOMER,
        Action.WORK_CONVERSATIONS,
    },
    Role.VIEWER: _READ,
    Role.USER: frozenset(),
}


def can(actor: Actor, action: Action) -> bool:
    return action in _ALLOWED.get(actor.role, frozenset())


def require(actor: Actor, action: Action) -> None:
    if not can(actor, action):
        raise PermissionDenied(f"You do not have permission to {action}")
