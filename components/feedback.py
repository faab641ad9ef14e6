"""Messages to the user. Their text often quotes what someone typed or sent (a URL parameter, a
name, a job's error), so it is always shown literally: never as a link, an image or formatting."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import ParamSpec

import streamlit as st
from sqlalchemy.exc import OperationalError

from components.markdown import md_escape
from sessionlens.errors import DATABASE_UNAVAILABLE

log = logging.getLogger("sessionlens.app")
P = ParamSpec("P")
#: What a user sees when something fails that is not their doing; the details go to the server log.
UNEXPECTED = (
    "Something went wrong while showing this page. The details were written to the server log; "
    "reload the page, and tell your administrator if it happens again."
)


def error(message: str, *, icon: str = ":material/error:") -> None:
    st.error(md_escape(message), icon=icon)


def info(message: str, *, icon: str | None = None) -> None:
    st.info(md_escape(message), icon=icon)


def warning(message: str, *, icon: str = ":material/warning:") -> None:
    st.warning(md_escape(message), icon=icon)


def success(message: str, *, icon: str = ":material/check_circle:") -> None:
    st.success(md_escape(message), icon=icon)


def toast(message: str, *, icon: str = ":material/check_circle:") -> None:
    st.toast(md_escape(message), icon=icon)


def unexpected(exc: BaseException) -> None:
    """A failure that is ours: logged in full on the server, a plain message on the page."""
    # The open session, if any, goes with the line (a field of its own in JSON logs).
    log.error("page failed", exc_info=exc, extra={"session_id": st.session_state.get("selected")})
    st.error(
        DATABASE_UNAVAILABLE if isinstance(exc, OperationalError) else UNEXPECTED,
        icon=":material/error:",
    )


def guarded(fn: Callable[P, None]) -> Callable[P, None]:
    """For the body of an ``st.fragment`` or ``st.dialog``: a failure in it is shown in its place
    as ``unexpected`` shows one. frame.py catches what fails in a page's full run, but a fragment
    or dialog also runs alone (a row click, the live poll, a button in a dialog), outside that
    ``try``, and Streamlit's own message then spoke of Streamlit Cloud and offered to ask a search
    engine about it. ``st.rerun`` and ``st.stop`` are BaseExceptions and pass through.

    It also checks the sign-in again first when the fragment runs alone (``recheck_sign_in``),
    since the frame's check runs only in a full run."""

    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        from components.signin import recheck_sign_in  # signin -> data -> feedback at import

        try:
            recheck_sign_in()
            fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - shown plainly, logged in full
            unexpected(exc)

    return run
