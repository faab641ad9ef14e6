"""Which session is open. ``st.session_state["selected"]`` holds it; the URL mirrors it."""

from __future__ import annotations

import streamlit as st

from components import url

#: The URL's ``session`` as this browser session last saw it; a run that finds another one there
#: was started by Back, Forward or an edited address.
_SEEN = "url_session_seen"
#: How messages name the URL's ``session``.
_LINK = "The link's session"


def sync_from_url(page: str) -> bool:
    """Take the URL's session on entering ``page`` (deep link, reload, or back from another page)
    and whenever the address changes under the page (Back and Forward between sessions: Streamlit
    reruns the page with the older address); True when this run enters the page.

    Streamlit drops the query string when the user switches pages; coming back with a bare URL
    restores the filters, sort, view and session the page had, so nothing is lost.
    """
    entering = st.session_state.get("page") != page
    st.session_state["page"] = page
    memory = f"url_{page}"
    if entering and not st.query_params and st.session_state.get(memory):
        st.query_params.from_dict(st.session_state[memory])
    raw = st.query_params.get("session", "")
    if not entering and raw == st.session_state.get(_SEEN, raw):
        return False
    st.session_state[_SEEN] = raw
    session_id, _ = url.parse_id("session", _LINK, big=True)  # a bad one: ``link_problem``
    if not entering and session_id == selected():
        return False
    st.session_state["selected"] = session_id
    # The grid applies its initial selection only when it mounts (docs/engineering-notes.md): on
    # entering it mounts anew; on Back or Forward it is mounted anew under another key.
    st.session_state["grid_initial"] = [str(session_id)] if session_id else []
    if not entering:
        st.session_state["grid_generation"] = grid_generation() + 1
    return entering


def grid_generation() -> int:
    """How many times the grid was mounted anew to show a session the address chose."""
    return st.session_state.get("grid_generation", 0)


def selected() -> int | None:
    return st.session_state.get("selected")


def link_problem() -> str | None:
    """Why the address's session could not be opened (it is not an id), while no session is
    open: read from the address, which keeps the bad value until a row is picked."""
    return None if selected() else url.parse_id("session", _LINK, big=True)[1]


def select(session_id: str) -> None:
    """Open ``session_id`` (a row click). The detail area is drawn after the table in the same
    run, so it shows the new session without another run."""
    if session_id != str(selected()):
        st.session_state["selected"] = int(session_id)
        st.query_params["session"] = session_id
        st.session_state[_SEEN] = session_id  # our own change of the address


def keep_highlight() -> None:
    """The grid is about to be mounted anew (another sort has its own grid): it shows the open
    session's row selected, as the one it replaces did."""
    sid = selected()
    st.session_state["grid_initial"] = [str(sid)] if sid else []


def show(session_id: int) -> None:
    """Open a session the app chose (an imported recording): the URL names it, and the grid
    selects it when it next mounts."""
    select(str(session_id))
    keep_highlight()


def remember_url(page: str) -> None:
    """Keep the page's query string, for ``sync_from_url`` when the user comes back."""
    st.session_state[f"url_{page}"] = {k: st.query_params[k] for k in st.query_params}
