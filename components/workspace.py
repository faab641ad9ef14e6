"""The Sessions page's working area: the table, the chat of the selected session and its panel.

Two fragments. The workspace (the table and the divider) reruns on Load More, the sort switch, a
header click and the divider, not the header, the sidebar or the Session Filters dialog. Inside
it, the detail area (chat, actions, Logs drawer, Parameters & results) is a fragment of its own:
a row click, "Show earlier", the panel toggle and the detail's buttons rerun only that, and the
table is neither built nor sent again. The grid tells the detail area which row was picked
through the page (``grid.ROW_PICKED`` and ``chat.detail_listener``), not as the grid's own value,
which would rerun the table's fragment. A change of filters or an import reruns the whole page,
which gives both their new arguments.
"""

from __future__ import annotations

import streamlit as st
from sqlalchemy.orm import Session

from components import selection
from components.chat import (
    DETAIL_KEY,
    detail_listener,
    follow_the_end,
    message_window,
    no_chat,
    open_trace,
    render_conversation,
    whole_chat,
)
from components.data import run_action
from components.divider import divider, table_width
from components.feedback import guarded
from components.live import drawn_open
from components.logs_view import show_logs_if_open
from components.panel import render_panel
from components.search_hits import highlight_for, hits_bar
from components.session_actions import render_actions
from components.session_list import sessions_table
from components.transcription_status import shows_status, transcription_status
from sessionlens import logs, sessions
from sessionlens.filters import SessionFilter
from sessionlens.kinds import AuthorKind
from sessionlens.permissions import Actor
from sessionlens.sessions import SessionDetail
from sessionlens.wording import counted


@st.fragment
@guarded
def workspace(actor: Actor, tz: str, flt: SessionFilter, *, filtered: bool) -> None:
    width = table_width()
    table_col, detail_col = st.columns([width, 100 - width])
    with table_col:
        sessions_table(actor, tz, flt, filtered=filtered)
    with detail_col:
        divider()
        detail_area(actor, tz, flt)  # last: it keeps the URL for the page (remember_url)


@st.fragment
@guarded
def detail_area(actor: Actor, tz: str, flt: SessionFilter) -> None:
    """The chat of the open session with what sits under it, and the Parameters & results
    panel beside it (collapsed to its toggle when the user closes it)."""
    clicked = detail_listener(selection.select)  # first: a picked row is the session to show
    panel_open = st.session_state.setdefault("panel_open", True)
    chat_col, panel_col = st.container(key=DETAIL_KEY).columns(
        [0.62, 0.38] if panel_open else [0.9, 0.1]
    )
    sid = selection.selected()
    with chat_col:
        # Read here, so that a link to a session that is gone or not this tenant's says so
        # where its conversation would be, not under the table.
        opened = run_action(lambda db: _open(db, sid, actor)) if sid else None
        detail, traced = opened or (None, set())
        drawn_open(detail.row if detail else None)  # what the live poll compares the chat with
        if detail is None:
            no_chat(
                "Select a session in the table to read its conversation.",
                ":material/forum:",
                selection.link_problem(),
            )
        else:
            open_trace(detail.row.id, clicked, actor)
            # One block whichever way the chat is drawn, so that what follows keeps its place
            # in the page when the way changes (a transcript that arrives: the player is not
            # drawn a second time a slot higher while the run lasts).
            with st.container():
                _chat(detail, tz, flt, actor, traced)
            render_actions(detail, actor)
            show_logs_if_open(detail, actor)

    with panel_col:
        label = "▸ Parameters & results" if panel_open else "◂"
        st.button(
            label,
            key="panel_toggle",
            help="Collapse or expand the panel",
            use_container_width=True,
            wrap=True,  # a narrow window wraps the label instead of cutting it to "Paramete…"
            on_click=lambda: st.session_state.update(panel_open=not panel_open),
        )
        if panel_open and detail is not None:
            render_panel(detail)
            st.button("Refresh", icon=":material/refresh:", key="refresh_panel")  # a click rereads

    selection.remember_url("sessions")


def _chat(
    detail: SessionDetail, tz: str, flt: SessionFilter, actor: Actor, traced: set[int]
) -> None:
    """The open session's heading and conversation, and where its transcription stands."""
    n = detail.row.message_count
    heading = f"Chat · {counted(n, 'message')}"
    conv, sid = detail.conversation, detail.row.id
    light = highlight_for(sid, flt.text)
    # Most conversations are one element: a click draws them without a container around them.
    if light is None and not shows_status(conv.transcription):
        if whole_chat(conv, tz, heading, actor=actor, traced=traced):
            return  # its box follows the end by the page's detail_listener
    st.subheader(heading)
    bar = st.container()
    with st.container(height=620, border=False):
        render_conversation(conv, tz, actor=actor, session_id=sid, traced=traced, highlight=light)
        if light is None:  # a search opens the chat at its first match instead
            follow_the_end(sid)
    if light is not None:
        with bar:
            hits_bar(sid, light, earlier=conv.earlier)
    # A slot of its own, there even when empty: when the transcription ends and the page
    # reruns, the actions and the player keep their places, instead of moving up one while the
    # previous run's player still shows (two players until the run ends).
    with st.empty().container():
        transcription_status(sid, conv.transcription, actor)


def _open(db: Session, sid: int, actor: Actor) -> tuple[SessionDetail, set[int]]:
    """The selected session as the detail area shows it, and which of its AI answers have a trace
    call ("View trace"): one transaction for the whole area, whatever a click changes."""
    detail = sessions.get_session(db, sid, actor=actor, last_messages=message_window(sid))
    ai = [m.id for m in detail.conversation.messages if m.author_kind == AuthorKind.AI]
    return detail, logs.traced_messages(db, detail.row.id, ai, actor=actor)
