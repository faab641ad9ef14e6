"""Values read from the page's URL. Each goes through its strict parser (sessionlens.strict); a value
that cannot be used is named in a message and treated as absent, so a bad link never breaks a page."""

from __future__ import annotations

from typing import NoReturn

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from components import feedback
from sessionlens import strict
from sessionlens.errors import BadInput

_CARRIED = "url_carried"  # (page, link) a rerun carries into the run it asks for


def id_param(key: str, label: str, *, big: bool = False) -> int | None:
    """The id in ``?key=``; None when it is missing or not an id (then a message says so)."""
    value, problem = parse_id(key, label, big=big)
    if problem:
        feedback.error(problem)
    return value


def parse_id(key: str, label: str, *, big: bool = False) -> tuple[int | None, str | None]:
    """The id in ``?key=`` and, when the link gives one that is not an id, the message naming it
    (for a page that shows it in its place: where the chat would be, say)."""
    raw = st.query_params.get(key, "")
    if not raw:
        return None, None
    try:
        return strict.ident(raw, label, big=big), None
    except BadInput as err:
        return None, str(err)


def warn_repeated() -> None:
    """A link that gives a parameter more than once (``?session=1&session=2``): Streamlit reads
    the last; say so, naming the values, instead of silently picking one. No parameter of this
    app takes several values this way (lists are comma-separated)."""
    for key in st.query_params:
        values = st.query_params.get_all(key)
        if len(values) > 1:
            shown = ", ".join(strict.quote(v) for v in values[:5]) + (
                ", ..." if len(values) > 5 else ""
            )
            feedback.warning(
                f"The link gives {strict.quote(key)} {len(values)} times ({shown}); "
                f"using the last, {strict.quote(values[-1])}."
            )


def rerun() -> NoReturn:
    """``st.rerun`` of the whole page for a run that has changed the link (filters applied, a
    saved view, an imported session opened): the run it asks for starts from this link.

    A request the browser sends at the same moment (the live poll's timer) carries the link the
    browser had before this run changed it, and Streamlit merges the two into one run that starts
    from that older link: the change was undone while the address bar showed it. ``restore``, at
    the start of that run, puts this link back."""
    ctx = get_script_run_ctx()
    st.session_state[_CARRIED] = (ctx.page_script_hash if ctx else "", st.query_params.to_dict())
    st.rerun()


def restore() -> None:
    """Call first in a run that ``rerun`` may have asked for (the frame does):
    the link that rerun carried, if the run started from another one. Not on Back and Forward,
    which Streamlit marks, nor on another page."""
    carried = st.session_state.pop(_CARRIED, None)
    ctx = get_script_run_ctx()
    if carried is None or ctx is None or ctx.is_history_navigation:
        return
    page, link = carried
    if page == ctx.page_script_hash and st.query_params.to_dict() != link:
        st.query_params.from_dict(link)
