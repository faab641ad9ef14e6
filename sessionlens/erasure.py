"""Erasing a customer (what a workspace holds of one person, gone on their request) and
purging sessions past a retention period: one deletion of sessions with everything of theirs.

A customer who asks to be forgotten (the GDPR's right to erasure, and its like elsewhere) is
erased by an admin from 360 View or with ``sessionlens customers erase``: the profile, every
session linked to it with its messages, files, recordings, System Logs and traces, hand-overs and
transcription jobs, in one transaction, so a failure leaves everything as it was. The audit log
keeps that it happened, by whom and how much went, and nothing that names the person: the rows
about their sessions keep who did what when, without their details.

Recordings live in the blob store, outside the transaction: they are removed once the
transaction that deleted their rows commits (a rollback keeps them), whoever the caller is. A key
whose removal fails is logged and comes back in ``Erased.unremoved`` for the admin to be told; the
recording is then no longer reachable from the console.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import asdict, astuple, dataclass, field

from sqlalchemy import Select, delete, event, func, select, update
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
from sessionlens import access, audit, blobs
from sessionlens.blobs import BlobStore
from sessionlens.errors import RuleViolation
from sessionlens.kinds import JobStatus
from sessionlens.permissions import Action, Actor, require
from sessionlens.wording import counted

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Holdings:
    """How much a set of sessions holds: what erasing a customer or a purge removes."""

    sessions: int
    messages: int
    files: int
    recordings: int

    def __add__(self, other: Holdings) -> Holdings:
        return Holdings(*(a + b for a, b in zip(astuple(self), astuple(other), strict=True)))

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
    #: The blob-store keys of the erased recordings: removed from the store once the
    #: transaction commits (nothing is removed if it rolls back).
    recording_keys: list[str]
    #: Filled when the transaction commits: the keys the store could not remove (each logged).
    unremoved: list[str] = field(default_factory=list)


def holdings(db: Session, customer_id: int, *, actor: Actor) -> Holdings:
    """What erasing the customer would remove; NotFound outside the tenant."""
    require(actor, Action.ADMINISTER)
    access.customer(db, actor, customer_id)
    return _holdings_of(db, list(db.scalars(_sessions_of(actor, customer_id))))


def erase_customer(
    db: Session,
    customer_id: int,
    *,
    actor: Actor,
    now: dt.datetime,
    store: BlobStore | None = None,
) -> Erased:
    """Delete the customer and everything linked to their sessions, in the caller's
    transaction, and their recordings from ``store`` (the configured one by default) once it
    commits. Admins only; NotFound outside the tenant. Refused while one of their recordings is
    being transcribed (the worker would write into a session that is gone)."""
    require(actor, Action.ADMINISTER)
    customer = access.customer(db, actor, customer_id)
    # Postgres: a runtime's append locks the session row before it writes, so it waits for
    # this transaction and then finds no session. SQLite's single writer needs no lock.
    ids = list(db.scalars(_sessions_of(actor, customer_id).with_for_update()))
    if _transcribing(db, ids):
        raise RuleViolation(
            "A recording of this customer is being transcribed just now: erase them once it "
            "has finished, or cancel it under Settings → Transcription queue first"
        )
    before = _holdings_of(db, ids)
    done = _delete_sessions(db, actor, ids, ERASED, before, store)
    db.delete(customer)
    audit.record(db, actor, "customer_erased", "customer", customer_id, now=now, **asdict(before))
    db.flush()
    return done


#: How many sessions one transaction of ``purge_sessions`` deletes.
PURGE_BATCH = 500


def purge_due(db: Session, *, actor: Actor, before: dt.datetime) -> int:
    """How many of the tenant's sessions had their last message before ``before``: what
    ``purge_sessions`` would delete. Admins only."""
    require(actor, Action.ADMINISTER)
    return (
        db.scalar(
            select(func.count())
            .select_from(ChatSession)
            .where(ChatSession.tenant_id == actor.tenant_id, ChatSession.last_message_at < before)
        )
        or 0
    )


def purge_sessions(
    db: Session,
    *,
    actor: Actor,
    before: dt.datetime,
    now: dt.datetime,
    limit: int = PURGE_BATCH,
    store: BlobStore | None = None,
) -> Erased:
    """Delete up to ``limit`` of the tenant's sessions whose last message is older than
    ``before`` (a retention period), oldest first, with everything of theirs, in the caller's
    transaction (their recordings from ``store`` once it commits); call again until it deletes
    none. Customers stay (their profile may be newer than their sessions); a session whose call
    is being transcribed waits for a later run. Admins only; one audit row per batch."""
    require(actor, Action.ADMINISTER)
    busy = select(Job.session_id).where(
        Job.status == JobStatus.RUNNING, Job.session_id.is_not(None)
    )
    ids = list(
        db.scalars(
            select(ChatSession.id)
            .where(
                ChatSession.tenant_id == actor.tenant_id,
                ChatSession.last_message_at < before,
                ChatSession.id.not_in(busy),
            )
            .order_by(ChatSession.last_message_at, ChatSession.id)
            .limit(limit)
            .with_for_update()
        )
    )
    held = _holdings_of(db, ids)
    if not ids:
        return Erased(held, [])
    done = _delete_sessions(db, actor, ids, PURGED, held, store)
    audit.record(
        db,
        actor,
        "sessions_purged",
        "tenant",
        actor.tenant_id,
        now=now,
        older_than=before.isoformat(timespec="seconds"),
        **asdict(held),
    )
    db.flush()
    return done


def _transcribing(db: Session, ids: list[int]) -> bool:
    return any(
        db.scalar(
            select(func.count())
            .select_from(Job)
            .where(Job.session_id.in_(chunk), Job.status == JobStatus.RUNNING)
        )
        for chunk in _chunks(ids)
    )


def _holdings_of(db: Session, ids: list[int]) -> Holdings:
    messages = files = recordings = 0
    for chunk in _chunks(ids):
        messages += (
            db.scalar(
                select(func.count()).select_from(Message).where(Message.session_id.in_(chunk))
            )
            or 0
        )
        for recording, n in db.execute(
            select(Attachment.is_recording, func.count())
            .where(Attachment.session_id.in_(chunk))
            .group_by(Attachment.is_recording)
        ):
            if recording:
                recordings += n
            else:
                files += n
    return Holdings(len(ids), messages, files, recordings)


def _delete_sessions(
    db: Session,
    actor: Actor,
    ids: list[int],
    why: str,
    held: Holdings,
    store: BlobStore | None,
) -> Erased:
    """Delete the sessions ``ids`` (which hold ``held``) with everything linked to them, their
    audit rows' details becoming ``why``; their recordings go from ``store`` once the
    transaction commits."""
    keys: list[str] = []
    for chunk in _chunks(ids):
        keys += [
            k
            for k in db.scalars(
                select(Attachment.storage_key).where(
                    Attachment.session_id.in_(chunk), Attachment.storage_key.is_not(None)
                )
            )
            if k
        ]
        # Children before parents: traces and files point at messages, everything at a session.
        for table in (SessionLog, Attachment, Handoff, Job, Message):
            db.execute(delete(table).where(table.session_id.in_(chunk)))
        db.execute(delete(ChatSession).where(ChatSession.id.in_(chunk)))
        _forget_in_the_audit_log(db, actor, chunk, why)
    done = Erased(held, keys)
    if keys:
        db.info.setdefault(_RECORDINGS, []).append((store, done))
    return done


_RECORDINGS = "erasure_recordings"  # (store, Erased) of this transaction, in ``db.info``


@event.listens_for(Session, "after_commit")
def _remove_recordings_once_committed(db: Session) -> None:
    """The recordings of sessions deleted in the transaction that has just committed: removed
    from their store, outside it (a store is not transactional), failures named in ``unremoved``."""
    for store, done in db.info.pop(_RECORDINGS, []):
        done.unremoved.extend(
            remove_recordings(store or blobs.default_store(), done.recording_keys)
        )


@event.listens_for(Session, "after_rollback")
def _keep_recordings(db: Session) -> None:
    db.info.pop(_RECORDINGS, None)


def _chunks(ids: list[int], size: int = 500) -> list[list[int]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]


#: What the details of an erased or purged session's audit rows say instead of what they held.
ERASED = "erased with the customer"
PURGED = "purged with the session"


def _forget_in_the_audit_log(db: Session, actor: Actor, session_ids: list[int], why: str) -> None:
    """The audit rows about the erased sessions keep who did what when; their details go, since
    they may name the person (a runtime's session id such as "whatsapp/4915112345", a call's
    file name). The one change to the audit log the console makes."""
    db.execute(
        update(AuditEvent)
        .where(
            AuditEvent.tenant_id == actor.tenant_id,
            AuditEvent.target_type.in_(audit.SESSION_TARGETS),
            AuditEvent.target_id.in_([str(i) for i in session_ids]),
        )
        .values(details={"details": why})
    )


def remove_recordings(store: BlobStore, keys: list[str]) -> list[str]:
    """Remove erased recordings from the blob store (what a commit of an erasure or a purge
    does); the keys whose removal failed, each logged with why."""
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
