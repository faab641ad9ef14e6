"""One strict parser per kind of outside value: URL parameters, form fields, upload names.

Everything a browser, an upload or an agent runtime hands us passes through one of these before the
domain uses it. Each either returns a clean value or raises BadInput with a message that names the
field and what was wrong, quoting the value safely (shortened, control characters made visible),
so that no odd value reaches a database as something it cannot store.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
import unicodedata
from collections.abc import Container
from typing import Literal, overload
from zoneinfo import ZoneInfo

from sqlalchemy import String
from sqlalchemy.orm import InstrumentedAttribute

from sessionlens.errors import BadInput

#: Ids of tables with 32-bit integer keys (Postgres ``integer``) and of 64-bit ones (``bigint``).
MAX_ID = 2**31 - 1
MAX_BIG_ID = 2**63 - 1
#: Dates a URL may name: wide enough for any real session, narrow enough for every database and
#: for time-zone arithmetic (year 1 or 9999 overflow once shifted by an offset).
EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
#: Characters no field may hold: control and format characters (NUL, bidirectional overrides such
#: as U+202E, zero-width spaces), surrogates and line/paragraph separators. The zero-width
#: (non-)joiners stay: emoji sequences and Persian or Indic words need them.
_BANNED_CATEGORIES = {"Cc", "Cf", "Cs", "Zl", "Zp"}
_ALLOWED_FORMAT = {"\u200c", "\u200d"}
_MULTILINE_OK = {"\n", "\t"}
#: A subdivision's flag (🏴 and the region's code in invisible tag characters, then the cancel
#: tag: Scotland, Wales, England). Tag characters are format characters; anywhere else they are
#: refused with the rest, as they can carry text a reader does not see (to a language model, say).
_TAG_FLAG = re.compile("\U0001f3f4[\U000e0020-\U000e007e]{1,8}\U000e007f")
QUOTE_LIMIT = 60


def quote(value: str) -> str:
    """``value`` for a message: shortened, with control characters shown as escapes."""
    short = value if len(value) <= QUOTE_LIMIT else value[: QUOTE_LIMIT - 1] + "…"
    return repr(short)


def _digits(raw: str, limit: int) -> int | None:
    """``raw`` as a number when it is ASCII digits (``"²"`` and ``"١"`` are not) no longer than
    ``limit``; None otherwise. The length is checked before ``int()``, so 5,000 digits are refused,
    not converted."""
    if not raw or not raw.isascii() or not raw.isdigit() or len(raw) > len(str(limit)):
        return None
    return int(raw)


def ident(raw: str, label: str, *, big: bool = False) -> int:
    """A database id within the column's range (64-bit for ``big`` keys, else 32-bit)."""
    value = id_or_none(raw, big=big)
    if value is None:
        raise BadInput(f"{label}: {quote(raw.strip())} is not an id")
    return value


def id_or_none(raw: str, *, big: bool = False) -> int | None:
    """``raw`` as an id (ASCII digits, 1 to the column's largest) or None when it is not one:
    ``ident``'s rule, for a box that takes an id or a name (a customer's, a tenant's), where
    anything else is a name."""
    limit = MAX_BIG_ID if big else MAX_ID
    value = _digits(raw.strip(), limit)
    return value if value is not None and 0 < value <= limit else None


def ip_or_none(raw: str) -> str | None:
    """``raw`` as an IP address in its one written form ("2001:0DB8::0001" is "2001:db8::1"), or
    None when it is not one: the form sessions are stored in and the IP filter looks for."""
    if not raw.isascii() or len(raw) > 45:
        return None
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        return None


def idents(raw: str, label: str, *, big: bool = False) -> tuple[int, ...]:
    """A comma-separated list of ids (empty parts ignored)."""
    return tuple(ident(v, label, big=big) for v in raw.split(",") if v.strip())


def count(raw: str, label: str, *, limit: int = 10**9, least: int = 0) -> int:
    """A whole number from ``least`` (0 unless given) to ``limit``."""
    raw = raw.strip()
    if not raw or not raw.isascii() or not raw.isdigit():
        raise BadInput(f"{label}: {quote(raw)} is not a whole number")
    # The length first: 5,000 digits are refused as too large, not converted.
    significant = raw.lstrip("0") or "0"
    if len(significant) > len(str(limit)) or int(significant) > limit:
        raise BadInput(f"{label}: {quote(raw)} is larger than {limit:,}")
    if int(significant) < least:
        raise BadInput(f"{label}: {quote(raw)} is smaller than {least:,}")
    return int(significant)


def flag(raw: str, label: str) -> bool:
    """Yes or no: ``1``, ``true`` or ``yes``; ``0``, ``false``, ``no`` or nothing."""
    value = raw.strip().lower()
    if value in ("1", "true", "yes"):
        return True
    if value in ("", "0", "false", "no"):
        return False
    raise BadInput(f"{label}: {quote(raw)} is not yes or no (1 or 0)")


