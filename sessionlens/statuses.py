"""A session's status is one of its tenant's configured statuses (Settings → Tenant).

The Statuses filter offers that list only, so a session with any other status could not be found
by it; Settings refuses to drop a status that sessions still have for the same reason. Every write
that sets a status checks it here: the agent runtime's API and the session-v1 import are told
which statuses there are, and the sessions the console opens itself take the tenant's opening
status.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from db.models import Tenant
from sessionlens import audit
from sessionlens.permissions import Action, Actor, require


def problem(status: str) -> str | None:
    """What makes ``status`` unfit for a status's name, or None. The Statuses filter writes its
    statuses into the page's address separated by commas, so "closed, won" would come back as
    two statuses, neither of them this one."""
    if "," in status:
        return "holds a comma, which the Statuses filter uses to separate statuses"
    return None


def of_tenant(db: Session, tenant_id: int) -> list[str]:
    """The tenant's statuses, in display order."""
    return list(db.get_one(Tenant, tenant_id).statuses or [])


def opening(statuses: list[str]) -> str:
    """The status a new session starts with: "open" where the tenant has it, else its first."""
    return "open" if "open" in statuses or not statuses else statuses[0]


def unknown(status: str, statuses: list[str]) -> str | None:
    """Why ``status`` cannot be set (it is not in the list), or None. A tenant without a list
    (Settings never saves one; only a database written by hand) takes any status."""
    if not statuses or status in statuses:
        return None
    return (
        f"{status!r} is not one of this workspace's statuses ({', '.join(statuses)}); "
        "an admin can add it under Settings → Tenant"
    )


def add(db: Session, new: list[str], *, actor: Actor, now: dt.datetime) -> None:
    """Append ``new`` to the actor's tenant's statuses (an admin's import of a file that has
    them), audited as a change of the tenant's settings."""
    require(actor, Action.ADMINISTER)
    t = db.get_one(Tenant, actor.tenant_id, with_for_update=True)
    have = list(t.statuses or [])
    t.statuses = [*have, *(s for s in new if s not in have)]
    audit.record(
        db, actor, "tenant_changed", "tenant", t.id, now=now, changed=["statuses"], added=new
    )
