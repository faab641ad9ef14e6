"""Live updates: a fragment polls a small signature of what a page shows every
``SESSIONLENS_LIVE_SECONDS`` and redraws the page only when it has changed (a message through the
API, a finish, a handover, a new session, another operator's accept).

The poll compares the signature read now with the same values as the page drew them, read no
later than what they stand for (``sessionlens.live``): a change that lands while the page draws,
or between a table's load and a later run, is still a change at the next poll. The Sessions page
takes them from what it drew (the table's rows as loaded, the open session as its chat read it);
the Human Agents page, which reads everything again on every run, reads the signature before it
reads the list and the conversation (``seen_now``).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

import streamlit as st
from sqlalchemy.orm import Session

from components import dialogs
from components.data import run_read
from components.feedback import guarded
from components.session_list import LoadedList, State, displayed_list, refresh_lists
from sessionlens import live
from sessionlens.permissions import Actor
from sessionlens.sessions import SessionRow
from sessionlens.settings import get_settings

_EVERY = get_settings().live_seconds or None  # read once per process
_OPEN = "live_open_drawn"  # the open session as the Sessions page's chat drew it
WATCHED_ROWS = 200  # the table's first rows; further down, a change shows with the next redraw

Reader = Callable[[Session], live.Signature]
Drawn = Callable[[], live.Signature | None]


def watch(
    name: str,
    signature: Reader,
    drawn: Drawn,
    *,
    on_change: Callable[[], None] | None = None,
    paused: Callable[[], bool] = lambda: False,
) -> None:
    """Start the poll: call once per page run, after everything is drawn. ``signature`` is a
    cheap domain read of what ``drawn()`` says the page shows; ``on_change`` forgets what the
    page keeps between runs before it redraws; while ``paused()`` the poll does not look."""
    if _EVERY is not None:
        st.session_state[f"live_page_run_{name}"] = True  # not set when only the fragment runs
        _watch(name, signature, drawn, on_change, paused)


@st.fragment(run_every=_EVERY)
@guarded
def _watch(
    name: str,
    signature: Reader,
    drawn: Drawn,
    on_change: Callable[[], None] | None,
    paused: Callable[[], bool],
) -> None:
    if st.session_state.pop(f"live_page_run_{name}", False) or paused():
        return  # a page run has just drawn what is there
    before = drawn()
    now = run_read(signature)
    if before is not None and now is not None and live.changed(before, now):
        if on_change is not None:
            on_change()
        st.rerun()


def seen_now(name: str, signature: Reader) -> Drawn:
    """For a page that reads all it shows on every run: read ``signature`` now, before the page
    reads the rest, and keep it as what the page drew."""
    if _EVERY is None:
        return lambda: None
    st.session_state[f"live_seen_{name}"] = run_read(signature)
    return lambda: st.session_state.get(f"live_seen_{name}")


def drawn_open(row: SessionRow | None) -> None:
    """The Sessions page's chat shows ``row`` (None: no session open)."""
    st.session_state[_OPEN] = None if row is None else (row.id, live.state(row))


def sessions_drawn(state: State = st.session_state) -> live.Signature:
    """What the Sessions page shows, as it read it: the table's rows (by id) and the open
    session (``_open_key``). ``state``: the page's session state."""
    listing, watched, opened = _shown(state)
    shown: dict[Hashable, object] = {r.id: live.state(r) for r in watched}
    if listing is not None:
        shown["newest"] = listing.newest
    if opened is not None:
        shown[_open_key(opened[0])] = opened[1]
    return shown


def _shown(
    state: State,
) -> tuple[LoadedList | None, list[SessionRow], tuple[int, object] | None]:
    """The table's rows in its current sort, the first of them that the poll watches, and the
    open session's id with its values."""
    listing = displayed_list(state)
    watched = listing.rows[:WATCHED_ROWS] if listing is not None else []
    return listing, watched, (state[_OPEN] if _OPEN in state else None)


def _open_key(session_id: int) -> tuple[str, int]:
    """The open session's key in a signature, beside its row's (the row may be in the table
    too, read at another time)."""
    return ("open", session_id)


def sessions_watch(actor: Actor) -> None:
    """The Sessions page: the open session, the rows the table shows, and new sessions."""

    def now(db: Session) -> live.Signature:
        _, watched, opened = _shown(st.session_state)
        ids = [r.id for r in watched] + ([opened[0]] if opened else [])
        sig = live.signature(db, actor=actor, ids=ids)
        if opened is not None and opened[0] in sig:
            sig[_open_key(opened[0])] = sig[opened[0]]
        return sig

    watch(
        "sessions",
        now,
        sessions_drawn,
        on_change=refresh_lists,  # the table reads the rows it shows again
        # A redraw of the whole page would draw an open dialog again, and lose text typed in it.
        paused=lambda: dialogs.open_one() is not None,
    )
