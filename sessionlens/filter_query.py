"""SessionFilter ⇄ URL query string, read in the tenant's timezone.

The URL is the source of truth for the Sessions page: a filtered view can be bookmarked, shared and
reloaded. Dates in the URL are the tenant's local wall-clock times (``2026-03-29T02:30``); they become
aware UTC bounds here, start inclusive and end exclusive.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Mapping, Sequence
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from db.models import ChatSession
from sessionlens import search, strict
from sessionlens.channels import CHANNELS
from sessionlens.countries import CODES
from sessionlens.errors import BadInput
from sessionlens.filters import Compare, Responsible, SessionFilter

OPS = {
    "eq": Compare.EQ,
    "ne": Compare.NE,
    "gt": Compare.GT,
    "lt": Compare.LT,
    "ge": Compare.GE,
    "le": Compare.LE,
}
OP_CODES = {v: k for k, v in OPS.items()}
STATUS_LEN = strict.limit(ChatSession.status)
RANGES = {  # URL prefix → (filter field prefix, label)
    "start": ("started", "Start time"),
    "finish": ("finished", "Finish time"),
    "last": ("last_message", "Last message time"),
}
#: The URL keys a filter uses; everything else in the URL (session, sort, view) is left alone.
FILTER_KEYS = (
    "q",
    "people",
    "missing",
    "agent",
    "channel",
    "responsible",
    "human",
    "user",
    "status",
    "country",
    "ip",
    *(f"{p}_{end}" for p in RANGES for end in ("from", "to")),
    "msg_op",
    "msg_n",
    "attachments",
)


#: The ``missing`` value that asks for sessions missing any of the configured result fields.
ANY_RESULT = "any"


def parse(params: Mapping[str, str], tz: str, result_keys: Sequence[str] = ()) -> SessionFilter:
    """The filter a URL describes; BadInput names the first value that cannot be used.

    Every value goes through ``sessionlens.strict``: ids are ASCII digits within the column's range,
    dates lie within a sane window, countries are ISO codes, channels and comparisons are names.
    ``q`` is a search (``sessionlens.search``); ``missing`` is ``any`` or one of ``result_keys``,
    the tenant's configured result fields.
    """
    flt, problems = parse_each(params, tz, result_keys)
    if problems:
        raise problems[0]
    return flt


def parse_each(
    params: Mapping[str, str], tz: str, result_keys: Sequence[str] = ()
) -> tuple[SessionFilter, list[BadInput]]:
    """What a link's filters describe, filter by filter: the ones that can be used, and a
    BadInput naming each one that cannot (left out), in the dialog's order. For a page that
    opens a shared link: one mistyped value costs its own filter, not all of them."""
    zone = ZoneInfo(tz)
    values: dict[str, Any] = {}
    problems: list[BadInput] = []
    steps: list[Callable[[], dict[str, Any]]] = [
        lambda: {
            "text": search.parse(
                params.get("q", ""),
                people=strict.flag(params.get("people", ""), "Search, customer names option"),
            )
        },
        lambda: _missing(params.get("missing", "").strip(), result_keys),
        lambda: {"agent_ids": strict.idents(params.get("agent", ""), "Agents filter")},
        lambda: {"channels": _choices(params, "channel", "Channel filter", CHANNELS, "channel")},
        lambda: _responsible(params.get("responsible", "")),
        lambda: {"human_agent_ids": strict.idents(params.get("human", ""), "Human Agent filter")},
        lambda: {"customer_ids": strict.idents(params.get("user", ""), "Users filter")},
        lambda: {
            "statuses": tuple(
                strict.text(s, "Statuses filter", max_len=STATUS_LEN, required=True)
                for s in _list(params, "status")
            )
        },
        lambda: {
            "countries": _choices(
                params, "country", "Country filter", CODES, "country code", str.upper
            )
        },
        lambda: _ip(params.get("ip", "").strip()),
        *(
            partial(_range, params, prefix, field, label, zone)
            for prefix, (field, label) in RANGES.items()
        ),
        lambda: _messages(params.get("msg_op", ""), params.get("msg_n", "")),
        lambda: {
            "has_attachments": strict.flag(params.get("attachments", ""), "Has Attachments filter")
        },
    ]
    for step in steps:
        try:
            values.update(step())
        except BadInput as err:
            problems.append(err)
    return SessionFilter(**values), problems


def _choices(
    params: Mapping[str, str],
    key: str,
    label: str,
    allowed: Collection[str],
    noun: str,
    fold: Callable[[str], str] = str,
) -> tuple[str, ...]:
    """The values of the list filter ``key``, each (after ``fold``) one of ``allowed``."""
    return tuple(strict.choice(fold(v), label, allowed, noun=noun) for v in _list(params, key))


def _responsible(resp: str) -> dict[str, Any]:
    if not resp:
        return {}
    if resp not in {r.value for r in Responsible}:
        raise BadInput(f"Responsible filter: {strict.quote(resp)} is neither 'human' nor 'ai'")
    return {"responsible": Responsible(resp)}


def _ip(ip: str) -> dict[str, Any]:
    if not ip:
        return {}
    if (canonical := strict.ip_or_none(ip)) is None:
        raise BadInput(f"IP filter: {strict.quote(ip)} is not a valid IP address")
    return {"ip": canonical}


def _range(
    params: Mapping[str, str], prefix: str, field: str, label: str, zone: ZoneInfo
) -> dict[str, Any]:
    lo = _when(params, f"{prefix}_from", label, zone)
    hi = _when(params, f"{prefix}_to", label, zone)
    if lo and hi and lo >= hi:
        raise BadInput(f"{label} filter: the range ends before it starts")
    return {f"{field}_from": lo, f"{field}_to": hi}


def _messages(op: str, n: str) -> dict[str, Any]:
    if not (op or n):
        return {}
    if not op:
        raise BadInput(f"Messages filter: pick a comparison for the count {strict.quote(n)}")
    if op not in OPS:
        raise BadInput(f"Messages filter: pick a comparison, not {strict.quote(op)}")
    if not n:
        raise BadInput("Messages filter: enter the count to compare with")
    return {"messages_op": OPS[op], "messages_count": strict.count(n, "Messages filter")}


def encode(flt: SessionFilter, tz: str) -> dict[str, str]:
    """The URL query parameters of ``flt`` (only the active ones)."""
    zone = ZoneInfo(tz)
    missing = ANY_RESULT if flt.missing_any else ",".join(flt.missing_results)
    out = {
        "q": flt.text.text if flt.text else "",
        "people": "1" if flt.text and flt.text.people else "",
        "missing": missing,
        "agent": ",".join(map(str, flt.agent_ids)),
        "channel": ",".join(flt.channels),
        "responsible": flt.responsible.value if flt.responsible else "",
        "human": ",".join(map(str, flt.human_agent_ids)),
        "user": ",".join(map(str, flt.customer_ids)),
        "status": ",".join(flt.statuses),
        "country": ",".join(flt.countries),
        "ip": flt.ip or "",
        "msg_op": OP_CODES[flt.messages_op] if flt.messages_op else "",
        "msg_n": "" if flt.messages_count is None else str(flt.messages_count),
        "attachments": "1" if flt.has_attachments else "",
    }
    for prefix, (field, _) in RANGES.items():
        for end in ("from", "to"):
            when = getattr(flt, f"{field}_{end}")
            out[f"{prefix}_{end}"] = (
                when.astimezone(zone).replace(tzinfo=None).isoformat(timespec="minutes")
                if when
                else ""
            )
    return {k: v for k, v in out.items() if v}


def active_labels(flt: SessionFilter) -> list[str]:
    """The spec's names of the filters ``flt`` sets, in the dialog's order."""
    checks = [
        ("Search", flt.text),
        ("Results missing", flt.missing_results),
        ("Agents", flt.agent_ids),
        ("Channel", flt.channels),
        ("Responsible", flt.responsible),
        ("Human Agent", flt.human_agent_ids),
        ("Users", flt.customer_ids),
        ("Statuses", flt.statuses),
        ("Country", flt.countries),
        ("IP", flt.ip),
        ("Start time", flt.started_from or flt.started_to),
        ("Finish time", flt.finished_from or flt.finished_to),
        ("Last message time", flt.last_message_from or flt.last_message_to),
        ("Messages", flt.messages_op),
        ("Has Attachments", flt.has_attachments),
    ]
    return [label for label, value in checks if value]


def local_to_utc(value: dt.datetime, tz: str) -> dt.datetime:
    """A wall-clock time in the tenant's zone as aware UTC. In a DST gap or overlap the earlier
    reading (fold=0) is used, as zoneinfo does."""
    return value.replace(tzinfo=ZoneInfo(tz)).astimezone(dt.UTC)


def _missing(raw: str, keys: Sequence[str]) -> dict:
    if not raw:
        return {}
    if not keys:
        raise BadInput(
            "Results missing filter: no result fields are configured for this tenant "
            "(an admin sets them under Settings)"
        )
    if raw == ANY_RESULT:
        return {"missing_results": tuple(keys), "missing_any": True}
    if raw not in keys:
        raise BadInput(
            f"Results missing filter: {strict.quote(raw)} is not a configured result field"
        )
    return {"missing_results": (raw,)}


def _list(params: Mapping[str, str], key: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in params.get(key, "").split(",") if v.strip())


def _when(params: Mapping[str, str], key: str, label: str, zone: ZoneInfo) -> dt.datetime | None:
    raw = params.get(key, "").strip()
    return strict.moment(raw, f"{label} filter", zone) if raw else None


def to_local(when: dt.datetime, tz: str) -> dt.datetime:
    """An aware time as the tenant's naive wall-clock time (what date widgets show)."""
    return when.astimezone(ZoneInfo(tz)).replace(tzinfo=None)
