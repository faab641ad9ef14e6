"""Administration of a tenant: its users, its settings, its API keys, and the audit log.

Only an admin may call these (``Action.ADMINISTER``); every change writes its audit row in the same
transaction. Two rules keep a tenant manageable: an admin cannot take away their own admin role or
deactivate themselves, and the last active admin of a tenant stays an active admin.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import zoneinfo
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, bindparam, func, select
from sqlalchemy.orm import Session

from db.models import ApiKey, AuditEvent, ChatSession, Tenant, User
from sessionlens import audit, auth, human_agents, strict
from sessionlens import statuses as session_statuses
from sessionlens.errors import BadInput, NotFound
from sessionlens.kinds import Plan, Role
from sessionlens.permissions import Action, Actor, require
from sessionlens.wording import counted

FIELD_TYPES = ("str", "int", "bool", "date", "datetime", "list", "choice")
KEY_PREFIX = "slk_"


# --- users ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UserRow:
    id: int
    name: str
    email: str
    role: str
    is_active: bool
    can_sign_in: bool  # has a password


def list_users(db: Session, *, actor: Actor) -> list[UserRow]:
    require(actor, Action.ADMINISTER)
    users = db.scalars(select(User).where(User.tenant_id == actor.tenant_id).order_by(User.name))
    return [
        UserRow(u.id, u.name, u.email, u.role, u.is_active, u.password_hash is not None)
        for u in users
    ]


def invite_user(
    db: Session, *, actor: Actor, email: str, name: str, role: str, password: str, now: dt.datetime
) -> UserRow:
    """A new user of the actor's tenant who signs in with ``password`` (tell them; they set one
    of their own with ``auth.change_password``)."""
    require(actor, Action.ADMINISTER)
    user = auth.add_user(
        db, email=email, name=name, role=role, password=password, tenant=str(actor.tenant_id)
    )
    audit.record(db, actor, "user_added", "user", user.id, now=now, email=user.email, role=role)
    return UserRow(user.id, user.name, user.email, user.role, True, True)


def _user(db: Session, actor: Actor, user_id: int) -> User:
    found = db.scalar(
        select(User).where(User.tenant_id == actor.tenant_id, User.id == user_id).with_for_update()
    )
    if found is None:
        raise NotFound(f"User {user_id} not found")
    return found


def _keep_an_admin(db: Session, actor: Actor, user: User, *, role: str, active: bool) -> None:
    if user.id == actor.user_id and (role != Role.ADMIN or not active):
        raise BadInput("You cannot take away your own admin access; ask another admin")
    if user.role == Role.ADMIN and user.is_active and (role != Role.ADMIN or not active):
        others = db.scalar(
            select(func.count())
            .select_from(User)
            .where(
                User.tenant_id == actor.tenant_id,
                User.role == Role.ADMIN,
                User.is_active,
                User.id != user.id,
            )
        )
        if not others:
            raise BadInput("A tenant needs at least one active admin")


def set_role(db: Session, *, actor: Actor, user_id: int, role: str, now: dt.datetime) -> None:
    require(actor, Action.ADMINISTER)
    role = strict.choice(role, "The role", {r.value for r in Role}, noun="role")
    user = _user(db, actor, user_id)
    if user.role == role:
        return
    _keep_an_admin(db, actor, user, role=role, active=user.is_active)
    audit.record(db, actor, "role_changed", "user", user.id, now=now, old=user.role, new=role)
    user.role = role


def rename_user(
    db: Session, *, actor: Actor, user_id: int, name: str, email: str, now: dt.datetime
) -> UserRow:
    """Correct a user's name or email (a typo in an invite, a changed surname or address): the
    email is the one they sign in with from then on, checked as an invite's is and unique across
    every tenant; the name is what the console shows for them from then on, over their messages
    too (the chat reads a human agent's name from their user); the grey markers written before
    keep the name in their text. Audited with what changed."""
    require(actor, Action.ADMINISTER)
    user = _user(db, actor, user_id)
    new_name = strict.text(name, "The name", max_len=strict.limit(User.name), required=True)
    new_email = strict.email(email, "The email", required=True)
    # What changed, as the Audit page reads it: "name: New Persn → New Person".
    changed = {
        field: f"{old} → {new}"
        for field, old, new in (("name", user.name, new_name), ("email", user.email, new_email))
        if old != new
    }
    if changed:
        with auth.one_user_per_address(db, new_email):
            user.name, user.email = new_name, new_email
        audit.record(db, actor, "user_changed", "user", user.id, now=now, **changed)
    return UserRow(
        user.id, user.name, user.email, user.role, user.is_active, user.password_hash is not None
    )


def set_active(db: Session, *, actor: Actor, user_id: int, active: bool, now: dt.datetime) -> int:
    """Deactivate (signed out at their next click, cannot sign in) or reactivate a user.

    A deactivated human agent's open conversations go back to the Human Agents queue: nobody
    could answer them otherwise (only the assignee replies), and "Unassigned" is where a
    teammate looks for work. Each such session's System Logs say so. Returns how many went back.
    """
    require(actor, Action.ADMINISTER)
    user = _user(db, actor, user_id)
    if user.is_active == active:
        return 0
    _keep_an_admin(db, actor, user, role=user.role, active=active)
    if active:
        user.is_active = True
        user.auth_version += 1
        audit.record(db, actor, "user_activated", "user", user.id, now=now)
        return 0
    returned = deactivate(db, user, by=actor.name, now=now)
    audit.record(
        db, actor, "user_deactivated", "user", user.id, now=now, **returned_details(returned)
    )
    return returned


def deactivate(db: Session, user: User, *, by: str, now: dt.datetime) -> int:
    """What deactivating ``user`` does, from Settings (``set_active``, which checks the rights
    and the last admin) or the command line: they cannot sign in and are signed out at their
    next request, and their open conversations go back to the queue (how many is returned).
    The caller writes the audit row, with ``returned_details``."""
    user.is_active = False
    user.auth_version += 1
    return human_agents.back_to_the_queue(db, tenant_id=user.tenant_id, user=user, by=by, now=now)


def returned_details(returned: int) -> dict[str, int]:
    """A deactivation's audit details: how many conversations went back, when any did."""
    return {"conversations_returned": returned} if returned else {}


def reset_password(
    db: Session, *, actor: Actor, user_id: int, password: str, now: dt.datetime
) -> None:
    """A new password for the user; every browser session of theirs ends."""
    require(actor, Action.ADMINISTER)
    user = _user(db, actor, user_id)
    user.password_hash = auth.hash_password(password)
    user.auth_version += 1
    audit.record(db, actor, "password_reset", "user", user.id, now=now)


# --- the tenant ----------------------------------------------------------------------------------


def add_tenant(db: Session, *, name: str, timezone: str, plan: str, now: dt.datetime) -> Tenant:
    """A new, empty tenant (for the CLI: its first admin comes next with `users add --tenant`)."""
    label = strict.text(name, "The tenant name", max_len=strict.limit(Tenant.name), required=True)
    _check_zone(timezone)
    plan = strict.choice(plan, "The plan", {p.value for p in Plan}, noun="plan")
    if db.scalar(select(Tenant.id).where(func.lower(Tenant.name) == label.lower())):
        raise BadInput(f"A tenant named {label} already exists")
    t = Tenant(
        name=label,
        timezone=timezone,
        plan=plan,
        statuses=["open", "closed"],
        result_fields=[],
        created_at=now,
    )
    db.add(t)
    db.flush()
    audit.record_cli(db, t.id, "tenant_added", "tenant", t.id, now=now, name=label)
    return t


def _check_zone(timezone: str) -> None:
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise BadInput(
            f"The time zone {strict.quote(timezone)} is not an IANA zone (for example Europe/Berlin)"
        ) from None


@dataclass(frozen=True)
class TenantSettings:
    name: str
    timezone: str
    plan: str
    statuses: list[str]
    result_fields: list[dict[str, Any]]


def tenant_settings(db: Session, *, actor: Actor) -> TenantSettings:
    require(actor, Action.ADMINISTER)
    t = db.get_one(Tenant, actor.tenant_id)
    return TenantSettings(t.name, t.timezone, t.plan, list(t.statuses), list(t.result_fields))


def update_tenant(
    db: Session, *, actor: Actor, settings: TenantSettings, now: dt.datetime
) -> list[str]:
    """Check and save the tenant's settings; the names of the settings that changed."""
    require(actor, Action.ADMINISTER)
    name = strict.text(
        settings.name, "The tenant name", max_len=strict.limit(Tenant.name), required=True
    )
    _check_zone(settings.timezone)
    plan = strict.choice(settings.plan, "The plan", {p.value for p in Plan}, noun="plan")
    statuses: list[str] = []
    for raw in settings.statuses:
        status = strict.text(raw, "A status", max_len=strict.limit(ChatSession.status))
        if status and (why := session_statuses.problem(status)):
            raise BadInput(f"The status {strict.quote(status)} {why}")
        if status and status not in statuses:
            statuses.append(status)
    if not statuses:
        raise BadInput("A tenant needs at least one session status")
    fields = _result_fields(settings.result_fields)
    t = db.scalar(select(Tenant).where(Tenant.id == actor.tenant_id).with_for_update())
    assert t is not None
    _keep_statuses_in_use(db, t, statuses)
    new = {
        "name": name,
        "timezone": settings.timezone,
        "plan": plan,
        "statuses": statuses,
        "result_fields": fields,
    }
    changed = [k for k, v in new.items() if getattr(t, k) != v]
    for k in changed:
        setattr(t, k, new[k])
    if changed:
        audit.record(db, actor, "tenant_changed", "tenant", t.id, now=now, changed=changed)
    return changed


def _keep_statuses_in_use(db: Session, t: Tenant, statuses: list[str]) -> None:
    """Refuse to drop a status that sessions still have: the Statuses filter offers the
    tenant's list only, so they could no longer be found by it (nor by a link naming it)."""
    removed = [s for s in t.statuses or [] if s not in statuses]
    if not removed:
        return
    in_use = db.execute(
        select(ChatSession.status, func.count())
        .where(ChatSession.tenant_id == t.id, ChatSession.status.in_(removed))
        .group_by(ChatSession.status)
        .order_by(ChatSession.status)
    ).all()
    if in_use:
        named = ", ".join(f"{s!r} ({counted(n, 'session')})" for s, n in in_use)
        raise BadInput(
            f"A status that sessions still have cannot be removed: {named}; the Statuses "
            "filter could no longer find them. Keep it in the list"
        )


#: A result field's key is what the agent runtime sends its value under (``results`` in the API):
#: a name, not a text.
MAX_RESULT_KEY = 64


def _result_fields(raw: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    keys: set[str] = set()
    for i, f in enumerate(raw, 1):
        label = strict.text(str(f.get("label") or ""), f"Result field {i}'s name", max_len=80)
        if not label:
            continue  # an empty row of the editor
        kind = str(f.get("type") or "str")
        if kind not in FIELD_TYPES:
            raise BadInput(
                f"Result field {label!r}: unknown type {kind!r} (one of {', '.join(FIELD_TYPES)})"
            )
        key = str(f.get("key") or "").strip() or "_".join(label.lower().split())
        if not key.replace("_", "").isalnum():
            raise BadInput(
                f"Result field {label!r}: the key {strict.quote(key)} may hold letters, digits"
                " and _"
            )
        if len(key) > MAX_RESULT_KEY:
            raise BadInput(
                f"Result field {label!r}: the key is at most {MAX_RESULT_KEY} characters;"
                f" this one has {len(key):,}"
            )
        if key in keys:
            raise BadInput(f"Two result fields have the key {key!r}")
        keys.add(key)
        field: dict[str, Any] = {"key": key, "label": label, "type": kind}
        if kind == "choice":
            given = f.get("choices")
            choices: list[str] = []
            for raw_choice in given if isinstance(given, list) else str(given or "").split(","):
                choice = strict.text(str(raw_choice), f"A choice of {label!r}", max_len=80)
                if choice and choice not in choices:  # "size, size" is one choice
                    choices.append(choice)
            if not choices:
                raise BadInput(
                    f"Result field {label!r}: a choice needs its choices, comma-separated"
                )
            field["choices"] = choices
        out.append(field)
    return out


# --- API keys ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApiKeyRow:
    id: int
    name: str
    prefix: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def list_api_keys(db: Session, *, actor: Actor) -> list[ApiKeyRow]:
    require(actor, Action.ADMINISTER)
    keys = db.scalars(
        select(ApiKey).where(ApiKey.tenant_id == actor.tenant_id).order_by(ApiKey.id.desc())
    )
    return [ApiKeyRow(k.id, k.name, k.prefix, k.created_at, k.revoked_at) for k in keys]


def create_api_key(db: Session, *, actor: Actor, name: str, now: dt.datetime) -> str:
    """A new key for the tenant's agent runtime; the return value is the only time it is seen."""
    require(actor, Action.ADMINISTER)
    label = strict.text(name, "The key's name", max_len=strict.limit(ApiKey.name), required=True)
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(
        tenant_id=actor.tenant_id,
        name=label,
        prefix=key[:12],
        key_hash=key_hash(key),
        created_at=now,
        created_by_user_id=actor.user_id,
    )
    db.add(row)
    db.flush()
    audit.record(db, actor, "api_key_created", "api_key", row.id, now=now, name=label)
    return key


def revoke_api_key(db: Session, *, actor: Actor, key_id: int, now: dt.datetime) -> None:
    require(actor, Action.ADMINISTER)
    row = db.scalar(select(ApiKey).where(ApiKey.tenant_id == actor.tenant_id, ApiKey.id == key_id))
    if row is None:
        raise NotFound(f"API key {key_id} not found")
    if row.revoked_at is None:
        row.revoked_at = now
        audit.record(db, actor, "api_key_revoked", "api_key", row.id, now=now, name=row.name)


def _live_key(db: Session, key: str) -> Any:
    """The presented key's row (tenant, name, creator), or None if unknown or revoked."""
    db.flush()  # a Core statement does not autoflush: a revocation in this session counts
    return db.connection().execute(_LIVE_KEY, {"hash": key_hash(key)}).first()


# Asked on every API request: built once, run on the Core connection.
_KEYS: Table = ApiKey.__table__  # type: ignore[assignment]
_LIVE_KEY = select(_KEYS.c.tenant_id, _KEYS.c.name, _KEYS.c.created_by_user_id).where(
    _KEYS.c.key_hash == bindparam("hash"), _KEYS.c.revoked_at.is_(None)
)


def api_actor(db: Session, key: str) -> Actor | None:
    """Who acts for a request that presents ``key``: an Operator of the key's tenant named after
    the key (its audit rows name the admin who made it, "via: API key <name>"); None for an
    unknown or revoked key."""
    row = _live_key(db, key)
    if row is None:
        return None
    user_id = row.created_by_user_id or db.scalar(
        select(User.id)
        .where(User.tenant_id == row.tenant_id, User.role == Role.ADMIN)
        .order_by(User.id)
        .limit(1)
    )
    if user_id is None:
        return None
    name = f"API key {row.name}"
    return Actor(user_id=user_id, tenant_id=row.tenant_id, role=Role.OPERATOR, name=name, via=name)


# --- the audit log -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditRow:
    at: dt.datetime
    user: str
    action: str
    target: str
    details: dict[str, Any]


def audit_log(
    db: Session,
    *,
    actor: Actor,
    user_id: int | None = None,
    action: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    limit: int = 500,
) -> list[AuditRow]:
    """The newest audit rows of the actor's tenant, filtered; nobody can change them."""
    require(actor, Action.ADMINISTER)
    stmt = (
        select(AuditEvent, User.name)
        .outerjoin(User, User.id == AuditEvent.actor_user_id)
        .where(AuditEvent.tenant_id == actor.tenant_id)
    )
    if user_id is not None:
        stmt = stmt.where(AuditEvent.actor_user_id == user_id)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    if since is not None:
        stmt = stmt.where(AuditEvent.at >= since)
    if until is not None:
        stmt = stmt.where(AuditEvent.at < until)
    rows = db.execute(stmt.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)).all()
    # A user the event was about is named, as its actor is (one query for the page's users).
    ids = {uid for e, _ in rows if (uid := _user_id(e)) is not None}
    named = select(User.id, User.name).where(User.tenant_id == actor.tenant_id, User.id.in_(ids))
    users = {uid: name for uid, name in db.execute(named)} if ids else {}
    return [
        AuditRow(e.at, name or "—", e.action, _target(e, users), dict(e.details or {}))
        for e, name in rows
    ]


# What an audit event's target type reads as (``audit.SESSION_TARGETS`` all name a session).
TARGET_LABELS = {
    **dict.fromkeys(audit.SESSION_TARGETS, "session"),
    "api_key": "API key",
    "saved_view": "saved view",
    "job": "transcription job",
}


def _user_id(e: AuditEvent) -> int | None:
    """The user an event was about, when it was about one."""
    t = e.target_id
    return int(t) if e.target_type == "user" and t and t.isdigit() and len(t) <= 18 else None


def _target(e: AuditEvent, users: dict[int, str]) -> str:
    """ "user Dana Whitfield (3)", "session 1995", "customer 12": what the event was about."""
    label = TARGET_LABELS.get(e.target_type, e.target_type.replace("_", " "))
    if not e.target_id:
        return label
    uid = _user_id(e)
    name = users.get(uid) if uid is not None else None
    return f"{label} {name} ({e.target_id})" if name else f"{label} {e.target_id}"


def audit_actions(db: Session, *, actor: Actor) -> list[str]:
    require(actor, Action.ADMINISTER)
    return list(
        db.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.tenant_id == actor.tenant_id)
            .distinct()
            .order_by(AuditEvent.action)
        )
    )
