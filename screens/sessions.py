"""Sessions: the table, the chat of the selected session, and its parameters and results."""

import streamlit as st

from components import feedback, selection
from components.chat import message_window, render_conversation
from components.data import current_actor, run_action
from components.filter_bar import current_filter, filter_sidebar
from components.header import sessions_header
from components.import_dialog import import_dialog
from components.logs_view import show_logs_if_open, traced_messages
from components.panel import render_panel
from components.session_actions import render_actions
from components.session_list import sessions_table
from components.transcription_status import transcription_status
from components.views_bar import open_view_from_url, views_sidebar
from sessionlens import filter_query, identity, sessions
from sessionlens.permissions import Action, can

actor = current_actor()
tenant = run_action(lambda db: identity.tenant_info(db, actor=actor))
tz = tenant.timezone if tenant else "UTC"
selection.sync_from_url("sessions")
if flash := st.session_state.pop("flash", None):
    feedback.success(flash)

open_view_from_url(actor)
flt = current_filter(tz)
active = filter_query.active_labels(flt)
filter_sidebar(actor, tz, flt)
views_sidebar(actor)
if sessions_header(
    f"Sessions · {tenant.name}" if tenant else "Sessions",
    active,
    can_import=can(actor, Action.IMPORT),
):
    import_dialog(actor, tz)

with st.sidebar:
    width = st.slider(
        "Table width (%)",
        30,
        75,
        60,
        step=5,
        key="table_width",
        persist_state="session",
        help="Give the table or the chat more room.",
    )
panel_open = st.session_state.setdefault("panel_open", True)
rest = 100 - width
table_col, chat_col, panel_col = st.columns(
    [width, rest * (0.62 if panel_open else 0.9), rest * (0.38 if panel_open else 0.1)]
)

with table_col:
    sessions_table(actor, tz, flt, filtered=bool(active))

sid = selection.selected()
detail = (
    run_action(
        lambda db: sessions.get_session(db, sid, actor=actor, last_messages=message_window(sid))
    )
    if sid
    else None
)
with chat_col:
    if detail is None:
        st.subheader("Chat")
        st.info("Select a session in the table to read its conversation.", icon=":material/forum:")
    else:
        n = detail.row.message_count
        st.subheader(f"Chat · {n} message{'' if n == 1 else 's'}")
        with st.container(height=620, border=False):
            render_conversation(
                detail.conversation,
                tz,
                actor=actor,
                session_id=detail.row.id,
                traced=traced_messages(detail, actor),
            )
        transcription_status(detail.row.id, actor)
        render_actions(detail, actor)
        show_logs_if_open(detail, actor)

with panel_col:
    label = "▸ Parameters & results" if panel_open else "◂"
    st.button(
        label,
        key="panel_toggle",
        help="Collapse or expand the panel",
        use_container_width=True,
        on_click=lambda: st.session_state.update(panel_open=not panel_open),
    )
    if panel_open and detail is not None:
        render_panel(detail)
        st.button("Refresh", icon=":material/refresh:", key="refresh_panel")  # a click rereads

selection.remember_url("sessions")
