"""Every domain verb × every role, on SQLite and Postgres: allowed, or PermissionDenied.

"Allowed" means the role check passed: the verb may still refuse for a reason of its own (a finished
session cannot be handed over, a file is not audio), which is a DomainError other than
PermissionDenied. Buttons may hide; this is what holds when they do not.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from db.models import ChatSession, Customer, Message, Plan, Tenant
from sessionlens import (
    admin,
    chat,
    customers,
    erasure,
    filter_options,
    handover,
    jobs,
    logs,
    saved_views,
    sessions,
)
from sessionlens.errors import DomainError, PermissionDenied
from sessionlens.filters import SessionFilter
from sessionlens.kinds import LogKind, Role
from sessionlens.permissions import Actor

NOW = dt.datetime(2026, 11, 26, 9, 30, tzinfo=dt.UTC)
READ, TRACE, HAND, IMPORT, EDIT, ADMIN = "read", "trace", "hand", "import", "edit", "admin"
ALLOWED = {
    Role.ADMIN: {READ, TRACE, HAND, IMPORT, EDIT, ADMIN},
    Role.LEAD: {READ, TRACE, HAND, IMPORT, EDIT},
    Role.OPERATOR: {READ, TRACE, HAND, IMPORT, EDIT},
    Role.VIEWER: {READ, TRACE},
    Role.USER: set(),
}


def _ids(db, tenant_id):
    sid = db.scalar(select(ChatSession.id).where(ChatSession.tenant_id == tenant_id).limit(1))
    cid = db.scalar(select(Customer.id).where(Customer.tenant_id == tenant_id).limit(1))
    mid = db.scalar(select(Message.id).where(Message.tenant_id == tenant_id).limit(1))
    return sid, cid, mid


VERBS = {
    "sessions.list_page": (
        READ,
        lambda db, a, s, c, m: sessions.list_page(db, SessionFilter(), actor=a),
    ),
    "sessions.get_session": (READ, lambda db, a, s, c, m: sessions.get_session(db, s, actor=a)),
    "chat.conversation": (READ, lambda db, a, s, c, m: chat.conversation(db, s, actor=a)),
    "chat.full_text": (READ, lambda db, a, s, c, m: chat.full_text(db, m, actor=a)),
    "chat.attachment_images": (
        READ,
        lambda db, a, s, c, m: chat.attachment_images(db, [1], actor=a),
    ),
    "customers.get_contact": (READ, lambda db, a, s, c, m: customers.get_contact(db, c, actor=a)),
    "customers.customer_sessions": (
        READ,
        lambda db, a, s, c, m: customers.customer_sessions(db, c, actor=a),
    ),
    "filter_options.agents": (READ, lambda db, a, s, c, m: filter_options.agents(db, actor=a)),
    "filter_options.search_customers": (
        READ,
        lambda db, a, s, c, m: filter_options.search_customers(db, "a", actor=a),
    ),
    "logs.system": (READ, lambda db, a, s, c, m: logs.list_logs(db, s, LogKind.SYSTEM, actor=a)),
    "logs.trace": (TRACE, lambda db, a, s, c, m: logs.list_logs(db, s, LogKind.TRACE, actor=a)),
    "saved_views.list_views": (READ, lambda db, a, s, c, m: saved_views.list_views(db, actor=a)),
    "saved_views.save_view": (
        READ,
        lambda db, a, s, c, m: saved_views.save_view(
            db, actor=a, name="Mine", query={"sort": "started"}, shared=False, now=NOW
        ),
    ),
    "jobs.latest_for_session": (
        READ,
        lambda db, a, s, c, m: jobs.latest_for_session(db, s, actor=a),
    ),
    "handover.hand_over": (
        HAND,
        lambda db, a, s, c, m: handover.hand_over(db, actor=a, session_id=s, now=NOW),
    ),
    "jobs.retry": (IMPORT, lambda db, a, s, c, m: jobs.retry(db, actor=a, session_id=s, now=NOW)),
    "customers.update_contact": (
        EDIT,
        lambda db, a, s, c, m: customers.update_contact(
            db, actor=a, customer_id=c, fields={"email": "x@example.com"}, now=NOW
        ),
    ),
    "admin.list_users": (ADMIN, lambda db, a, s, c, m: admin.list_users(db, actor=a)),
    "admin.tenant_settings": (ADMIN, lambda db, a, s, c, m: admin.tenant_settings(db, actor=a)),
    "admin.create_api_key": (
        ADMIN,
        lambda db, a, s, c, m: admin.create_api_key(db, actor=a, name="k", now=NOW),
    ),
    "admin.audit_log": (ADMIN, lambda db, a, s, c, m: admin.audit_log(db, actor=a)),
    "admin.rename_user": (
        ADMIN,
        lambda db, a, s, c, m: admin.rename_user(
            db, actor=a, user_id=a.user_id, name="Renamed", email="renamed@example.com", now=NOW
        ),
    ),
    "erasure.holdings": (ADMIN, lambda db, a, s, c, m: erasure.holdings(db, c, actor=a)),
    "erasure.erase_customer": (
        ADMIN,
        lambda db, a, s, c, m: erasure.erase_customer(db, c, actor=a, now=NOW),
    ),
    "erasure.purge_sessions": (
        ADMIN,
        lambda db, a, s, c, m: erasure.purge_sessions(
            db, actor=a, before=NOW - dt.timedelta(days=3650), now=NOW
        ),
    ),
}


@pytest.mark.parametrize("role", list(ALLOWED))
@pytest.mark.parametrize("verb", list(VERBS))
def test_verb_by_role(db, role, verb):
    tenant_id = db.scalar(select(Tenant.id).where(Tenant.plan == Plan.PAID).order_by(Tenant.id))
    from db.models import User

    who = Actor(
        user_id=db.scalar(select(User.id).where(User.tenant_id == tenant_id).limit(1)),
        tenant_id=tenant_id,
        role=role,
        name="X",
    )
    sid, cid, mid = _ids(db, tenant_id)
    needs, call = VERBS[verb]
    try:
        call(db, who, sid, cid, mid)
    except PermissionDenied as err:
        assert needs not in ALLOWED[role], f"{role} was refused {verb}: {err}"
        assert str(err).startswith("You do not have permission to")
    except DomainError:
        assert needs in ALLOWED[role], f"{role} got past the role check of {verb}"
    else:
        assert needs in ALLOWED[role], f"{role} may not {verb}, yet it ran"
