"""Administration of a tenant: users, settings, API keys and the audit log, on both backends."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from db.models import AuditEvent, User
from sessionlens import admin, auth
from sessionlens.errors import BadInput, NotFound, PermissionDenied
from sessionlens.kinds import Role
from tests.helpers import actor

NOW = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)
SECRET = "test-secret"


def _audit(db, action):
    return db.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_invite_change_role_deactivate_and_reset_are_audited_and_take_effect(db):
    boss = actor(db)
    row = admin.invite_user(
        db,
        actor=boss,
        email="new.person@northwind.example",
        name="New Person",
        role="viewer",
        password="first password 1",
        now=NOW,
    )
    who = auth.sign_in(db, "new.person@northwind.example", "first password 1", address="a", now=NOW)
    assert who.role == Role.VIEWER and who.tenant_id == boss.tenant_id
    token = auth.issue_token(who, db, secret=SECRET, now=NOW, days=1)

    admin.set_role(db, actor=boss, user_id=row.id, role="operator", now=NOW)
    assert auth.actor_from_token(db, token, secret=SECRET, now=NOW).role == Role.OPERATOR
    admin.reset_password(db, actor=boss, user_id=row.id, password="second password 2", now=NOW)
    assert auth.actor_from_token(db, token, secret=SECRET, now=NOW) is None
    with pytest.raises(auth.SignInRefused):
        auth.sign_in(db, "new.person@northwind.example", "first password 1", address="a", now=NOW)
    admin.set_active(db, actor=boss, user_id=row.id, active=False, now=NOW)
    with pytest.raises(auth.SignInRefused, match="deactivated"):
        auth.sign_in(db, "new.person@northwind.example", "second password 2", address="a", now=NOW)
    for action in ("user_added", "role_changed", "password_reset", "user_deactivated"):
        rows = _audit(db, action)
        assert [(r.actor_user_id, r.target_id) for r in rows] == [(boss.user_id, str(row.id))]
    assert _audit(db, "role_changed")[0].details == {"old": "viewer", "new": "operator"}


def test_an_admin_keeps_their_own_access_and_a_tenant_keeps_an_admin(db):
    boss = actor(db)
    with pytest.raises(BadInput, match="your own admin access"):
        admin.set_role(db, actor=boss, user_id=boss.user_id, role="viewer", now=NOW)
    with pytest.raises(BadInput, match="your own admin access"):
        admin.set_active(db, actor=boss, user_id=boss.user_id, active=False, now=NOW)
    second = admin.invite_user(
        db,
        actor=boss,
        email="second.admin@northwind.example",
        name="Second Admin",
        role="admin",
        password="long password",
        now=NOW,
    )
    two = auth.sign_in(db, "second.admin@northwind.example", "long password", address="b", now=NOW)
    admin.set_role(db, actor=two, user_id=boss.user_id, role="viewer", now=NOW)  # allowed: 2 admins
    with pytest.raises(BadInput, match="your own admin access"):
        admin.set_role(db, actor=two, user_id=second.id, role="viewer", now=NOW)


def test_an_admin_corrects_a_users_name_and_email(db):
    """A typo in an invite, a new surname or address: the admin corrects it; the user signs in
    with the new address (the old one no longer), the console shows the new name, and the audit
    row says what changed. A taken address, a bad one or an empty name is named and nothing
    changes; another tenant's user and a non-admin cannot be touched."""
    boss = actor(db)
    row = admin.invite_user(
        db,
        actor=boss,
        email="new.persn@northwind.example",
        name="New Persn",
        role="viewer",
        password="first password 1",
        now=NOW,
    )
    for name, email, message in (
        ("New Person", "grace.kim@NORTHWIND.example", "A user with the email grace.kim@"),
        ("New Person", "new.person", "The email 'new.person' is not an email address"),
        ("  ", "new.person@northwind.example", "The name is required"),
        ("New\x07Person", "new.person@northwind.example", "contains a control character"),
    ):
        with pytest.raises(BadInput, match=message):
            admin.rename_user(db, actor=boss, user_id=row.id, name=name, email=email, now=NOW)
    assert db.get(User, row.id).email == "new.persn@northwind.example"
    assert _audit(db, "user_changed") == []

    fixed = admin.rename_user(
        db,
        actor=boss,
        user_id=row.id,
        name=" New  Person ",
        email="new.person@northwind.example",
        now=NOW,
    )
    assert (fixed.name, fixed.email) == ("New Person", "new.person@northwind.example")
    assert [u.name for u in admin.list_users(db, actor=boss) if u.id == row.id] == ["New Person"]
    who = auth.sign_in(db, "new.person@northwind.example", "first password 1", address="a", now=NOW)
    assert who.name == "New Person"
    with pytest.raises(auth.SignInRefused):
        auth.sign_in(db, "new.persn@northwind.example", "first password 1", address="a", now=NOW)
    (event,) = _audit(db, "user_changed")
    assert event.details == {
        "name": "New Persn → New Person",
        "email": "new.persn@northwind.example → new.person@northwind.example",
    }
    # Only the case of the address changed: the same person, saved as typed
    admin.rename_user(
        db,
        actor=boss,
        user_id=row.id,
        name="New Person",
        email="New.Person@northwind.example",
        now=NOW,
    )
    assert db.get(User, row.id).email == "New.Person@northwind.example"
    with pytest.raises(NotFound):
        admin.rename_user(
            db, actor=actor(db, 1), user_id=row.id, name="X", email="x@example.com", now=NOW
        )
    with pytest.raises(PermissionDenied):
        admin.rename_user(
            db,
            actor=actor(db, 0, Role.LEAD),
            user_id=row.id,
            name="X",
            email="x@example.com",
            now=NOW,
        )


