"""What Prometheus scrapes: this process's counters and histograms, and the queue as the
database has it.

Each process (app server, `sessionlens worker`) counts what it did itself: the app its API
requests and ingested sessions, a worker the jobs it ran. The queue's state (how many jobs wait,
run, failed) is read from the database at scrape time, so every app server reports the same,
whole-cluster figures. Workers serve theirs with ``sessionlens worker --metrics-port``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import event
from sqlalchemy.orm import Session

from sessionlens import jobs

REGISTRY = CollectorRegistry(auto_describe=True)

API_REQUESTS = Counter(
    "sessionlens_api_requests",
    "HTTP API requests answered, by route template and status code.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
SESSIONS_INGESTED = Counter(
    "sessionlens_sessions_ingested",
    "Sessions created: sent in through the API, imported from JSON, or from a recording.",
    ["via"],
    registry=REGISTRY,
)
MESSAGES_INGESTED = Counter(
    "sessionlens_messages_ingested",
    "Messages written through the API or a JSON import.",
    ["via"],
    registry=REGISTRY,
)
_SECONDS = (0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
JOB_WAIT = Histogram(
    "sessionlens_job_wait_seconds",
    "From a job's creation (or retry) to a worker claiming it.",
    ["kind"],
    buckets=_SECONDS,
    registry=REGISTRY,
)
JOB_RUN = Histogram(
    "sessionlens_job_run_seconds",
    "From claiming a job to its end (done, failed, released or lost), in this worker.",
    ["kind", "outcome"],
    buckets=_SECONDS,
    registry=REGISTRY,
)
REAL_TIME_FACTOR = Histogram(
    "sessionlens_transcription_real_time_factor",
    "Seconds spent transcribing per second of audio (below 1: faster than real time).",
    buckets=(0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 5),
    registry=REGISTRY,
)


_PENDING = "metrics_pending"


def count_on_commit(db: Session, counter: Counter, n: float = 1) -> None:
    """Add ``n`` to ``counter`` when ``db``'s transaction commits (nothing if it rolls back), so
    a refused batch or import is not counted as ingested."""
    if n:
        db.info.setdefault(_PENDING, []).append((counter, n))


@event.listens_for(Session, "after_commit")
def _apply(db: Session) -> None:
    for counter, n in db.info.pop(_PENDING, []):
        counter.inc(n)


@event.listens_for(Session, "after_rollback")
def _discard(db: Session) -> None:
    db.info.pop(_PENDING, None)


class QueueCollector(Collector):
    """Jobs by kind and status, and the age of the oldest waiting job, from the database."""

    def __init__(self, maker: Callable[[], Session]):
        self.maker = maker

    def collect(self) -> Iterator[GaugeMetricFamily]:
        counts = GaugeMetricFamily(
            "sessionlens_jobs", "Jobs in the queue by kind and status.", labels=["kind", "status"]
        )
        oldest = GaugeMetricFamily(
            "sessionlens_job_oldest_queued_timestamp_seconds",
            "When the longest-waiting queued job was created (Unix time), by kind.",
            labels=["kind"],
        )
        with self.maker() as db:
            queue = jobs.tally(db)
        for kind, statuses in queue.counts.items():
            for status, n in statuses.items():
                counts.add_metric([kind, status], n)
        for kind, first in queue.oldest_queued.items():
            oldest.add_metric([kind], first.timestamp())
        yield counts
        yield oldest


_queue: QueueCollector | None = None


def watch_queue(maker: Callable[[], Session]) -> None:
    """Report the queue read through ``maker`` (once per process; a later call replaces it)."""
    global _queue
    if _queue is not None:
        REGISTRY.unregister(_queue)
    _queue = QueueCollector(maker)
    REGISTRY.register(_queue)


def exposition() -> bytes:
    """The text format Prometheus scrapes. With ``PROMETHEUS_MULTIPROC_DIR`` (an empty directory,
    set by ``sessionlens api --workers N``) every process writes its counts there, and whichever
    process answers reports all of them."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client.multiprocess import MultiProcessCollector

        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        if _queue is not None:
            registry.register(_queue)
        return generate_latest(registry)
    return generate_latest(REGISTRY)
