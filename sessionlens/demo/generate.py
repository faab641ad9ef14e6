"""Generate a realistic, deterministic demo data set (``sessionlens demo``).

Two tenants (a paid one in Berlin, a Free one in New York), their AI agents, portal users and human
agents, customers, and sessions over all 13 channels with every message kind, marker, attachment kind,
delivery status, reaction, template, quick reply, parameter set, result set and log kind the Sessions
screen shows. The same seed and ``now`` give the same data.

Rows go straight to ``BulkWriter`` (COPY on Postgres), and the derived session columns
(message_count, last_message_at, has_attachments, location) are computed here exactly as the domain's
write functions keep them, so a million sessions load in minutes.

The parts, each working on one shared `DemoContext`:
``reference`` (tenants, staff, agents, customers, client addresses), ``sessions`` (ordinary
sessions), ``showcase`` (the newest, hand-made session), ``conversation`` (one session's messages,
attachments and trace calls) and ``logs`` (System Logs).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Connection, func, or_, select

from db.models import User
from sessionlens.demo import reference
from sessionlens.demo.context import DemoContext
from sessionlens.demo.sessions import session
from sessionlens.demo.showcase import showcase
from sessionlens.demo.writer import BulkWriter
from sessionlens.errors import BadInput
from sessionlens.geo import Locator


@dataclass
class DemoSummary:
    counts: dict[str, int] = field(default_factory=dict)


def generate(
    conn: Connection,
    *,
    locator: Locator,
    sessions: int = 2000,
    seed: int = 7,
    now: dt.datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> DemoSummary:
    """Write the demo data set with ``sessions`` chat sessions through ``conn`` (caller commits)."""
    taken = conn.scalar(
        select(User.email)
        .where(or_(*(func.lower(User.email).like(f"%@{d}") for d in reference.DEMO_DOMAINS)))
        .limit(1)
    )
    if taken is not None:
        raise BadInput(
            f"This database already holds the demo data ({taken} is one of its users): a second"
            " copy would give each of its people a second account. Demo data goes into an empty"
            " database."
        )
    now = (now or dt.datetime.now(dt.UTC)).replace(second=0, microsecond=0)
    n = sessions
    w = BulkWriter(conn)
    ctx = DemoContext(w, random.Random(seed), now)
    if n >= 100_000:
        w.defer_indexes(["chat_sessions", "messages", "attachments", "session_logs"])
    # Large data sets keep logs and traces on a sample of sessions, as production does.
    detail_ratio = 1.0 if n <= 20_000 else 0.05
    ip_pool = reference.ip_pool(ctx, locator)

    tenants = reference.tenants(ctx)
    for t, share in ((tenants[0], 0.85), (tenants[1], 0.15)):
        reference.customers(ctx, t, max(30, int(n * share / 3)))
    # Start times in order so ids grow with time, as in production; the newest few are live.
    rng = ctx.rng
    span = dt.timedelta(days=90 if n <= 20_000 else 540).total_seconds()
    live = max(6, n // 60)
    offsets = sorted((rng.random() * span for _ in range(n - live)), reverse=True)
    offsets += [(live - j) * 150.0 + rng.random() * 100 for j in range(live)]
    for i, off in enumerate(offsets):
        t = tenants[0] if rng.random() < 0.85 else tenants[1]
        started = now - dt.timedelta(seconds=off + 60)
        if i == n - 1:
            showcase(ctx, tenants[0], started, ip_pool)
        else:
            active = i >= n - live and rng.random() < 0.85
            session(ctx, t, started, active=active, ip_pool=ip_pool, detail_ratio=detail_ratio)
        if progress and (i + 1) % 1000 == 0:
            progress(1000)
    w.finish()
    if progress:
        progress(n % 1000)
    return DemoSummary(dict(w.counts))