def test_only_admins_administer_and_only_their_own_tenant(db):
    for role in (Role.LEAD, Role.OPERATOR, Role.VIEWER):
        with pytest.raises(PermissionDenied, match="You do not have permission to manage users"):
            admin.list_users(db, actor=actor(db, 0, role))
    other_admin = actor(db, 1)
    mine = db.scalars(select(User).where(User.tenant_id == actor(db).tenant_id)).first()
    with pytest.raises(NotFound):
        admin.set_role(db, actor=other_admin, user_id=mine.id, role="viewer", now=NOW)
    assert mine.id not in {u.id for u in admin.list_users(db, actor=other_admin)}


@pytest.mark.parametrize(
    "change, message",
    [
        ({"timezone": "Mars/Olympus"}, "'Mars/Olympus' is not an IANA zone"),
        ({"statuses": ["", "  "]}, "at least one session status"),
        # the Statuses filter's address separates statuses with commas: it came back as two
        ({"statuses": ["open", "closed, won"]}, "The status 'closed, won' holds a comma"),
        ({"name": ""}, "The tenant name is required"),
        ({"plan": "gold"}, "unknown plan 'gold'"),
        (
            {"result_fields": [{"label": "Pick", "type": "choice", "choices": ""}]},
            "needs its choices",
        ),
        (
            {"result_fields": [{"label": "A", "key": "x"}, {"label": "B", "key": "x"}]},
            "Two result fields",
        ),
        ({"result_fields": [{"label": "Amount", "type": "money"}]}, "unknown type 'money'"),
        (
            {"result_fields": [{"label": "Total", "key": "t" * 65}]},
            "'Total': the key is at most 64 characters; this one has 65",
        ),
        (
            {"result_fields": [{"label": "Pick", "type": "choice", "choices": "a, b\x07"}]},
            "A choice of 'Pick' contains a control character",
        ),
    ],
)
def test_bad_tenant_settings_are_named_and_nothing_changes(db, change, message):
    boss = actor(db)
    before = admin.tenant_settings(db, actor=boss)
    with pytest.raises(BadInput, match=message):
        admin.update_tenant(
            db, actor=boss, settings=admin.TenantSettings(**{**before.__dict__, **change}), now=NOW
        )
    assert admin.tenant_settings(db, actor=boss) == before
    assert not _audit(db, "tenant_changed")


def test_tenant_settings_save_and_are_audited(db):
    boss = actor(db)
    before = admin.tenant_settings(db, actor=boss)
    fields = [
        *before.result_fields,
        {"label": "Refund Reason", "type": "choice", "choices": "size, damage, , size"},
    ]
    changed = admin.update_tenant(
        db,
        actor=boss,
        settings=admin.TenantSettings(
            "Northwind Outfitters GmbH",
            "Europe/Vienna",
            before.plan,
            [*before.statuses, "waiting"],
            fields,
        ),
        now=NOW,
    )
    assert changed == ["name", "timezone", "statuses", "result_fields"]
    after = admin.tenant_settings(db, actor=boss)
    assert after.timezone == "Europe/Vienna" and after.statuses[-1] == "waiting"
    assert after.result_fields[-1] == {
        "key": "refund_reason",
        "label": "Refund Reason",
        "type": "choice",
        "choices": ["size", "damage"],
    }
    assert _audit(db, "tenant_changed")[0].details == {"changed": changed}


