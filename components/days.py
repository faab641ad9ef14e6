"""What a date-range picker holds, as the days it names (the Audit and Handoffs pages)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

#: How many days, today included, a page's range picker holds when it opens.
RECENT_DAYS = 30

#: What a page says while only the range's first day is picked.
OPEN_END = "pick the range's last day to end it"


@dataclass(frozen=True)
class Days:
    since: dt.datetime  # the first day's start, in the tenant's zone
    until: dt.datetime  # the start of the day after the last (exclusive)
    open_from: dt.date | None  # the first day, while the picker holds only that one


def recent(today: dt.date) -> tuple[dt.date, dt.date]:
    """The range a page opens on: the last ``RECENT_DAYS`` days, today included (Audit opened on
    31 days and Handoffs on 30, side by side in the menu)."""
    return today - dt.timedelta(days=RECENT_DAYS - 1), today


def picked_days(span: object, zone: ZoneInfo, today: dt.date) -> Days | None:
    """The days ``st.date_input``'s range ``span`` names, or None when it holds none. While only
    its first day is picked (the picker left half-way), from that day to the end of ``today``,
    with ``open_from`` set for the page to say so: the Audit page listed every event ever under a
    picker showing one day, and Handoffs went blank below it."""
    if not isinstance(span, tuple) or not span:
        return None
    first: dt.date = span[0]
    last: dt.date = span[1] if len(span) == 2 else today
    return Days(
        dt.datetime.combine(first, dt.time(), zone),
        dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), zone),
        None if len(span) == 2 else first,
    )
