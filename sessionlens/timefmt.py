"""Showing UTC times in the tenant's timezone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

EMPTY = "---"


def local(when: dt.datetime | None, tz: str, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """``when`` in the tenant's zone, or ``---`` for no value (e.g. an active session's finish)."""
    if when is None:
        return EMPTY
    return when.astimezone(ZoneInfo(tz)).strftime(fmt)


def utc(when: dt.datetime | None) -> str:
    return EMPTY if when is None else when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def iso(when: dt.datetime | None) -> str | None:
    """ISO 8601 with "Z", the form the session format uses (``when`` is already UTC, as
    UTCDateTime columns return it)."""
    return when.isoformat().replace("+00:00", "Z") if when else None


def compact(when: dt.datetime | None, tz: str, now: dt.datetime) -> tuple[str, str | None]:
    """A table cell's time and, where the cell leaves part out, the whole time for its tooltip:
    "20 Nov 12:55" this year; "20 Nov 2025" in another (a year and a time would not fit the
    column), with "2025-11-20 12:55" to hover; ``---`` if none."""
    if when is None:
        return EMPTY, None
    zone = ZoneInfo(tz)
    local_when = when.astimezone(zone)
    if local_when.year == now.astimezone(zone).year:
        return local_when.strftime("%d %b %H:%M"), None
    return local_when.strftime("%d %b %Y"), local_when.strftime("%Y-%m-%d %H:%M")


def age(since: dt.datetime, now: dt.datetime) -> str:
    """How long ago ``since`` was, in its largest whole unit: "40 s", "3 min", "2 h", "5 d"."""
    seconds = max(0.0, (now - since).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f} {unit}"
    return f"{seconds:.0f} s"