def test_a_status_sessions_still_have_cannot_be_removed(db):
    """The Statuses filter offers the tenant's list: dropping a status sessions still carry
    would leave them unfindable by it. The refusal names the status and how many have it;
    removing one no session has is saved."""
    from sqlalchemy import func, select

    from db.models import ChatSession

    boss = actor(db)
    before = admin.tenant_settings(db, actor=boss)
    used = db.execute(
        select(ChatSession.status, func.count())
        .where(ChatSession.tenant_id == boss.tenant_id)
        .group_by(ChatSession.status)
        .order_by(func.count().desc())
    ).first()
    assert used is not None and used[0] in before.statuses
    status, n = used
    kept = [s for s in before.statuses if s != status]
    with pytest.raises(BadInput, match=rf"cannot be removed: '{status}' \({n:,} sessions\)"):
        admin.update_tenant(
            db,
            actor=boss,
            settings=admin.TenantSettings(**{**before.__dict__, "statuses": kept}),
            now=NOW,
        )
    assert admin.tenant_settings(db, actor=boss) == before
    added = [*before.statuses, "on hold"]
    admin.update_tenant(
        db,
        actor=boss,
        settings=admin.TenantSettings(**{**before.__dict__, "statuses": added}),
        now=NOW,
    )
    changed = admin.update_tenant(db, actor=boss, settings=before, now=NOW)  # unused: removed
    assert changed == ["statuses"]
    assert admin.tenant_settings(db, actor=boss).statuses == before.statuses


def test_api_keys_are_shown_once_kept_as_hashes_and_revoked(db):
    boss, other = actor(db), actor(db, 1)
    key = admin.create_api_key(db, actor=boss, name="production runtime", now=NOW)
    assert key.startswith("slk_") and len(key) > 40
    assert admin.api_actor(db, key).tenant_id == boss.tenant_id
    assert admin.api_actor(db, key + "x") is None
    listed = admin.list_api_keys(db, actor=boss)
    assert [(k.name, k.prefix) for k in listed] == [("production runtime", key[:12])]
    assert key not in repr(listed)
    with pytest.raises(NotFound):
        admin.revoke_api_key(db, actor=other, key_id=listed[0].id, now=NOW)
    admin.revoke_api_key(db, actor=boss, key_id=listed[0].id, now=NOW)
    assert admin.api_actor(db, key) is None
    assert [r.action for r in admin.audit_log(db, actor=boss, action="api_key_revoked")] == [
        "api_key_revoked"
    ]
    assert admin.audit_log(db, actor=other, action="api_key_created") == []  # another tenant's log


def test_audit_log_filters_by_user_action_and_time(db):
    boss = actor(db)
    admin.create_api_key(db, actor=boss, name="one", now=NOW)
    admin.create_api_key(db, actor=boss, name="two", now=NOW + dt.timedelta(days=2))
    assert len(admin.audit_log(db, actor=boss, action="api_key_created")) == 2
    late = admin.audit_log(
        db, actor=boss, action="api_key_created", since=NOW + dt.timedelta(days=1)
    )
    assert [r.details["name"] for r in late] == ["two"]
    assert admin.audit_log(db, actor=boss, user_id=boss.user_id + 10_000) == []
    assert "api_key_created" in admin.audit_actions(db, actor=boss)


def test_an_audit_rows_target_names_what_it_was_about(db):
    """A user by name (of this tenant only), a session as "session N" whichever writer recorded
    it ("chat_session" or "session"), other rows by their kind and id."""
    from sessionlens import audit

    boss, other = actor(db), actor(db, 1)
    boss_name = db.get(User, boss.user_id).name
    audit.record(db, boss, "probe_user", "user", boss.user_id, now=NOW)
    audit.record(db, boss, "probe_foreign_user", "user", other.user_id, now=NOW)
    audit.record(db, boss, "probe_session", "chat_session", 17, now=NOW)
    audit.record(db, boss, "probe_session", "session", 18, now=NOW)
    audit.record(db, boss, "probe_key", "api_key", 3, now=NOW)
    targets = {(r.action, r.target) for r in admin.audit_log(db, actor=boss) if "probe" in r.action}
    assert targets == {
        ("probe_user", f"user {boss_name} ({boss.user_id})"),
        ("probe_foreign_user", f"user {other.user_id}"),  # another tenant's user is not named
        ("probe_session", "session 17"),
        ("probe_session", "session 18"),
        ("probe_key", "API key 3"),
    }
