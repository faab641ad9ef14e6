"""A transcription worker: claims jobs, heartbeats, transcribes, marks them done or failed.

The app runs one in a thread on the embedded default (``Worker.start_thread``, from server start
to server stop); `sessionlens worker` runs one per process. Stopping (SIGTERM, or the app shutting
down) puts the current job back in the queue.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import NamedTuple

from sqlalchemy.orm import Session, sessionmaker

from sessionlens import jobs, logfmt, logs, metrics
from sessionlens.blobs import BlobStore
from sessionlens.errors import DomainError
from sessionlens.settings import Settings
from sessionlens.transcription.engine import WhisperEngine
from sessionlens.transcription.pipeline import Interrupted, transcribe_session

log = logging.getLogger("sessionlens.worker")


class Outcome(NamedTuple):
    """How a claimed job ended: "done", "failed", "released" (the worker is stopping) or "lost"
    (another worker holds it now); for a done job, the seconds of audio and the seconds spent
    transcribing them (the model's first load not counted)."""

    name: str
    audio_seconds: float = 0.0
    busy_seconds: float = 0.0


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Worker:
    def __init__(
        self,
        maker: sessionmaker[Session],
        settings: Settings,
        store: BlobStore,
        *,
        engine_factory: Callable[[Settings], WhisperEngine] = WhisperEngine,
        name: str | None = None,
        poll_seconds: float = 1.0,
    ):
        self.maker, self.settings, self.store = maker, settings, store
        self.engine_factory = engine_factory
        self._engine: WhisperEngine | None = None
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
        self.poll_seconds = poll_seconds
        self.stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._holding: tuple[int, int] | None = None  # the job being processed, and its attempt
        self.stale_after = dt.timedelta(seconds=settings.job_reclaim_seconds)
        # Several heartbeats fit in the reclaim interval, so one slow write does not lose a job.
        self.heartbeat_seconds = max(0.5, min(10.0, settings.job_reclaim_seconds / 6))

    @property
    def engine(self) -> WhisperEngine:
        if self._engine is None:  # loaded once, on the first job
            self._engine = self.engine_factory(self.settings)
        return self._engine

    def run(self) -> None:
        """Take jobs until ``stop`` is set. Trouble with the database (Postgres restarting,
        SQLite busy past its timeout) is logged and waited out, waiting longer each time up to
        a minute: a worker that ended on it would leave the queue unserved until someone
        restarted the app. A job claimed before the trouble is taken again once its lease runs
        out (``SESSIONLENS_JOB_RECLAIM_SECONDS``)."""
        failures = 0
        while not self.stop.is_set():
            try:
                worked = self.run_once()
            # A job's own failure is kept on the job (_process); what comes here is the rest.
            except Exception:  # noqa: BLE001
                failures += 1
                pause = min(60.0, self.poll_seconds * 2**failures)
                log.exception("the worker could not reach the queue; trying again in %.0f s", pause)
                self.stop.wait(pause)
                continue
            failures = 0
            if not worked:
                self.stop.wait(self.poll_seconds)

    def start_thread(self) -> None:
        """Run in a thread of this process (the app's embedded worker); ``stop_thread`` ends it."""
        self._thread = threading.Thread(target=self.run, name="sessionlens-worker", daemon=True)
        self._thread.start()

    @property
    def thread(self) -> threading.Thread | None:
        """The thread ``start_thread`` started, if any."""
        return self._thread

    def stop_thread(self, timeout: float) -> bool:
        """Stop the thread ``start_thread`` started and wait for it: a job it was working on is
        put back in the queue (the transcription stops before the model's next 30-second
        decoding window). False if it had not ended within ``timeout`` seconds; its job is then
        put back from here, so that the next start takes it at once and not after its lease,
        and whatever the thread still writes for it is refused (the job is no longer its)."""
        self.stop.set()
        if self._thread is None:
            return True
        self._thread.join(timeout)
        if not self._thread.is_alive():
            return True
        if (held := self._holding) is not None:
            try:
                with self.maker.begin() as db:
                    jobs.release(db, held[0], worker=self.name, attempt=held[1])
            except Exception:  # noqa: BLE001 - the lease still runs out; say why it was not now
                log.exception(
                    "job %s could not be put back; it is taken again after its lease", held[0]
                )
        return False

    def run_once(self) -> bool:
        """Claim and process one job; False when the queue was empty."""
        with self.maker.begin() as db:
            job = jobs.claim(db, worker=self.name, now=_now(), stale_after=self.stale_after)
            if job is None:
                return False
            job_id, session_id, tenant_id = job.id, job.session_id, job.tenant_id
            assert session_id is not None, f"transcription job {job_id} names no session"
            attempt, queued_at, claimed_at = job.attempts, job.created_at, job.claimed_at
        metrics.JOB_WAIT.labels(jobs.TRANSCRIPTION).observe(
            max(0.0, (claimed_at - queued_at).total_seconds()) if claimed_at else 0.0
        )
        with logfmt.context(job_id=job_id, session_id=session_id):
            log.info("job %s claimed (attempt %s)", job_id, attempt)
            self._holding = (job_id, attempt)
            try:
                outcome = self._process(job_id, session_id, tenant_id, attempt)
            finally:
                self._holding = None
            took = (_now() - (claimed_at or _now())).total_seconds()
            metrics.JOB_RUN.labels(jobs.TRANSCRIPTION, outcome.name).observe(took)
            if outcome.audio_seconds:
                metrics.REAL_TIME_FACTOR.observe(outcome.busy_seconds / outcome.audio_seconds)
            log.info("job %s %s after %.1f s", job_id, outcome.name, took)
        return True

    def _process(self, job_id: int, session_id: int, tenant_id: int, attempt: int) -> Outcome:
        """Run one claimed job."""
        beat = threading.Event()
        pulse = threading.Thread(target=self._heartbeat, args=(job_id, attempt, beat), daemon=True)
        pulse.start()
        try:
            engine = self.engine  # loaded on the first job
            started = time.perf_counter()
            seconds = transcribe_session(
                self.maker,
                job_id,
                session_id,
                worker=self.name,
                attempt=attempt,
                engine=engine,
                store=self.store,
                stop=self.stop,
                now=_now,
            )
        except Interrupted:
            with self.maker.begin() as db:
                jobs.release(db, job_id, worker=self.name, attempt=attempt)
            return Outcome("released" if self.stop.is_set() else "lost")
        except Exception as exc:  # noqa: BLE001 - any failure is recorded on the job, audio kept
            message = (
                str(exc)
                if isinstance(exc, DomainError)
                else (f"Transcription failed: {type(exc).__name__}: {exc}")
            )
            log.exception("job %s failed", job_id)
            with self.maker.begin() as db:
                if not jobs.finish(
                    db, job_id, worker=self.name, attempt=attempt, now=_now(), error=message
                ):
                    return Outcome("lost")  # the job is another worker's now; its outcome stands
                logs.append_system(
                    db,
                    tenant_id=tenant_id,
                    session_id=session_id,
                    at=_now(),
                    level="ERROR",
                    text=message,
                )
            return Outcome("failed")
        finally:
            beat.set()
            pulse.join()  # no heartbeat outlives its job (nor runs while the process exits)
        return Outcome("done", seconds, time.perf_counter() - started)

    def _heartbeat(self, job_id: int, attempt: int, done: threading.Event) -> None:
        while not done.wait(self.heartbeat_seconds):
            with self.maker.begin() as db:
                jobs.heartbeat(db, job_id, worker=self.name, attempt=attempt, now=_now())
