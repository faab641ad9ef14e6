"""The System Logs of a demo session: what an agent runtime writes while it serves one."""

from __future__ import annotations

import datetime as dt

from sessionlens.demo.context import DemoContext
from sessionlens.kinds import LogKind, Mode


def system_logs(
    ctx: DemoContext,
    tenant_id: int,
    sid: int,
    channel: str,
    agent: str,
    started: dt.datetime,
    finished: dt.datetime | None,
    mode: str,
) -> None:
    """Opening, initialization, a tool call, a handover when a human took part, saving, closing."""
    lines: list[tuple[int | None, str, str]] = [
        (0, "INFO", f"Session opened: channel={channel} agent={agent!r}"),
        (1, "INFO", "Initialization: loaded agent configuration and session parameters"),
        (5, "INFO", "Tool call: lookup_order(order_id='NW-48213') -> status=in_transit"),
    ]
    if mode != Mode.AI:
        lines += [
            (40, "INFO", "Tool call: handover_to_operator(reason='customer request')"),
            (41, "INFO", "Notification: session queued for human agents"),
        ]
    lines.append((60, "INFO", "Session saved"))
    if finished:
        lines.append((None, "INFO", "Session closed"))
    for secs, level, text in lines:
        at = finished if secs is None else started + dt.timedelta(seconds=secs)
        row = (ctx.next_id("session_logs"), tenant_id, sid, LogKind.SYSTEM, at, level, text)
        ctx.w.add("session_logs", row + (None,) * 5)
