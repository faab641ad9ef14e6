"""Saved views: a user's named filters and sort, private or shared with the whole tenant.

A view opens from a stable URL (``?view=<id>``); its query is re-validated every time it is saved.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from db.models import Role, SavedView, Tenant, User
from sessionlens import audit, filter_query, strict
from sessionlens.errors import BadInput, NotFound, PermissionDenied
from sessionlens.permissions import Action, Actor, require
from sessionlens.sessions import SortKey

MAX_NAME = strict.limit(SavedView.name)


@dataclass(frozen=True)
class ViewInfo:
    id: int
    name: str
    shared: bool
    owner_name: str
    mine: bool
    query: dict[str, str]


def save_view(
    db: Session, *, actor: Actor, name: str, query: dict[str, str], shared: bool, now: dt.datetime
) -> ViewInfo:
    """Save the filters and sort in ``query`` under ``name`` (a new view, or replace the actor's
    own view of that name)."""
    require(actor, Action.VIEW_SESSIONS)
    name = strict.text(name, "View name", max_len=MAX_NAME) or ""
    if not name:
        raise BadInput("Give the view a name")
    tenant = db.get_one(Tenant, actor.tenant_id)
    tz, keys = tenant.timezone, [f["key"] for f in tenant.result_fields]
    clean = filter_query.encode(filter_query.parse(query, tz, keys), tz)  # BadInput names it
    sort = query.get("sort", "")
    if sort:
        if sort not in {s.value for s in SortKey}:
            raise BadInput(f"Unknown sort {sort!r}")
        clean["sort"] = sort
    view = db.scalar(
        select(SavedView).where(
            SavedView.tenant_id == actor.tenant_id,
            SavedView.owner_user_id == actor.user_id,
            SavedView.name == name,
        )
    )
    if view is None:
        view = SavedView(
            tenant_id=actor.tenant_id, owner_user_id=actor.user_id, name=name, created_at=now
        )
        db.add(view)
    view.query, view.shared = clean, shared
    db.flush()
    audit.record(db, actor, "save_view", "saved_view", view.id, now=now, name=name, shared=shared)
    return ViewInfo(view.id, view.name, view.shared, actor.name, True, dict(view.query))


def list_views(db: Session, *, actor: Actor) -> list[ViewInfo]:
    """The actor's own views and the views others shared with the tenant, by name."""
    require(actor, Action.VIEW_SESSIONS)
    rows = db.execute(
        select(SavedView, User.name)
        .join(User, User.id == SavedView.owner_user_id)
        .where(
            SavedView.tenant_id == actor.tenant_id,
            or_(SavedView.owner_user_id == actor.user_id, SavedView.shared.is_(True)),
        )
        .order_by(SavedView.name, SavedView.id)
    )
    return [
        ViewInfo(v.id, v.name, v.shared, owner, v.owner_user_id == actor.user_id, dict(v.query))
        for v, owner in rows
    ]


def get_view(db: Session, view_id: int, *, actor: Actor) -> ViewInfo:
    for view in list_views(db, actor=actor):
        if view.id == view_id:
            return view
    raise NotFound(f"Saved view {view_id} not found")


def may_delete(view: ViewInfo, actor: Actor) -> bool:
    """Whether ``actor`` may delete ``view``: its owner, or an admin (a view shared with them)."""
    return view.mine or actor.role == Role.ADMIN


def delete_view(db: Session, *, actor: Actor, view_id: int, now: dt.datetime) -> bool:
    """Delete a view: its owner may, and so may an admin for a shared one. True when done."""
    view = get_view(db, view_id, actor=actor)
    if not may_delete(view, actor):
        raise PermissionDenied("Only the owner or an admin can delete a saved view")
    db.delete(db.get_one(SavedView, view_id))
    audit.record(db, actor, "delete_view", "saved_view", view_id, now=now, name=view.name)
    db.flush()
    return True
