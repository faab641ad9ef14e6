"""Which session is open. ``st.session_state["selected"]`` holds it; the URL mirrors it."""

from __future__ import annotations

import streamlit as st

from components import url


def sync_from_url(page: str) -> bool:
    """On entering ``page`` (deep link, reload, or back from another page) take the URL's session;
    True when this run enters the page.

    Streamlit drops the query string when the user switches pages; coming back with a bare URL
    restores the filters, sort, view and session the page had, so nothing is lost.
    """
    entering = st.session_state.get("page") != page
    st.session_state["page"] = page
    memory = f"url_{page}"
    if entering and not st.query_params and st.session_state.get(memory):
        st.query_params.from_dict(st.session_state[memory])
    if not entering:
        return False
    session_id = url.id_param("session", "The link's session", big=True)
    st.session_state["selected"] = session_id
    # The grid applies its initial selection only when it mounts (docs/engineering-notes.md).
    st.session_state["grid_initial"] = [str(session_id)] if session_id else []
    return True


def selected() -> int | None:
    return st.session_state.get("selected")


def select(session_id: str) -> None:
    """Open ``session_id`` (a row click). The detail area is drawn after the table in the same
    run, so it shows the new session without another run."""
    if session_id != str(selected()):
        st.session_state["selected"] = int(session_id)
        st.query_params["session"] = session_id


def remember_url(page: str) -> None:
    """Keep the page's query string, for ``sync_from_url`` when the user comes back."""
    st.session_state[f"url_{page}"] = {k: st.query_params[k] for k in st.query_params}
