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
