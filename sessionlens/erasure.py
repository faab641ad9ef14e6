"""Erasing a customer: what a workspace holds of one person, gone on their request.

A customer who asks to be forgotten (the GDPR's right to erasure, and its like elsewhere) is
erased by an admin from 360 View or with ``sessionlens customers erase``: the profile, every
session linked to it with its messages, files, recordings, System Logs and traces, hand-overs and
transcription jobs, in one transaction, so a failure leaves everything as it was. The audit log
keeps that it happened, by whom and how much went, and nothing that names the person: the rows
about their sessions keep who did what when, without their details.

Recordings live in the blob store, outside the transaction: their keys come back to the caller,
which removes them once the rows are gone (``remove_recordings``). A key whose removal fails is
named to the admin; the recording is then no longer reachable from the console.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.orm import Session

from db.models import (
    Attachment,
    AuditEvent,
    ChatSession,
    Handoff,
    Job,
    Message,
    SessionLog,
)
from sessionlens import access, audit
from sessionlens.blobs import BlobStore
from sessionlens.errors import RuleViolation
from sessionlens.kinds import JobStatus
from sessionlens.permissions import Action, Actor, require
from sessionlens.wording import counted

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Holdings:
    """How much the workspace holds of a customer (what erasing them removes)."""

    sessions: int
    messages: int
    files: int
    recordings: int

    def in_words(self) -> str:
        """ "9 sessions, 103 messages, 0 files, 1 recording": how the console and the command
        say it."""
        return ", ".join(
            [
                counted(self.sessions, "session"),
                counted(self.messages, "message"),
                counted(self.files, "file"),
                counted(self.recordings, "recording"),
            ]
        )


@dataclass(frozen=True)
class Erased:
    holdings: Holdings
    #: The blob-store keys of the erased recordings, for ``remove_recordings`` after the commit.
    recording_keys: list[str]


def holdings(db: Session, customer_id: int, *, actor: Actor) -> Holdings:
    """What erasing the customer would remove; NotFound outside the tenant."""
    require(actor, Action.ADMINISTER)
    access.customer(db, actor, customer_id)
    theirs = _sessions_of(actor, customer_id)
    messages = db.scalar(
        select(func.count()).select_from(Message).where(Message.session_id.in_(theirs))
    )
    files = db.execute(
        select(Attachment.is_recording, func.count())
        .where(Attachment.session_id.in_(theirs))
        .group_by(Attachment.is_recording)
    ).all()
    counts = {bool(recording): n for recording, n in files}
    return Holdings(
        sessions=db.scalar(select(func.count()).select_from(theirs.subquery())) or 0,
        messages=messages or 0,
        files=counts.get(False, 0),
        recordings=counts.get(True, 0),
    )


def erase_customer(db: Session, customer_id: int, *, actor: Actor, now: dt.datetime) -> Erased:
    """Delete the customer and everything linked to their sessions, in the caller's
    transaction. Admins only; NotFound outside the tenant. Refused while one of their
    recordings is being transcribed (the worker would write into a session that is gone)."""
    require(actor, Action.ADMINISTER)
    customer = access.customer(db, actor, customer_id)
    theirs = _sessions_of(actor, customer_id)
    # Postgres: a runtime's append locks the session row before it writes, so it waits for
    # this transaction and then finds no session. SQLite's single writer needs no lock.
    ids = list(db.scalars(theirs.order_by(ChatSession.id).with_for_update()))
    running = db.scalar(
        select(func.count())
        .select_from(Job)
        .where(Job.session_id.in_(theirs), Job.status == JobStatus.RUNNING)
    )
    if running:
        raise RuleViolation(
            "A recording of this customer is being transcribed just now: erase them once it "
            "has finished, or cancel it under Settings → Transcription queue first"
        )
    before = holdings(db, customer_id, actor=actor)
    keys = [
        k
        for k in db.scalars(
            select(Attachment.storage_key).where(
                Attachment.session_id.in_(theirs), Attachment.storage_key.is_not(None)
            )
        )
        if k
    ]
    # Children before parents: traces and files point at messages, everything at a session.
    for table in (SessionLog, Attachment, Handoff, Job, Message):
        db.execute(delete(table).where(table.session_id.in_(theirs)))
    db.execute(
        delete(ChatSession).where(
            ChatSession.tenant_id == actor.tenant_id, ChatSession.customer_id == customer_id
        )
    )
    db.delete(customer)
    _forget_in_the_audit_log(db, actor, ids)
    audit.record(
        db,
        actor,
        "customer_erased",
        "customer",
        customer_id,
        now=now,
        sessions=before.sessions,
        messages=before.messages,
        files=before.files,
        recordings=before.recordings,
    )
    db.flush()
    return Erased(before, keys)


#: What the details of an erased session's audit rows say instead of what they held.
ERASED_DETAILS = {"details": "erased with the customer"}
_SESSION_TARGETS = ("session", "chat_session")


def _forget_in_the_audit_log(db: Session, actor: Actor, session_ids: list[int]) -> None:
    """The audit rows about the erased sessions keep who did what when; their details go, since
    they may name the person (a runtime's session id such as "whatsapp/4915112345", a call's
    file name). The one change to the audit log the console makes."""
    for start in range(0, len(session_ids), 500):
        chunk = [str(i) for i in session_ids[start : start + 500]]
        db.execute(
            update(AuditEvent)
            .where(
                AuditEvent.tenant_id == actor.tenant_id,
                AuditEvent.target_type.in_(_SESSION_TARGETS),
                AuditEvent.target_id.in_(chunk),
            )
            .values(details=ERASED_DETAILS)
        )


def remove_recordings(store: BlobStore, keys: list[str]) -> list[str]:
    """Remove erased recordings from the blob store (after the erasure committed); the keys
    whose removal failed, each logged with why."""
    failed = []
    for key in keys:
        try:
            store.delete(key)
        except Exception:  # the store's own error (a network share, S3): named, not raised
            log.exception("erased recording %s could not be removed from %s", key, store.label)
            failed.append(key)
    return failed


def _sessions_of(actor: Actor, customer_id: int) -> Select[int]:
    return select(ChatSession.id).where(
        ChatSession.tenant_id == actor.tenant_id, ChatSession.customer_id == customer_id
    )