def moment(raw: str, label: str, zone: ZoneInfo) -> dt.datetime:
    """An ISO date and time (``2026-11-01T09:30``, an offset allowed), read in ``zone`` when it has
    none, as aware UTC within EARLIEST..LATEST."""
    raw = raw.strip()
    try:
        if not raw.isascii():
            raise ValueError
        value = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise BadInput(f"{label}: {quote(raw)} is not a date and time") from None
    # Checked on the wall-clock year first: shifting year 1 or 9999 by an offset overflows.
    if not EARLIEST.year <= value.year < LATEST.year:
        raise BadInput(f"{label}: {quote(raw)} is outside {EARLIEST.year}–{LATEST.year - 1}")
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    value = value.astimezone(dt.UTC)
    if not EARLIEST <= value < LATEST:
        raise BadInput(f"{label}: {quote(raw)} is outside {EARLIEST.year}–{LATEST.year - 1}")
    return value


def choice(raw: str, label: str, allowed: Container[str], *, noun: str = "value") -> str:
    """One of ``allowed``, exactly; otherwise "<label>: unknown <noun> '<raw>'"."""
    if raw not in allowed:
        raise BadInput(f"{label}: unknown {noun} {quote(raw)}")
    return raw


@overload
def text(
    raw: str, label: str, *, max_len: int, multiline: bool = ..., required: Literal[True]
) -> str: ...
@overload
def text(
    raw: str, label: str, *, max_len: int, multiline: bool = ..., required: bool = ...
) -> str | None: ...
def text(
    raw: str,
    label: str,
    *,
    max_len: int,
    multiline: bool = False,
    required: bool = False,
) -> str | None:
    """Typed or uploaded text: control characters refused, whitespace tidied, at most ``max_len``
    characters (the column's length: see ``limit``). None when empty and not ``required``."""
    if not isinstance(raw, str):
        raise BadInput(f"{label} must be text")
    value = raw.strip() if multiline else " ".join(raw.split())
    if (problem := control_problem(value, multiline=multiline)) is not None:
        raise BadInput(f"{label} {problem}; remove it and try again")
    if not value:
        if required:
            raise BadInput(f"{label} is required")
        return None
    if len(value) > max_len:
        raise BadInput(f"{label} is at most {max_len:,} characters; this one has {len(value):,}")
    return value


#: One "@", nothing blank, a dot in the domain (the shape every mailbox a console user or a
#: customer has takes; "dana@localhost" is refused as a typo far more often than it is meant).
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
#: RFC 5321: a mailbox's local part is at most 64 octets and a whole address at most 254.
_EMAIL_LOCAL, _EMAIL_WHOLE = 64, 254


@overload
def email(raw: str, label: str, *, required: Literal[True]) -> str: ...
@overload
def email(raw: str, label: str, *, required: bool = ...) -> str | None: ...
def email(raw: str, label: str, *, required: bool = False) -> str | None:
    """A typed email address (a console user's, a customer's), as ``text`` tidies it, with one
    message for anything that is not one: a space or a tab in it, no "@" or two, no dot after it,
    an empty part, longer than RFC 5321 allows. None when empty and not ``required``."""
    # text's own limit only bounds the work; the address's lengths have their message below
    value = text(raw, label, max_len=10 * _EMAIL_WHOLE, required=required)
    if value is None:
        return None
    if (problem := email_problem(value)) is not None:
        raise BadInput(f"{label} {problem}")
    return value


def email_problem(value: str) -> str | None:
    """What is wrong with ``value`` as an email address, to follow the field's name ("is not an
    email address …"), or None. The one rule for a typed address and one a runtime sends."""
    if not _EMAIL.fullmatch(value):
        return f"{quote(value)} is not an email address (name@example.com)"
    if len(value.partition("@")[0]) > _EMAIL_LOCAL or len(value) > _EMAIL_WHOLE:
        return (
            f"is longer than an email address can be: at most {_EMAIL_LOCAL} characters"
            f" before the @ and {_EMAIL_WHOLE} in all; this one has {len(value):,}"
        )
    return None


def control_problem(value: str, *, multiline: bool = False) -> str | None:
    """ "contains a control character (U+202E)", naming the first character of ``value`` no field
    may hold (see ``_BANNED_CATEGORIES``; a line break or a tab where one line is expected), or
    None. The one rule for typed text and for what a runtime or a file sends."""
    for ch in _TAG_FLAG.sub("", value):  # a flag's tag characters are the flag, not hidden text
        if (multiline and ch in _MULTILINE_OK) or ch == " " or ch in _ALLOWED_FORMAT:
            continue
        if unicodedata.category(ch) in _BANNED_CATEGORIES or (ch.isspace() and not multiline):
            return f"contains a control character (U+{ord(ch):04X})"
    return None


def limit(column: InstrumentedAttribute) -> int:
    """The length of a String column, so that a form refuses what the database would."""
    kind = column.property.columns[0].type
    assert isinstance(kind, String) and kind.length, f"{column} has no length"
    return kind.length
