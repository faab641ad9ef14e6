"""Live updates on the Sessions page: a fragment polls ``sessionlens.live.signature`` every
``SESSIONLENS_LIVE_SECONDS`` and redraws the page only when something it shows has changed (a
message through the API, a finish, a handover, a new session)."""

from __future__ import annotations

import streamlit as st

from components import selection
from components.data import run_read
from components.session_list import reload_lists
from sessionlens import live
from sessionlens.permissions import Actor
from sessionlens.settings import get_settings

_EVERY = get_settings().live_seconds or None  # read once per process


def live_watch(actor: Actor) -> None:
    """Call once per page run, after everything it watches is drawn."""
    st.session_state["live_full_run"] = True  # not set when only the fragment runs
    _watch(actor)


@st.fragment(run_every=_EVERY)
def _watch(actor: Actor) -> None:
    if _EVERY is None:
        return
    # A page run (a click, a filter, our own action) draws the current state: it only records
    # the signature. Only a timed run of this fragment compares, and redraws on a change.
    full_run = st.session_state.pop("live_full_run", False)
    shown = [
        r.id
        for key in ("list_started", "list_last_message")
        for r in getattr(st.session_state.get(key), "rows", [])[:200]
    ]
    sig = run_read(
        lambda db: live.signature(db, actor=actor, open_session=selection.selected(), shown=shown)
    )
    before = st.session_state.get("live_signature")
    st.session_state["live_signature"] = sig
    if not full_run and before is not None and sig is not None and sig != before:
        reload_lists()  # the table reads its rows again
        st.rerun()
