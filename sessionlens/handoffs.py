"""How handovers go: per day (in the tenant's time zone) and per AI agent, how many there were and
how long people took to accept them and to send the first reply (median and 90th percentile)."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Agent, Handoff, Tenant
from sessionlens.permissions import Action, Actor, require


@dataclass(frozen=True)
class Figures:
    day: dt.date
    agent: str
    handovers: int
    accepted: int
    resolved: int
    accept_p50_s: float | None
    accept_p90_s: float | None
    reply_p50_s: float | None
    reply_p90_s: float | None
    reassignments: int


def _p(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(sorted(values), n=100, method="inclusive")[int(q * 100) - 1]


def figures(db: Session, *, actor: Actor, since: dt.datetime, until: dt.datetime) -> list[Figures]:
    """One row per day and AI agent with handovers requested in [since, until)."""
    return _grouped(db, actor, since, until, by_day=True)


def totals(db: Session, *, actor: Actor, since: dt.datetime, until: dt.datetime) -> list[Figures]:
    """One row per AI agent for the whole of [since, until) (``day`` is the first day): medians
    and 90th percentiles over all its handovers, not over the days' figures."""
    return _grouped(db, actor, since, until, by_day=False)


def _grouped(
    db: Session, actor: Actor, since: dt.datetime, until: dt.datetime, *, by_day: bool
) -> list[Figures]:
    require(actor, Action.WORK_CONVERSATIONS)
    zone = ZoneInfo(db.get_one(Tenant, actor.tenant_id).timezone)
    rows = db.execute(
        select(Handoff, Agent.name)
        .join(Agent, Agent.id == Handoff.agent_id)
        .where(
            Handoff.tenant_id == actor.tenant_id,
            Handoff.requested_at >= since,
            Handoff.requested_at < until,
        )
    )
    first = since.astimezone(zone).date()
    groups: dict[tuple[dt.date, str], list[Handoff]] = defaultdict(list)
    for h, agent in rows:
        groups[(h.requested_at.astimezone(zone).date() if by_day else first, agent)].append(h)
    return [_figures(day, agent, hs) for (day, agent), hs in sorted(groups.items())]


def _figures(day: dt.date, agent: str, hs: list[Handoff]) -> Figures:
    accept = [(h.accepted_at - h.requested_at).total_seconds() for h in hs if h.accepted_at]
    reply = [(h.first_reply_at - h.requested_at).total_seconds() for h in hs if h.first_reply_at]
    return Figures(
        day,
        agent,
        len(hs),
        len(accept),
        sum(1 for h in hs if h.resolved_at),
        _p(accept, 0.5),
        _p(accept, 0.9),
        _p(reply, 0.5),
        _p(reply, 0.9),
        sum(h.reassignments for h in hs),
    )
