"""Which of the Sessions page's dialogs is open: Session Filters, Import session, Export sessions
or the Logs drawer.

A dialog is drawn on every run of the page while it is open, so that a run the user did not ask
for (the live poll's redraw when a session changes elsewhere, a saved view) does not close it
under them with a file half chosen. Its X or Escape (``on_dismiss``), its own finish (Apply,
Reset, a done import) or going to another page closes it. One at a time: opening one closes the
one before. While one is open the live poll waits (``components/live.py``): Streamlit draws an
open dialog again on every run of the whole page, and text typed in it but not yet entered is
lost when it does.
"""

from __future__ import annotations

from typing import Literal

import streamlit as st

OPEN = "sessions_dialog"
Dialog = Literal["search", "import", "export", "logs"]


def open_dialog(name: Dialog) -> None:
    st.session_state[OPEN] = name


def close_dialog() -> None:
    st.session_state.pop(OPEN, None)


def open_one() -> Dialog | None:
    """The dialog to draw in this run, if one is open."""
    return st.session_state.get(OPEN)
