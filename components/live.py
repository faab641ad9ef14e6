"""Live updates: a fragment polls a small signature of what a page shows every
``SESSIONLENS_LIVE_SECONDS`` and redraws the page only when it has changed (a message through the
API, a finish, a handover, a new session, another operator's accept).

A page run (a click, a filter, the page's own action) draws the current state, so it only records
the signature; only a timed run of the fragment compares, and redraws on a change.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st
from sqlalchemy.orm import Session

from components import selection
from components.data import run_read
from components.feedback import guarded
from components.session_list import reload_lists, shown_ids
from sessionlens import live
from sessionlens.permissions import Actor
from sessionlens.settings import get_settings

_EVERY = get_settings().live_seconds or None  # read once per process


def watch(
    name: str, signature: Callable[[Session], object], on_change: Callable[[], None] | None = None
) -> None:
    """Call once per page run, after everything it watches is drawn. ``signature`` is a cheap
    domain read; ``on_change`` forgets what the page keeps between runs before it redraws."""
    st.session_state[f"live_page_run_{name}"] = True  # not set when only the fragment runs
    _watch(name, signature, on_change)


@st.fragment(run_every=_EVERY)
@guarded
def _watch(
    name: str, signature: Callable[[Session], object], on_change: Callable[[], None] | None
) -> None:
    if _EVERY is None:
        return
    page_run = st.session_state.pop(f"live_page_run_{name}", False)
    sig = run_read(signature)
    before = st.session_state.get(f"live_signature_{name}")
    st.session_state[f"live_signature_{name}"] = sig
    if not page_run and before is not None and sig is not None and sig != before:
        if on_change is not None:
            on_change()
        st.rerun()


def live_watch(actor: Actor) -> None:
    """The Sessions page: the open session, the rows the table shows, and new sessions."""
    watch(
        "sessions",
        lambda db: live.signature(
            db, actor=actor, open_session=selection.selected(), shown=shown_ids()
        ),
        on_change=reload_lists,  # the table reads its rows again
    )
