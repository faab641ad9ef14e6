"""Saved views: private or shared, re-validated, scoped to the tenant, deletable by the owner."""

from __future__ import annotations

import pytest

from db.models import Role
from sessionlens import saved_views
from sessionlens.errors import BadInput, NotFound, PermissionDenied
from tests.conftest import NOW
from tests.helpers import actor


def test_private_view_is_seen_by_its_owner_only(db):
    lead, viewer = actor(db), actor(db, 0, Role.VIEWER)
    v = saved_views.save_view(
        db,
        actor=lead,
        name="  Web   escalations ",
        query={"channel": "web", "status": "escalated", "sort": "last_message"},
        shared=False,
        now=NOW,
    )
    assert v.name == "Web escalations"
    assert v.query == {"channel": "web", "status": "escalated", "sort": "last_message"}
    assert [x.id for x in saved_views.list_views(db, actor=lead)] == [v.id]
    assert saved_views.list_views(db, actor=viewer) == []
    with pytest.raises(NotFound):
        saved_views.get_view(db, v.id, actor=viewer)


def test_shared_view_is_seen_by_the_tenant_not_by_other_tenants(db):
    lead, viewer, other = actor(db), actor(db, 0, Role.VIEWER), actor(db, 1)
    v = saved_views.save_view(
        db, actor=lead, name="Sweden", query={"country": "SE"}, shared=True, now=NOW
    )
    seen = saved_views.get_view(db, v.id, actor=viewer)
    assert seen.shared and not seen.mine and seen.owner_name == lead.name
    with pytest.raises(NotFound):
        saved_views.get_view(db, v.id, actor=other)
    with pytest.raises(PermissionDenied):
        saved_views.delete_view(db, actor=viewer, view_id=v.id, now=NOW)
    saved_views.delete_view(db, actor=lead, view_id=v.id, now=NOW)
    assert saved_views.list_views(db, actor=viewer) == []


def test_saving_the_same_name_replaces_the_view(db):
    lead = actor(db)
    a = saved_views.save_view(
        db, actor=lead, name="Mine", query={"channel": "web"}, shared=False, now=NOW
    )
    b = saved_views.save_view(
        db, actor=lead, name="Mine", query={"channel": "email"}, shared=True, now=NOW
    )
    assert a.id == b.id and b.query == {"channel": "email"} and b.shared


@pytest.mark.parametrize(
    "name, query, message",
    [
        ("", {}, "Give the view a name"),
        ("x" * 81, {}, "at most 80 characters"),
        ("Bad IP", {"ip": "1.2.3"}, "not a valid IP address"),
        ("Bad sort", {"sort": "random"}, "Unknown sort"),
    ],
)
def test_bad_views_are_refused_with_a_clear_message(db, name, query, message):
    with pytest.raises(BadInput, match=message):
        saved_views.save_view(db, actor=actor(db), name=name, query=query, shared=False, now=NOW)
