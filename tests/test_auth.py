"""Signing in: passwords, the per-account and per-address limits, the token a browser keeps, who
may do what; on SQLite and Postgres. The HTTP form itself is tried in tests/test_browser.py."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from db.models import AuditEvent, User
from sessionlens import auth, permissions
from sessionlens.auth import DEMO_PASSWORD
from sessionlens.errors import BadInput
from sessionlens.kinds import Role
from sessionlens.permissions import Action

NOW = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)
ADMIN = "dana.whitfield@northwind.example"
SECRET = "test-secret"


def _signed_in(db, email=ADMIN, password=DEMO_PASSWORD, address="10.0.0.1", now=NOW):
    return auth.sign_in(db, email, password, address=address, now=now)


def test_demo_accounts_sign_in_with_the_documented_password(db):
    who = _signed_in(db, "Dana.Whitfield@Northwind.example")  # email case does not matter
    assert who.name == "Dana Whitfield" and who.role == Role.ADMIN
    rows = db.scalars(select(AuditEvent).where(AuditEvent.action == "sign_in")).all()
    assert [(r.actor_user_id, r.details["address"]) for r in rows] == [(who.user_id, "10.0.0.1")]


def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(db):
    with pytest.raises(auth.SignInRefused, match="The email or the password is wrong"):
        _signed_in(db, password="not the password")
    with pytest.raises(auth.SignInRefused, match="The email or the password is wrong"):
        _signed_in(db, email="nobody@example.com")
    failed = db.scalars(select(AuditEvent).where(AuditEvent.action == "sign_in_failed")).all()
    assert len(failed) == 1  # the known account's failure is audited in its tenant


def test_five_failures_in_a_minute_lock_the_account_then_it_opens_again(db):
    for i in range(5):
        with pytest.raises(auth.SignInRefused, match="wrong"):
            _signed_in(
                db, password="guess", address=f"10.0.1.{i}", now=NOW + dt.timedelta(seconds=i)
            )
    with pytest.raises(auth.SignInRefused, match=r"Too many attempts, try again in 5[0-9] s"):
        _signed_in(db, address="10.9.9.9", now=NOW + dt.timedelta(seconds=6))  # right password
    assert _signed_in(db, now=NOW + dt.timedelta(seconds=61)).name == "Dana Whitfield"


def test_five_failures_from_one_address_lock_that_address_for_every_account(db):
    emails = db.scalars(select(User.email).order_by(User.id).limit(6)).all()
    for i, email in enumerate(emails[:5]):
        with pytest.raises(auth.SignInRefused, match="wrong"):
            _signed_in(
                db,
                email=email,
                password="guess",
                address="203.0.113.7",
                now=NOW + dt.timedelta(seconds=i),
            )
    with pytest.raises(auth.SignInRefused, match="Too many attempts"):
        _signed_in(db, email=emails[5], address="203.0.113.7", now=NOW + dt.timedelta(seconds=10))
    assert _signed_in(
        db, email=emails[5], address="198.51.100.1", now=NOW + dt.timedelta(seconds=10)
    )


def test_a_deactivated_user_cannot_sign_in_and_their_token_stops_working(db):
    who = _signed_in(db)
    token = auth.issue_token(who, db, secret=SECRET, now=NOW, days=7)
    assert auth.actor_from_token(db, token, secret=SECRET, now=NOW) == who
    db.get_one(User, who.user_id).is_active = False
    db.flush()
    assert auth.actor_from_token(db, token, secret=SECRET, now=NOW) is None
    with pytest.raises(auth.SignInRefused, match="deactivated"):
        _signed_in(db)


def test_tampered_expired_and_signed_out_tokens_sign_nobody_in(db):
    who = _signed_in(db)
    token = auth.issue_token(who, db, secret=SECRET, now=NOW, days=1)
    body, mac = token.split(".")
    other = db.scalars(select(User).where(User.id != who.user_id)).first()
    import base64
    import json

    forged = base64.urlsafe_b64encode(
        json.dumps({"u": other.id, "v": 0, "exp": 4102444800}).encode()
    ).decode()
    assert auth.actor_from_token(db, f"{forged}.{mac}", secret=SECRET, now=NOW) is None
    assert auth.actor_from_token(db, token, secret="another key", now=NOW) is None
    assert auth.actor_from_token(db, "garbage", secret=SECRET, now=NOW) is None
    late = NOW + dt.timedelta(days=1, seconds=1)
    assert auth.actor_from_token(db, token, secret=SECRET, now=late) is None
    auth.sign_out(db, actor=who, now=NOW)
    assert auth.actor_from_token(db, token, secret=SECRET, now=NOW) is None  # every tab signs out


def test_a_user_sets_a_password_of_their_own(db):
    """After an invite, a reset or the demo, the password is one somebody else knew: the user
    changes it, giving the current one. The old one stops working, every other browser of
    theirs is signed out, and the change is audited."""
    grace = "grace.kim@northwind.example"
    who = _signed_in(db, grace)
    other_tab = auth.issue_token(who, db, secret=SECRET, now=NOW, days=1)

    def change(current=DEMO_PASSWORD, new="a long one of my own", repeated=None, at=NOW):
        auth.change_password(
            db,
            actor=who,
            current=current,
            new=new,
            repeated=new if repeated is None else repeated,
            address="10.0.0.7",
            now=at,
        )

    for kw, message in (
        ({"new": "short"}, "at least 10 characters"),
        ({"new": "x" * 1025}, "at most 1024 characters"),
        ({"repeated": "a long one of my owm"}, "The new password and its repetition differ"),
        ({"new": DEMO_PASSWORD}, "The new password is the current one"),
        ({"current": "a long one of my own", "new": DEMO_PASSWORD + "!"}, None),
    ):
        if message is None:  # a wrong current password: refused like a wrong sign-in
            with pytest.raises(auth.SignInRefused, match="The current password is wrong"):
                change(**kw)
        else:
            with pytest.raises(BadInput, match=message):
                change(**kw)
    assert _signed_in(db, grace).name == "Grace Kim"  # nothing changed yet
    assert auth.actor_from_token(db, other_tab, secret=SECRET, now=NOW) is not None

    change()
    assert _signed_in(db, grace, password="a long one of my own").name == "Grace Kim"
    with pytest.raises(auth.SignInRefused, match="wrong"):
        _signed_in(db, grace)
    assert auth.actor_from_token(db, other_tab, secret=SECRET, now=NOW) is None
    row = db.scalars(select(AuditEvent).where(AuditEvent.action == "password_change")).one()
    assert row.actor_user_id == who.user_id and row.details == {"address": "10.0.0.7"}
    # The demo's published password is no password of one's own
    with pytest.raises(BadInput, match="the demo's published password"):
        change(current="a long one of my own", new=DEMO_PASSWORD)


def test_guessing_the_current_password_is_limited_as_sign_ins_are(db):
    """A browser left signed in must not let someone try passwords without end."""
    who = _signed_in(db, "grace.kim@northwind.example")
    for i in range(5):
        with pytest.raises(auth.SignInRefused, match="The current password is wrong"):
            auth.change_password(
                db,
                actor=who,
                current=f"guess {i}",
                new="a long one of my own",
                repeated="a long one of my own",
                address="10.0.0.8",
                now=NOW + dt.timedelta(seconds=i),
            )
    with pytest.raises(auth.SignInRefused, match="Too many attempts, try again in"):
        auth.change_password(
            db,
            actor=who,
            current=DEMO_PASSWORD,
            new="a long one of my own",
            repeated="a long one of my own",
            address="10.0.0.8",
            now=NOW + dt.timedelta(seconds=6),
        )
    with pytest.raises(auth.SignInRefused, match="Too many"):  # and signing in, for that account
        _signed_in(db, "grace.kim@northwind.example", now=NOW + dt.timedelta(seconds=7))


def test_passwords_are_stored_as_argon2id_and_short_ones_refused(db):
    user = auth.add_user(
        db,
        email="new.op@northwind.example",
        name="New Op",
        role="operator",
        password="correct horse battery",
    )
    assert user.password_hash.startswith("$argon2id$")
    assert "correct horse" not in user.password_hash
    assert _signed_in(db, email="new.op@northwind.example", password="correct horse battery")
    with pytest.raises(BadInput, match="at least 10 characters"):
        auth.hash_password("short")
    with pytest.raises(BadInput, match="already exists"):
        auth.add_user(
            db,
            email="NEW.OP@northwind.example",
            name="Again",
            role="viewer",
            password="another long one",
        )
    with pytest.raises(BadInput, match="unknown role 'boss'"):
        auth.add_user(db, email="x@northwind.example", name="X", role="boss", password=None)


@pytest.mark.parametrize(
    "typed, message",
    [
        ("", "The email is required"),
        ("dana", "The email 'dana' is not an email address"),
        ("tab\there@northwind.example", "The email 'tab here@northwind.example' is not an email"),
        ("two@@northwind.example", "The email 'two@@northwind.example' is not an email"),
        ("dana@localhost", "The email 'dana@localhost' is not an email"),
        ("dana@northwind.", "The email 'dana@northwind.' is not an email"),
        ("x" * 65 + "@northwind.example", "at most 64 characters before the @ and 254 in all"),
        ("d" * 60 + "@" + "n" * 200 + ".example", "254 in all; this one has 269"),
    ],
)
def test_an_invited_user_needs_a_real_email_address(db, typed, message):
    """The admin's Invite form and `sessionlens users add` take one parser's word for an email
    (the contact edit takes the same): a tab or a missing dot was once invited as it was typed,
    and that user could never be found by the address they sign in with."""
    with pytest.raises(BadInput, match=re.escape(message)):
        auth.add_user(db, email=typed, name="New Op", role="operator", password=None)
    assert db.scalar(select(func.count()).select_from(User).where(User.name == "New Op")) == 0
    user = auth.add_user(
        db, email="  new.op@northwind.example ", name="New Op", role="operator", password=None
    )
    assert user.email == "new.op@northwind.example"  # blanks around it are not kept


def test_a_tenant_is_named_by_its_name_or_its_id(db):
    """`sessionlens users add --tenant` and `demo`'s tenant take a name or an id; what only
    looks like an id ("²", twenty digits) is a name no tenant has, not a crash in int()."""
    first = auth.tenant_by_ref(db, None)
    assert auth.tenant_by_ref(db, str(first.id)).id == first.id
    assert auth.tenant_by_ref(db, first.name.upper()).id == first.id
    for ref in ("²", "9" * 20):
        with pytest.raises(BadInput, match=re.escape(f"No tenant {ref!r}")):
            auth.tenant_by_ref(db, ref)


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("/?session=5", "/?session=5"),
        ("/customer?customer=2", "/customer?customer=2"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("/ok\r\nSet-Cookie: x=1", "/"),
        ("", "/"),
        (None, "/"),
    ],
)
def test_after_sign_in_only_addresses_of_this_site_are_followed(raw, expected):
    assert auth.safe_next(raw) == expected


ROLE_MATRIX = {
    Role.ADMIN: set(Action),
    Role.LEAD: set(Action) - {Action.ADMINISTER},
    Role.OPERATOR: {
        Action.VIEW_SESSIONS,
        Action.VIEW_TRACES,
        Action.HAND_OVER,
        Action.IMPORT,
        Action.EXPORT,
        Action.EDIT_CUSTOMER,
        Action.WORK_CONVERSATIONS,
    },
    Role.VIEWER: {Action.VIEW_SESSIONS, Action.VIEW_TRACES},
    Role.USER: set(),
}


@pytest.mark.parametrize("role", list(ROLE_MATRIX))
@pytest.mark.parametrize("action", list(Action))
def test_role_matrix(role, action):
    who = permissions.Actor(user_id=1, tenant_id=1, role=role, name="X")
    if action in ROLE_MATRIX[role]:
        permissions.require(who, action)
    else:
        with pytest.raises(
            permissions.PermissionDenied, match=f"You do not have permission to {action}"
        ):
            permissions.require(who, action)


@pytest.mark.parametrize(
    "address, proxies, trusted",
    [
        ("127.0.0.1", "127.0.0.1", True),
        ("10.1.2.3", "10.0.0.0/8, 192.168.0.1", True),
        ("10.1.2.3", "10.0.0.1", False),
        ("::1", "127.0.0.1", False),
        ("::1", "::1", True),
        ("127.0.0.1", "", False),
        ("127.0.0.1", "not-an-address", False),
        (None, "127.0.0.1", False),
        ("garbage", "0.0.0.0/0", False),
    ],
)
def test_only_configured_proxies_are_trusted(address, proxies, trusted):
    assert auth.trusted(address, proxies) is trusted


def test_an_outside_identity_signs_in_only_known_active_users(db):
    assert auth.actor_for_email(db, "Grace.Kim@northwind.example").name == "Grace Kim"
    assert auth.actor_for_email(db, "stranger@example.com") is None  # no account made on sign-in
    assert auth.actor_for_email(db, None) is None and auth.actor_for_email(db, "") is None
    db.scalars(
        select(User).where(User.email == "grace.kim@northwind.example")
    ).one().is_active = False
    db.flush()
    assert auth.actor_for_email(db, "grace.kim@northwind.example") is None


@pytest.mark.parametrize(
    "mode, peer, proxies, kept",
    [
        ("header", "10.0.0.5", "10.0.0.0/24", True),
        ("header", "203.0.113.9", "10.0.0.0/24", False),  # the browser sent it itself
        ("local", "10.0.0.5", "10.0.0.0/24", False),  # header mode is off
        ("header", None, "10.0.0.0/24", False),
    ],
)
def test_the_proxy_header_passes_the_edge_only_from_the_proxy(
    monkeypatch, mode, peer, proxies, kept
):
    import asyncio

    from sessionlens.settings import get_settings
    from web.proxy import ProxyHeaderGate

    monkeypatch.setenv("SESSIONLENS_AUTH", mode)
    monkeypatch.setenv("SESSIONLENS_TRUSTED_PROXIES", proxies)
    get_settings.cache_clear()
    seen = {}

    async def inner(scope, receive, send):
        seen.update(dict(scope["headers"]))

    for kind in ("http", "websocket"):
        seen.clear()
        scope = {
            "type": kind,
            "client": (peer, 5000) if peer else None,
            "headers": [(b"x-forwarded-email", b"grace.kim@northwind.example"), (b"host", b"x")],
        }
        asyncio.run(ProxyHeaderGate(inner)(scope, None, None))
        assert (b"x-forwarded-email" in seen) is kept and seen[b"host"] == b"x"
    get_settings.cache_clear()


def test_the_demo_admin_is_named_only_while_an_admin_keeps_the_demo_password(db):
    """The sign-in page's hint (web/auth.py): gone once the demo's admins have other passwords,
    and never for an operator who kept it."""
    assert auth.demo_admin(db) == ADMIN
    for u in db.scalars(select(User).where(User.role == Role.ADMIN)):
        u.password_hash = auth.hash_password("a password of their own")
    db.flush()
    assert auth.demo_admin(db) is None
    assert db.scalar(select(User).where(User.password_hash == auth.demo_password_hash()))
