"""Signing in with a password, and the signed token a browser keeps for it.

- Passwords are stored as argon2id hashes (argon2-cffi); the plain password lives only in the
  request that checks it: never in session state, a URL or a log.
- Failed checks are limited per account and per client address: after ``ATTEMPTS`` failures in
  ``WINDOW`` the next try is refused before the password is looked at, with "Too many attempts,
  try again in N s". The attempts are rows (``sign_in_attempts``), so the limit holds across app
  processes.
- A sign-in is a token ``<payload>.<HMAC-SHA256>`` naming the user, the user's ``auth_version`` and
  an expiry. Every request checks it against the users table: a deactivated user, a sign-out
  (which raises ``auth_version``) or a password reset ends every browser session of that user at
  its next request.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.models import SignInAttempt, Tenant, User
from sessionlens import audit, strict
from sessionlens.errors import BadInput, DomainError
from sessionlens.identity import actor_for
from sessionlens.kinds import Role
from sessionlens.permissions import Actor
from sessionlens.settings import get_settings

COOKIE = "sessionlens_auth"  # the name of the sign-in cookie
ATTEMPTS = 5
WINDOW = dt.timedelta(minutes=1)
MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # argon2 takes any length; a megabyte pasted is a mistake
_hasher = PasswordHasher()  # argon2id with the library's current parameters
# A hash checked when the email is unknown, so that both answers take the same time.
_DUMMY = _hasher.hash("not a password of anyone")


# The demo data's one password (the README lists its accounts). ``sessionlens demo`` hashes it with
# a fixed salt, so that a seed gives the same data set; that makes its hash one known string.
DEMO_PASSWORD = "sessionlens-demo"


@cache
def demo_password_hash() -> str:
    return _hasher.hash(DEMO_PASSWORD, salt=b"sessionlens-demo")


def demo_admin(db: Session) -> str | None:
    """The email of an admin who still signs in with the demo's password, for the sign-in page to
    name (a first look at ``make run``); None once no admin has it, as in any real deployment."""
    return db.scalar(
        select(User.email)
        .where(
            User.password_hash == demo_password_hash(),
            User.role == Role.ADMIN,
            User.is_active.is_(True),
        )
        .order_by(User.id)
        .limit(1)
    )


class SignInRefused(DomainError):
    """A sign-in that did not happen; the message is for the person signing in."""


def email_key(email: str) -> str:
    return email.strip().lower()


def hash_password(password: str) -> str:
    """The argon2id hash of ``password``, after the one rule a password must meet."""
    if len(password) < MIN_PASSWORD:
        raise BadInput(f"A password needs at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise BadInput(f"A password has at most {MAX_PASSWORD} characters")
    return _hasher.hash(password)


def sign_in(db: Session, email: str, password: str, *, address: str, now: dt.datetime) -> Actor:
    """The actor ``email`` signs in as, or SignInRefused with what to tell them.

    The attempt and (for a known account) an audit row are written in the caller's transaction.
    """
    key, address = email_key(email)[:320], (address or "unknown")[:64]
    wait = _wait(db, key, address, now)
    if wait:
        raise SignInRefused(f"Too many attempts, try again in {wait} s")
    user = db.scalar(select(User).where(func.lower(User.email) == key).order_by(User.id).limit(1))
    ok = _verify(user.password_hash if user else None, password)
    db.add(SignInAttempt(email_key=key, address=address, at=now, ok=ok))
    db.execute(delete(SignInAttempt).where(SignInAttempt.at < now - 10 * WINDOW))
    if user is None or not ok:
        if user is not None:
            audit.record(
                db, actor_for(user), "sign_in_failed", "user", user.id, now=now, address=address
            )
        raise SignInRefused("The email or the password is wrong")
    if not user.is_active:
        raise SignInRefused("This account is deactivated. Ask your administrator.")
    if _hasher.check_needs_rehash(user.password_hash or ""):
        user.password_hash = _hasher.hash(password)
    who = actor_for(user)
    audit.record(db, who, "sign_in", "user", user.id, now=now, address=address)
    return who


def sign_out(db: Session, *, actor: Actor, now: dt.datetime) -> None:
    """End every browser session of ``actor`` (their tokens stop matching ``auth_version``)."""
    user = db.get_one(User, actor.user_id)
    user.auth_version += 1
    audit.record(db, actor, "sign_out", "user", user.id, now=now)


def change_password(
    db: Session,
    *,
    actor: Actor,
    current: str,
    new: str,
    repeated: str,
    address: str,
    now: dt.datetime,
) -> None:
    """``actor`` sets a password of their own (after an invite or a reset whose random password
    an admin passed on, or the demo's). The current password is asked for, so that a browser
    left signed in cannot be used to take the account over; a wrong one counts as a failed
    sign-in, under the same limits. Every other browser session of the user ends (the caller
    issues this one a new token); audited. Refusals are SignInRefused (the limit, the current
    password) or BadInput (the new one), each saying what to do."""
    user = db.get_one(User, actor.user_id)
    key, address = email_key(user.email), (address or "unknown")[:64]
    wait = _wait(db, key, address, now)
    if wait:
        raise SignInRefused(f"Too many attempts, try again in {wait} s")
    ok = _verify(user.password_hash, current)
    db.add(SignInAttempt(email_key=key, address=address, at=now, ok=ok))
    if not ok:
        audit.record(db, actor, "sign_in_failed", "user", user.id, now=now, address=address)
        raise SignInRefused("The current password is wrong")
    if new != repeated:
        raise BadInput("The new password and its repetition differ")
    if new == current:
        raise BadInput("The new password is the current one; choose another")
    if new == DEMO_PASSWORD:
        raise BadInput("That is the demo's published password; choose another")
    user.password_hash = hash_password(new)
    user.auth_version += 1
    audit.record(db, actor, "password_change", "user", user.id, now=now, address=address)


def email_of(db: Session, actor: Actor) -> str:
    return db.get_one(User, actor.user_id).email


def _verify(hashed: str | None, password: str) -> bool:
    try:
        return _hasher.verify(hashed or _DUMMY, password) and hashed is not None
    except (VerificationError, InvalidHashError):
        return False


def _wait(db: Session, key: str, address: str, now: dt.datetime) -> int:
    """Seconds until another try is allowed: 0 unless ATTEMPTS failures fell within WINDOW for
    this account or this address."""
    longest = 0
    for column, value in ((SignInAttempt.email_key, key), (SignInAttempt.address, address)):
        recent = db.scalars(
            select(SignInAttempt.at)
            .where(column == value, SignInAttempt.at > now - WINDOW, SignInAttempt.ok.is_(False))
            .order_by(SignInAttempt.at.desc())
            .limit(ATTEMPTS)
        ).all()
        if len(recent) >= ATTEMPTS:
            free_at = recent[-1] + WINDOW
            longest = max(longest, int((free_at - now).total_seconds()) + 1)
    return longest


# --- the token a browser keeps ------------------------------------------------------------------


def _sign(payload: dict[str, Any], secret: str) -> str:
    body = base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()
    return f"{body}.{_mac(secret, body)}"


def _unsign(token: str, secret: str) -> dict[str, Any] | None:
    body, _, mac = (token or "").partition(".")
    if not body or not hmac.compare_digest(mac, _mac(secret, body)):
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(body.encode()))
    except ValueError:
        return None
    return payload if isinstance(payload, dict) else None


def issue_token(actor: Actor, db: Session, *, secret: str, now: dt.datetime, days: float) -> str:
    """A signed token for ``actor`` that expires after ``days``."""
    user = db.get_one(User, actor.user_id)
    exp = int((now + dt.timedelta(days=days)).timestamp())
    return _sign({"u": user.id, "v": user.auth_version, "exp": exp}, secret)


def actor_from_token(db: Session, token: str, *, secret: str, now: dt.datetime) -> Actor | None:
    """The signed-in actor the token names, or None: a token that was altered, has expired,
    belongs to a deactivated user or predates a sign-out or password reset signs nobody in."""
    payload = _unsign(token, secret)
    if payload is None or "t" in payload:  # a ticket is not a sign-in
        return None
    return _holder(db, payload, now)


def _holder(db: Session, payload: dict[str, Any], now: dt.datetime) -> Actor | None:
    try:
        user_id, version, exp = int(payload["u"]), int(payload["v"]), int(payload["exp"])
    except (ValueError, KeyError, TypeError):
        return None
    if exp <= now.timestamp():
        return None
    user = db.get(User, user_id)
    if user is None or not user.is_active or user.auth_version != version:
        return None
    return actor_for(user)


def issue_ticket(
    actor: Actor,
    db: Session,
    *,
    secret: str,
    now: dt.datetime,
    what: dict[str, Any],
    minutes: float = 10,
) -> str:
    """A signed ticket, valid ``minutes``, that lets ``actor`` fetch one download (``what``)
    from an HTTP route, whichever way they signed in. Like a sign-in, it stops working when the
    user signs out, is deactivated or has their password reset, and the route checks the user's
    rights as they are when it is used."""
    user = db.get_one(User, actor.user_id)
    exp = int((now + dt.timedelta(minutes=minutes)).timestamp())
    return _sign({"t": what, "u": user.id, "v": user.auth_version, "exp": exp}, secret)


def ticket_holder(
    db: Session, ticket: str, *, secret: str, now: dt.datetime
) -> tuple[Actor, dict[str, Any]] | None:
    """The actor and the download a ticket names, or None (altered, expired, user gone)."""
    payload = _unsign(ticket, secret)
    if payload is None or not isinstance(payload.get("t"), dict):
        return None
    actor = _holder(db, payload, now)
    return (actor, payload["t"]) if actor is not None else None


def _mac(secret: str, body: str) -> str:
    return hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()


def secret_key(configured: str, database_url: str) -> str:
    """The key that signs tokens: the configured one, else one made once beside the embedded
    database (or in ./data) and kept there."""
    if configured:
        return configured
    data_dir = Path("data")
    if database_url.startswith("sqlite:///") and ":memory:" not in database_url:
        data_dir = Path(database_url.removeprefix("sqlite:///")).parent
    path = data_dir / "secret_key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(secrets.token_hex(32))
        tmp.chmod(0o600)
        tmp.replace(path)  # two first starts at once: both end with one file
    return path.read_text().strip()


def app_secret() -> str:
    """The key that signs this installation's tokens and tickets (``SESSIONLENS_SECRET_KEY``, or
    the one kept beside the embedded database)."""
    s = get_settings()
    return secret_key(s.secret_key, s.database_url)


def safe_next(raw: str | None) -> str:
    """A path of this site to go to after signing in; anything else (another site, a scheme,
    ``//host``, a line break) becomes ``/``."""
    raw = (raw or "").strip()
    if not raw.startswith("/") or raw.startswith("//") or any(c in raw for c in "\r\n\\"):
        return "/"
    return raw[:2000]


def sign_in_url(next_path: str) -> str:
    return "/auth/sign-in?next=" + quote(safe_next(next_path), safe="")


# --- identities from elsewhere: a trusted proxy, an OpenID Connect provider -------------------


def trusted(address: str | None, proxies: str) -> bool:
    """Whether ``address`` is one of ``proxies`` (comma-separated addresses or networks)."""
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for raw in proxies.split(","):
        raw = raw.strip()
        if not raw:
            continue
        try:
            if ip in ipaddress.ip_network(raw, strict=False):
                return True
        except ValueError:
            continue  # a malformed entry trusts nothing
    return False


def actor_for_email(db: Session, email: str | None) -> Actor | None:
    """The active user an outside identity (proxy header, OIDC) names by email; None for an
    unknown or deactivated one: accounts are made by an admin beforehand, never on sign-in."""
    if not email or "@" not in email:
        return None
    user = db.scalar(select(User).where(func.lower(User.email) == email_key(email)))
    if user is None or not user.is_active:
        return None
    return actor_for(user)


# --- administration -----------------------------------------------------------------------------


def add_user(
    db: Session,
    *,
    email: str,
    name: str,
    role: str,
    password: str | None,
    tenant: str | None = None,
) -> User:
    """A new user of ``tenant`` (its name or id; the first tenant if None) for the CLI."""
    email = strict.email(email, "The email", required=True)
    name = strict.text(name, "The name", max_len=strict.limit(User.name), required=True)
    role = strict.choice(role, "The role", {r.value for r in Role}, noun="role")
    t = tenant_by_ref(db, tenant)
    user = User(
        tenant_id=t.id,
        name=name,
        email=email,
        role=role,
        is_human_agent=role in (Role.OPERATOR, Role.ADMIN, Role.LEAD),
        password_hash=hash_password(password) if password is not None else None,
    )
    with one_user_per_address(db, email):
        db.add(user)
    return user


@contextmanager
def one_user_per_address(db: Session, email: str) -> Iterator[None]:
    """Around adding or renaming a user to ``email``: BadInput when another user has it in any
    case, and nothing of the change is kept (the block runs in a savepoint, opened before it
    changes anything, so a refused rename leaves the user as the database holds them). The one
    check of it: the index of migration 0018, which also refuses the second of two admins giving
    one address at the same moment, when a lookup first would find nothing for either."""
    try:
        with db.begin_nested():
            yield
            db.flush()
    except IntegrityError:
        raise BadInput(f"A user with the email {email} already exists") from None


def tenant_by_ref(db: Session, ref: str | None) -> Tenant:
    """The tenant named or numbered ``ref`` (the first tenant if None), or BadInput."""
    stmt = select(Tenant).order_by(Tenant.id).limit(1)
    if ref:
        tid = strict.id_or_none(ref)
        stmt = select(Tenant).where(
            Tenant.id == tid if tid is not None else func.lower(Tenant.name) == ref.lower()
        )
    found = db.scalar(stmt)
    if found is None:
        raise BadInput(f"No tenant {ref!r}" if ref else "No tenant yet: run `sessionlens demo`")
    return found


def find_user(db: Session, email: str) -> User:
    user = db.scalar(select(User).where(func.lower(User.email) == email_key(email)))
    if user is None:
        raise BadInput(f"No user with the email {email}")
    return user
