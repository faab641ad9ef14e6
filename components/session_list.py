"""The table column of the Sessions page: sort switch, grid, Load More, empty state.

Loaded rows are kept per sort key in ``st.session_state`` together with the filter they were
loaded for; a new filter or Refresh starts again from the newest page, and a change made
elsewhere (``refresh_lists``) reads as many rows as were loaded again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import streamlit as st

from components import feedback, selection, url
from components.data import run_read
from components.filter_bar import reset_filters
from components.grid import header_click, sessions_grid
from sessionlens import live, sessions, strict
from sessionlens.errors import BadInput
from sessionlens.filters import SessionFilter
from sessionlens.permissions import Actor
from sessionlens.sessions import SessionRow, SortKey
from sessionlens.settings import get_settings
from sessionlens.wording import counted

SORT_LABELS = {SortKey.STARTED: "Start", SortKey.LAST_MESSAGE: "Last message"}


class State(Protocol):
    """A page's session state: ``st.session_state``, or AppTest's after a run."""

    def __contains__(self, key: str) -> bool: ...
    def __getitem__(self, key: str) -> Any: ...


@dataclass
class LoadedList:
    flt: SessionFilter
    rows: list[SessionRow] = field(default_factory=list)
    cursor: str | None = None
    loaded: bool = False
    stale: bool = False  # read again from the newest, as many rows as were loaded
    newest: int | None = None  # the tenant's newest session id, read just before the first rows


def refresh_lists() -> None:
    """Have the table read its rows again when it next draws: as many as the user had loaded,
    from the newest, so that what changed elsewhere shows (a new session at the top, a count,
    a finish) and the pages a lead loaded with Load More stay loaded."""
    for sort in SortKey:
        if (state := st.session_state.get(f"list_{sort.value}")) is not None:
            state.stale = True


def displayed_list(state: State = st.session_state) -> LoadedList | None:
    """The rows the table shows in its sort (``sort_pick`` follows it) as they were read, with
    the newest session id read just before them (what the live poll watches); None before they
    are loaded. ``state``: the page's session state."""
    picked = state["sort_pick"] if "sort_pick" in state else None
    sort = picked if picked in set(SortKey) else SortKey.STARTED  # None for a moment after a click
    key = f"list_{SortKey(sort).value}"
    listing: LoadedList | None = state[key] if key in state else None
    return listing if listing is not None and listing.loaded else None


def current_sort() -> SortKey:
    raw = st.query_params.get("sort", "")
    if not raw:
        return SortKey.STARTED
    try:
        return SortKey(
            strict.choice(raw, "The link's sort", {s.value for s in SortKey}, noun="sort")
        )
    except BadInput as err:
        feedback.error(f"{err}. Sorting by Start instead.")
        return SortKey.STARTED


def sessions_table(actor: Actor, tz: str, flt: SessionFilter, *, filtered: bool) -> None:
    sort = _sort_by_header(current_sort())
    # The switch shows the sort in force, whichever way it was chosen (a header click, the URL,
    # Back and Forward), and never nothing (a click on the picked option would clear it).
    if st.session_state.get("sort_pick") != sort:
        st.session_state["sort_pick"] = sort
    bar, refresh = st.columns([4, 1], vertical_alignment="bottom")
    bar.segmented_control(
        "Sort by",
        list(SORT_LABELS),
        key="sort_pick",
        format_func=SORT_LABELS.__getitem__,
        selection_mode="single",
        on_change=_sort_picked,
    )
    if refresh.button("", icon=":material/refresh:", help="Reload the newest sessions"):
        st.session_state.pop(f"list_{sort.value}", None)
    listing = _loaded(sort, flt, actor)
    if listing.loaded and not listing.rows:
        st.info(
            "No sessions match these filters."
            if filtered
            else "No sessions yet. Your agent runtime sends them through the HTTP API (an admin "
            "makes its key under Settings → API keys), and **Import session** brings in a call "
            "recording or a sessions file.",
            icon=":material/filter_alt_off:" if filtered else ":material/inbox:",
        )
        if filtered and st.button("Reset", key="empty_reset"):
            reset_filters()
            url.rerun()
    sessions_grid(  # a picked row goes to the detail area (chat.detail_listener)
        listing.rows,
        tz,
        sort_key=sort,
        initial_selection=st.session_state.get("grid_initial", []),
        generation=selection.grid_generation(),
    )
    st.button(
        "Load More",
        disabled=listing.cursor is None,
        use_container_width=True,
        help=None if listing.cursor else "All matching sessions are loaded",
        on_click=_load_more,
        args=(listing, sort, actor),
    )
    st.caption(f"{counted(len(listing.rows), 'session')} loaded")


