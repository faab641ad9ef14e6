"""The loaded pages of the sessions table, kept per sort key in ``st.session_state``."""

from __future__ import annotations

from dataclasses import dataclass, field

import streamlit as st

from components.data import run_action
from sessionlens import sessions
from sessionlens.filters import SessionFilter
from sessionlens.permissions import Actor
from sessionlens.sessions import SessionRow, SortKey
from sessionlens.settings import get_settings


@dataclass
class LoadedList:
    rows: list[SessionRow] = field(default_factory=list)
    cursor: str | None = None
    loaded: bool = False


def loaded_list(sort: SortKey, actor: Actor) -> LoadedList:
    """The rows loaded so far for ``sort``; the first page is fetched on first use."""
    key = f"list_{sort.value}"
    state: LoadedList = st.session_state.setdefault(key, LoadedList())
    if not state.loaded:
        load_more(state, sort, actor)
    return state


def load_more(state: LoadedList, sort: SortKey, actor: Actor) -> None:
    """Append the next older page (keyset cursor) to ``state``."""
    page = run_action(
        lambda db: sessions.list_page(
            db, SessionFilter(), sort, state.cursor, actor=actor, limit=get_settings().page_size
        )
    )
    if page is not None:
        state.rows = state.rows + page.rows
        state.cursor = page.next_cursor
        state.loaded = True


def reset_lists() -> None:
    for sort in SortKey:
        st.session_state.pop(f"list_{sort.value}", None)
