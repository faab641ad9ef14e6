"""The Sessions page's working area: the table, the chat of the selected session and its panel.

It is a fragment: selecting a row, Load More, the sort switch, "Show earlier", the panel toggle,
the divider between the table and the chat and the Logs drawer rerun only this area, not the
header, the sidebar or the Session Filters dialog. A change of filters or an import reruns the whole page, which gives this area its new
arguments. The chat's "View trace" listener is mounted here before any session is open
(``chat.trace_listener``).
"""

from __future__ import annotations

import streamlit as st
from sqlalchemy.orm import Session

from components import selection
from components.chat import message_window, render_conversation, trace_listener
from components.data import run_action
from components.divider import divider, table_width
from components.logs_view import show_logs_if_open
from components.panel import render_panel
from components.search_hits import highlight_for, hits_bar
from components.session_actions import render_actions
from components.session_list import sessions_table
from components.transcription_status import transcription_status
from sessionlens import logs, sessions
from sessionlens.filters import SessionFilter
from sessionlens.kinds import AuthorKind
from sessionlens.permissions import Actor
from sessionlens.sessions import SessionDetail


@st.fragment
def workspace(actor: Actor, tz: str, flt: SessionFilter, *, filtered: bool) -> None:
    panel_open = st.session_state.setdefault("panel_open", True)
    width = table_width()
    rest = 100 - width
    table_col, chat_col, panel_col = st.columns(
        [width, rest * (0.62 if panel_open else 0.9), rest * (0.38 if panel_open else 0.1)]
    )

    with table_col:
        sessions_table(actor, tz, flt, filtered=filtered)

    sid = selection.selected()
    with chat_col:
        divider()
        # Read here, so that a link to a session that is gone or not this tenant's says so
        # where its conversation would be, not under the table.
        opened = run_action(lambda db: _open(db, sid, actor)) if sid else None
        detail, traced = opened or (None, set())
        trace_listener(detail.row.id if detail else None, actor)
        if detail is None:
            st.subheader("Chat")
            st.info(
                "Select a session in the table to read its conversation.", icon=":material/forum:"
            )
        else:
            n = detail.row.message_count
            st.subheader(f"Chat · {n} message{'' if n == 1 else 's'}")
            light = highlight_for(detail.row.id, flt.text)
            bar = st.container()
            with st.container(height=620, border=False):
                render_conversation(
                    detail.conversation,
                    tz,
                    actor=actor,
                    session_id=detail.row.id,
                    traced=traced,
                    highlight=light,
                )
            if light is not None:
                with bar:
                    hits_bar(detail.row.id, light, earlier=detail.conversation.earlier)
            transcription_status(detail.row.id, detail.conversation.transcription, actor)
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


def _open(db: Session, sid: int, actor: Actor) -> tuple[SessionDetail, set[int]]:
    """The selected session as the detail area shows it, and which of its AI answers have a trace
    call ("View trace"): one transaction for the whole area, whatever a click changes."""
    detail = sessions.get_session(db, sid, actor=actor, last_messages=message_window(sid))
    ai = [m.id for m in detail.conversation.messages if m.author_kind == AuthorKind.AI]
    return detail, logs.traced_messages(db, detail.row.id, ai, actor=actor)
