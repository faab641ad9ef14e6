"""The Parameters & results panel: contact info, session parameters, session results."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import streamlit as st

from components.markdown import md_escape
from sessionlens.customers import LABELS
from sessionlens.sessions import SessionDetail
from sessionlens.timefmt import EMPTY


def render_panel(detail: SessionDetail) -> None:
    c = detail.contact
    head, link = st.columns([3, 2], vertical_alignment="center")
    head.markdown("**Contact info**")
    if c is None:
        st.caption("No contact info found")
    else:
        link.markdown(
            f'<a href="customer?customer={c.id}" target="_blank" rel="noopener">Open in 360</a>',
            unsafe_allow_html=True,
        )
        _lines((label, getattr(c, key)) for key, label in LABELS.items())
    st.divider()
    st.markdown("**Session parameters**")
    if detail.parameters:
        _lines(detail.parameters.items())
    else:
        st.caption("No parameters found")
    st.divider()
    st.markdown("**Session results**")
    if detail.has_results:
        _lines((r.label, f"{EMPTY}  ⚠ missing" if r.missing else r.value) for r in detail.results)
    else:
        st.caption("No results found")
    if missing := [r.label for r in detail.results if r.missing]:
        st.caption(
            f":material/warning: Not collected: {md_escape(', '.join(missing))}",
            help="Result fields configured for this tenant that the agent did not fill in",
        )


def _lines(pairs: Iterable[tuple[str, Any]]) -> None:
    """``key: value`` lines as plain text: the values come from customers and agent runtimes, so
    nothing in them becomes a link, an image or formatting (not even a bare URL or address)."""
    st.text("\n".join(f"{key}: {_plain(value)}" for key, value in pairs))


def _plain(value: Any) -> str:
    """A value as one line of text; ``---`` when empty."""
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
    return " ".join(text.split())
