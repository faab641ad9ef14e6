"""The Parameters & results panel: contact info, session parameters, session results.

The panel is one HTML element built here from escaped text: as a dozen Markdown, text and column
elements it was a fifth of what a row click made the browser draw (docs/engineering-notes.md). The
values come from customers and agent runtimes, so nothing in them becomes a link, an image or
formatting (not even a bare URL or address).
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

import streamlit as st

from sessionlens import strict
from sessionlens.customers import LABELS, Contact
from sessionlens.errors import BadInput
from sessionlens.sessions import ResultEntry, SessionDetail
from sessionlens.timefmt import EMPTY, local

#: Sent once per page by the frame (frame.py), not with every drawing of the panel.
PANEL_CSS = """
.sl-panel { font-size:0.9rem; }
.sl-panel-head { display:flex; flex-wrap:wrap; justify-content:space-between; align-items:baseline;
  column-gap:0.5rem; }
.sl-panel-head a, .sl-panel-head strong { white-space:nowrap; }
.sl-panel-lines { margin:0.4rem 0 0; line-height:1.35; }
.sl-kv { overflow-wrap:anywhere; margin-bottom:0.2rem; }
.sl-k { color:#6b7280; }
.sl-panel-none { color:#6b7280; font-size:0.85rem; margin:0.4rem 0 0; }
.sl-panel hr { margin:0.8rem 0; border:none; border-top:1px solid #e5e7eb; }
.sl-long { display:inline; }
.sl-long summary { display:inline; cursor:pointer; list-style:none; }
.sl-long summary::-webkit-details-marker { display:none; }
.sl-more { color:#1d4ed8; text-decoration:underline; }
.sl-long[open] .sl-cut, .sl-long:not([open]) .sl-less, .sl-long[open] .sl-show { display:none; }
"""

#: A value longer than this (in characters) shows its start and "show all" (a runtime's
#: parameter can be a pasted page of text, which pushed the rest of the panel out of sight).
LONG_VALUE = 160
PREVIEW = 120  # characters of it shown before "show all"

MISSING_HELP = "Result fields configured for this tenant that the agent did not fill in"


def render_panel(detail: SessionDetail) -> None:
    st.html(panel_html(detail))


def render_contact(contact: Contact) -> None:
    """The contact info's lines alone, as the panel shows them (the 360 View's profile)."""
    st.html(f'<div class="sl-panel" data-testid="sl-contact">{_contact_html(contact)}</div>')


def panel_html(detail: SessionDetail) -> str:
    """The three blocks as HTML, in the spec's words."""
    c = detail.contact
    link = (
        ""
        if c is None
        else f'<a href="customer?customer={int(c.id)}" target="_blank" rel="noopener">Open in 360</a>'
    )
    parts = [f'<div class="sl-panel-head"><strong>Contact info</strong>{link}</div>']
    parts.append(_none("No contact info found") if c is None else _contact_html(c))
    parts.append("<hr><strong>Session parameters</strong>")
    parts.append(
        key_values_html(detail.parameters.items())
        if detail.parameters
        else _none("No parameters found")
    )
    parts.append("<hr><strong>Session results</strong>")
    parts.append(
        key_values_html(
            (r.label, f"{EMPTY}  ⚠ missing" if r.missing else _collected(r, detail.timezone))
            for r in detail.results
        )
        if detail.has_results
        else _none("No results found")
    )
    if missing := [r.label for r in detail.results if r.missing]:
        parts.append(
            f'<p class="sl-panel-none" title="{html.escape(MISSING_HELP)}">'
            f"⚠ Not collected: {html.escape(', '.join(missing))}</p>"
        )
    return '<div class="sl-panel" data-testid="sl-panel">' + "".join(parts) + "</div>"


def result_value(result: ResultEntry, tz: str) -> Any:
    """A result as the panel shows it: a date-and-time field in the tenant's zone and the format
    of every other time on the page ("2026-12-27 10:00", where the runtime sent
    "2026-12-27T09:00:00Z"); one without an offset is taken as the tenant's time. A value that is
    not a date and time is shown as the runtime sent it."""
    if result.kind == "datetime" and isinstance(result.value, str):
        try:
            return local(strict.moment(result.value, result.label, ZoneInfo(tz)), tz)
        except BadInput:
            return result.value
    return result.value


def _collected(result: ResultEntry, tz: str) -> str:
    """A collected value, marked when it does not fit its field ("lots  ⚠ not a whole number")."""
    shown = plain_value(result_value(result, tz))
    return f"{shown}  ⚠ {result.wrong}" if result.wrong else shown


def _none(text: str) -> str:
    return f'<p class="sl-panel-none">{html.escape(text)}</p>'


def _contact_html(contact: Contact) -> str:
    return key_values_html((label, getattr(contact, key)) for key, label in LABELS.items())


def key_values_html(pairs: Iterable[tuple[str, Any]]) -> str:
    """``key: value`` lines as escaped text, the key in grey (``CSS``); a line break inside a key
    or value cannot start a line of its own. The panel's blocks and the 360 View's contact info."""
    rows = "".join(
        f'<div class="sl-kv"><span class="sl-k">{_cut(plain_value(key))}:</span> '
        f"{_value_html(plain_value(value))}</div>"
        for key, value in pairs
    )
    return f'<div class="sl-panel-lines">{rows}</div>'


def _cut(text: str, limit: int = 120) -> str:
    """A key, escaped, cut to ``limit`` characters (the whole of it in the tooltip)."""
    if len(text) <= limit:
        return html.escape(text)
    return f'<span title="{html.escape(text)}">{html.escape(text[: limit - 1])}…</span>'


def _value_html(text: str) -> str:
    """A value, escaped; a long one as its start and "show all N characters", which opens the
    rest in place (no script: a ``<details>``) and "show less" closes it."""
    if len(text) <= LONG_VALUE:
        return html.escape(text)
    return (
        f'<details class="sl-long"><summary><span class="sl-cut">'
        f"{html.escape(text[:PREVIEW])}… </span>"
        f'<span class="sl-more sl-show">show all {len(text):,} characters</span>'
        f'<span class="sl-more sl-less">show less</span></summary> '
        f'<span class="sl-all">{html.escape(text)}</span></details>'
    )


def plain_value(value: Any) -> str:
    """A value as one line of text; ``---`` when empty or blank (the panel, the Audit page)."""
    if value is None or value == "" or value == []:
        return EMPTY
    if isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, list):
        text = ", ".join(str(v) for v in value)
    elif isinstance(value, dict):
        text = json.dumps(value, ensure_ascii=False)
    else:
        text = str(value)
    return " ".join(text.split()) or EMPTY
