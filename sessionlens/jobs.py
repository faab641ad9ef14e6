"""The job queue: a table that workers claim rows from, atomically.

Postgres: ``SELECT … FOR UPDATE SKIP LOCKED``, so any number of workers on any machines share it.
SQLite (one node): a conditional UPDATE, which its single writer makes atomic. A job whose worker
stopped heartbeating is claimed again.

A claim is a lease: the worker's name and the job's attempt number. Every write a worker makes
for a job (heartbeat, progress, result, release) is conditional on that lease still being held, in
the same transaction as the write, so a worker that stalled past the reclaim interval and then
resumes finds the job gone and discards its work instead of writing a second transcript.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.orm import Session

from db.engine import rowcount
from db.models import Job, JobStatus
from sessionlens import audit
from sessionlens.errors import NotFound, RuleViolation
from sessionlens.permissions import Action, Actor, require

TRANSCRIPTION = "transcription"
STALE_AFTER = dt.timedelta(seconds=90)
#: A job in one of these states has not produced its result yet.
IN_PROGRESS = (JobStatus.QUEUED, JobStatus.RUNNING)
#: A job in one of these states can be queued again; its audio was kept.
RETRYABLE = (JobStatus.FAILED, JobStatus.CANCELLED)


def enqueue(db: Session, *, tenant_id: int, session_id: int, kind: str, now: dt.datetime) -> Job:
    job = Job(
        tenant_id=tenant_id,
        session_id=session_id,
        kind=kind,
        status=JobStatus.QUEUED,
        created_at=now,
        progress=0.0,
    )
    db.add(job)
    db.flush()
    return job


def _claimable(now: dt.datetime, stale_after: dt.timedelta) -> ColumnElement[bool]:
    return or_(
        Job.status == JobStatus.QUEUED,
        and_(Job.status == JobStatus.RUNNING, Job.heartbeat_at < now - stale_after),
    )


def claim(
    db: Session,
    *,
    worker: str,
    now: dt.datetime,
    kind: str = TRANSCRIPTION,
    stale_after: dt.timedelta = STALE_AFTER,
) -> Job | None:
    """Take the oldest waiting job (or one whose worker died) for ``worker``; None if none."""
    cond = and_(Job.kind == kind, _claimable(now, stale_after))
    stmt = select(Job.id).where(cond).order_by(Job.created_at, Job.id).limit(1)
    if db.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    job_id = db.scalar(stmt)
    if job_id is None:
        return None
    taken = rowcount(
        db.execute(
            update(Job)
            .where(Job.id == job_id, cond)
            .values(
                status=JobStatus.RUNNING,
                worker=worker,
                claimed_at=now,
                heartbeat_at=now,
                attempts=Job.attempts + 1,
                error=None,
            )
        )
    )
    if not taken:  # another SQLite writer got there first
        return None
    db.flush()
    return db.get(Job, job_id, populate_existing=True)


def _held(job_id: int, worker: str, attempt: int) -> ColumnElement[bool]:
    return and_(
        Job.id == job_id,
        Job.worker == worker,
        Job.attempts == attempt,
        Job.status == JobStatus.RUNNING,
    )


def heartbeat(
    db: Session,
    job_id: int,
    *,
    worker: str,
    attempt: int,
    now: dt.datetime,
    progress: float | None = None,
) -> bool:
    """Keep the claim alive; False when the job is no longer this worker's (it was reclaimed).

    Called first in a transaction that writes the job's result, it also locks the job row
    (Postgres) or takes the write lock (SQLite) until that transaction ends, so no reclaim can
    slip in between the check and the write."""
    values: dict = {"heartbeat_at": now}
    if progress is not None:
        values["progress"] = max(0.0, min(1.0, progress))
    return bool(
        rowcount(db.execute(update(Job).where(_held(job_id, worker, attempt)).values(**values)))
    )


def finish(
    db: Session,
    job_id: int,
    *,
    worker: str,
    attempt: int,
    now: dt.datetime,
    error: str | None = None,
    warning: str | None = None,
) -> bool:
    """Mark done (optionally with a warning for the user) or failed with ``error``; False when
    the lease was lost (the job is another worker's now, and this result is not written)."""
    return bool(
        rowcount(
            db.execute(
                update(Job)
                .where(_held(job_id, worker, attempt))
                .values(
                    status=JobStatus.FAILED if error else JobStatus.DONE,
                    finished_at=now,
                    error=error or warning,
                    progress=1.0 if not error else Job.progress,
                )
            )
        )
    )


def release(db: Session, job_id: int, *, worker: str, attempt: int) -> None:
    """Put a job back in the queue untouched (the worker is stopping), if it is still ours."""
    db.execute(
        update(Job)
        .where(_held(job_id, worker, attempt))
        .values(status=JobStatus.QUEUED, worker=None, heartbeat_at=None, progress=0.0)
    )


def latest_for_session(
    db: Session, session_id: int, *, actor: Actor, kind: str = TRANSCRIPTION
) -> Job | None:
    return latest_for_sessions(db, [session_id], actor=actor, kind=kind).get(session_id)


def latest_for_sessions(
    db: Session, session_ids: list[int], *, actor: Actor, kind: str = TRANSCRIPTION
) -> dict[int, Job]:
    """The newest job of ``kind`` of each of these sessions of the actor's tenant that has one,
    in one query (the chat reads them for all the sessions it shows)."""
    require(actor, Action.VIEW_SESSIONS)
    newest: dict[int, Job] = {}
    for job in db.scalars(
        select(Job)
        .where(Job.tenant_id == actor.tenant_id, Job.session_id.in_(session_ids), Job.kind == kind)
        .order_by(Job.session_id, Job.id.desc())
    ):
        if job.session_id is not None:  # (never None: the IN above)
            newest.setdefault(job.session_id, job)
    return newest


def get(db: Session, job_id: int, *, actor: Actor) -> Job:
    """A job of the actor's tenant (another tenant's is "not found")."""
    require(actor, Action.VIEW_SESSIONS)
    job = db.scalar(select(Job).where(Job.id == job_id, Job.tenant_id == actor.tenant_id))
    if job is None:
        raise NotFound(f"Job {job_id} not found")
    return job


def retry(db: Session, *, actor: Actor, session_id: int, now: dt.datetime) -> Job:
    """Queue a failed or cancelled transcription again; its audio was kept."""
    require(actor, Action.IMPORT)
    job = latest_for_session(db, session_id, actor=actor)
    if job is None:
        raise NotFound(f"Session {session_id} has no transcription")
    _requeue(job, now)
    audit.record(db, actor, "retry_transcription", "job", job.id, now=now, session=session_id)
    db.flush()
    return job


def _requeue(job: Job, now: dt.datetime) -> None:
    if job.status not in RETRYABLE:
        raise RuleViolation(
            f"Job {job.id} is {job.status}: only a failed or cancelled job can be retried"
        )
    job.status, job.worker, job.error, job.progress = JobStatus.QUEUED, None, None, 0.0
    job.heartbeat_at = job.finished_at = None
    job.created_at = now  # its wait is counted from here


# The queue as a whole: `sessionlens jobs` (no actor: whoever holds the database URL runs the
# installation, so it acts across tenants) and the Settings page's Transcription queue (an admin,
# within the tenant). Each change is audited in the job's tenant.


def queue(
    db: Session, *, status: str | None = None, limit: int = 50, actor: Actor | None = None
) -> list[Job]:
    """Jobs newest first, optionally of one status (the actor's tenant only, given an actor)."""
    stmt = select(Job).order_by(Job.id.desc()).limit(limit)
    if status is not None:
        stmt = stmt.where(Job.status == status)
    if actor is not None:
        require(actor, Action.ADMINISTER)
        stmt = stmt.where(Job.tenant_id == actor.tenant_id)
    return list(db.scalars(stmt))


@dataclass(frozen=True)
class Tally:
    """How a queue is doing, per kind of job: jobs per status (every status, 0 when none), and
    when the longest-waiting job was queued (a kind with none waiting is absent)."""

    counts: dict[str, dict[str, int]]
    oldest_queued: dict[str, dt.datetime]


def _none_yet() -> dict[str, int]:
    """Every status at 0: a status with no job reads 0, not absent."""
    return {str(s): 0 for s in JobStatus}


def tally(db: Session, *, tenant_id: int | None = None) -> Tally:
    """The queue of one tenant, or (None: /metrics, the command line) of the installation."""
    scope = [Job.tenant_id == tenant_id] if tenant_id is not None else []
    counts: dict[str, dict[str, int]] = {}
    for kind, status, n in db.execute(
        select(Job.kind, Job.status, func.count()).where(*scope).group_by(Job.kind, Job.status)
    ):
        counts.setdefault(kind, _none_yet())[status] = n
    oldest = {
        kind: first
        for kind, first in db.execute(
            select(Job.kind, func.min(Job.created_at))
            .where(*scope, Job.status == JobStatus.QUEUED)
            .group_by(Job.kind)
        )
    }
    return Tally(counts, oldest)


@dataclass(frozen=True)
class QueueState:
    """How the tenant's transcriptions are doing: jobs per status, and when the longest-waiting
    one was queued (None when none waits)."""

    counts: dict[str, int]
    oldest_queued: dt.datetime | None


def queue_state(db: Session, *, actor: Actor) -> QueueState:
    require(actor, Action.ADMINISTER)
    mine = tally(db, tenant_id=actor.tenant_id)
    counts = mine.counts.get(TRANSCRIPTION, _none_yet())
    return QueueState(counts, mine.oldest_queued.get(TRANSCRIPTION))


def _job(db: Session, job_id: int, actor: Actor | None) -> Job:
    job = db.get(Job, job_id, with_for_update=True)
    if job is None or (actor is not None and job.tenant_id != actor.tenant_id):
        raise NotFound(f"No job {job_id}")
    if actor is not None:
        require(actor, Action.ADMINISTER)
    return job


def _audit(db: Session, actor: Actor | None, job: Job, action: str, now: dt.datetime) -> None:
    if actor is None:
        audit.record_cli(db, job.tenant_id, action, "job", job.id, now=now)
    else:
        audit.record(db, actor, action, "job", job.id, now=now, session=job.session_id)


def retry_job(db: Session, job_id: int, *, now: dt.datetime, actor: Actor | None = None) -> Job:
    """Queue a failed or cancelled job again."""
    job = _job(db, job_id, actor)
    _requeue(job, now)
    _audit(db, actor, job, "retry_transcription", now)
    db.flush()
    return job


def cancel_job(db: Session, job_id: int, *, now: dt.datetime, actor: Actor | None = None) -> Job:
    """Take a queued or running job off the queue. A running job's worker finds its lease gone
    at its next heartbeat and stops without writing; the recording is kept for a retry."""
    job = _job(db, job_id, actor)
    if job.status not in IN_PROGRESS:
        raise RuleViolation(
            f"Job {job.id} is {job.status}: only a queued or running job can be cancelled"
        )
    job.status, job.finished_at = JobStatus.CANCELLED, now
    job.error = "Cancelled from the command line" if actor is None else f"Cancelled by {actor.name}"
    _audit(db, actor, job, "cancel_transcription", now)
    db.flush()
    return job
