"""Live updates: a fragment polls a small signature of what a page shows every
``SESSIONLENS_LIVE_SECONDS`` and redraws the page only when it has changed (a message through the
API, a finish, a handover, a new session, another operator's accept).

The signature a poll compares with is read when the page run starts, before the page reads what
it draws: a change that lands while the page draws is then still a change at the next poll (read
after the drawing, it would have been taken for what the page shows, and missed until something
else changed). What the page shows for the first time in a run (rows it loaded) is added when the
run ends. Runs of the page's other fragments (a row click, Load More) only add and drop keys,
which ``sessionlens.live.changed`` does not count as changes.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st
from sqlalchemy.orm import Session

from components import selection
from components.data import run_read
from components.feedback import guarded
from components.session_list import refresh_lists, shown_ids
from sessionlens import live
from sessionlens.permissions import Actor
from sessionlens.settings import get_settings

_EVERY = get_settings().live_seconds or None  # read once per process

Reader = Callable[[Session], live.Signature]


def watch(
    name: str, signature: Reader, on_change: Callable[[], None] | None = None
) -> Callable[[], None]:
    """Call once per page run, before the page reads what ``signature`` covers (a cheap domain
    read); call what it returns after everything is drawn, to start the poll. ``on_change``
    forgets what the page keeps between runs before it redraws."""
    if _EVERY is None:
        return lambda: None
    st.session_state[f"live_signature_{name}"] = run_read(signature)

    def poll() -> None:
        st.session_state[f"live_page_run_{name}"] = True  # not set when only the fragment runs
        _watch(name, signature, on_change)

    return poll


@st.fragment(run_every=_EVERY)
@guarded
def _watch(name: str, signature: Reader, on_change: Callable[[], None] | None) -> None:
    page_run = st.session_state.pop(f"live_page_run_{name}", False)
    now = run_read(signature)
    if now is None:
        return  # the database did not answer: the next poll tries again
    before = st.session_state.get(f"live_signature_{name}")
    if not page_run and before is not None and live.changed(before, now):
        if on_change is not None:
            on_change()
        st.rerun()
    st.session_state[f"live_signature_{name}"] = (
        now if before is None else live.carried(before, now)
    )


def sessions_watch(actor: Actor) -> Callable[[], None]:
    """The Sessions page: the open session, the rows the table shows, and new sessions."""
    return watch(
        "sessions",
        lambda db: live.signature(
            db, actor=actor, open_session=selection.selected(), shown=shown_ids()
        ),
        on_change=refresh_lists,  # the table reads the rows it shows again
    )