def _sort_picked() -> None:
    """The URL carries the sort; the page reads it when it runs (a click on the picked one
    again clears the control: the sort stays)."""
    if (picked := st.session_state.get("sort_pick")) and picked != current_sort():
        _switch_sort(SortKey(picked))


def _sort_by_header(sort: SortKey) -> SortKey:
    """The sort this run draws: ``sort``, or the column whose header the user clicked (Start or
    Last message), which the URL then takes. The click comes with this run as the grid's value
    and is read before the table is drawn, so the table, the switch and the link change in one
    run (asking for another one let Streamlit merge it with the live poll's request, and under
    load the table could stay dimmed). Each click is acted on once (its stamp is kept), and a
    column the grid names must be one of the two."""
    event = header_click(sort.value, selection.grid_generation())
    if event.click is None or event.click == st.session_state.get("sort_click_seen"):
        return sort
    st.session_state["sort_click_seen"] = event.click
    try:
        picked = SortKey(strict.choice(str(event.sort), "The sort", {s.value for s in SortKey}))
    except BadInput:
        return sort
    if picked != sort:
        _switch_sort(picked)
    return picked


def _switch_sort(sort: SortKey) -> None:
    """The URL takes the new sort; its grid, mounted anew, shows the open session selected."""
    st.query_params["sort"] = sort.value
    selection.keep_highlight()


def _loaded(sort: SortKey, flt: SessionFilter, actor: Actor) -> LoadedList:
    key = f"list_{sort.value}"
    state: LoadedList | None = st.session_state.get(key)
    if state is None or state.flt != flt:
        state = st.session_state[key] = LoadedList(flt)
    if not state.loaded:
        _load_more(state, sort, actor)
    elif state.stale:
        _read_again(state, sort, actor)
    return state


def _load_more(state: LoadedList, sort: SortKey, actor: Actor) -> None:
    """Append the next older page (keyset cursor) to ``state``."""
    read = _read(state, sort, actor, after=state.cursor, limit=get_settings().page_size)
    if read is not None:
        state.newest, page = read
        state.rows = state.rows + page.rows
        state.cursor = page.next_cursor
        state.loaded = True


def _read_again(state: LoadedList, sort: SortKey, actor: Actor) -> None:
    """Replace ``state``'s rows with as many from the newest (at least a page): the rows below
    that a new session pushed down come with the next Load More."""
    size = max(get_settings().page_size, len(state.rows))
    read = _read(state, sort, actor, after=None, limit=size)
    if read is not None:
        state.newest, page = read
        state.rows, state.cursor, state.stale = page.rows, page.next_cursor, False


def _read(
    state: LoadedList, sort: SortKey, actor: Actor, *, after: str | None, limit: int
) -> tuple[int | None, sessions.Page] | None:
    """``limit`` rows of ``state``'s filter after the cursor ``after``; from the newest (None)
    with the tenant's newest session id read just before them (the live poll's reference),
    further down with the one ``state`` has."""
    return run_read(
        lambda db: (
            live.newest(db, actor=actor) if after is None else state.newest,
            sessions.list_page(db, state.flt, sort, after, actor=actor, limit=limit),
        )
    )
