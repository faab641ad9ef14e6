"""Sessions: the table, the chat of the selected session, and its parameters and results."""

import streamlit as st

from components.chat import render_chat
from components.data import current_actor, run_action
from components.grid import sessions_grid
from components.panel import render_panel
from components.session_actions import render_actions
from components.session_list import load_more, loaded_list, reset_lists
from sessionlens import identity, sessions
from sessionlens.sessions import SortKey

SORT_LABELS = {SortKey.STARTED: "Start", SortKey.LAST_MESSAGE: "Last message"}

actor = current_actor()
tenant = run_action(lambda db: identity.tenant_info(db, actor=actor))
entering = st.session_state.get("page") != "sessions"
st.session_state["page"] = "sessions"
if entering:  # deep link or return from another page: the URL says what is open
    raw = st.query_params.get("session")
    st.session_state["selected"] = int(raw) if raw and raw.isdigit() else None
    if raw and not raw.isdigit():
        st.error(f"The link's session id {raw!r} is not a number.")
    st.session_state["grid_initial"] = [raw] if raw and raw.isdigit() else []
if flash := st.session_state.pop("flash", None):
    st.success(flash, icon=":material/check_circle:")

title, search, imp, exp = st.columns([6, 1, 1.3, 1.3], vertical_alignment="bottom")
title.header(f"Sessions · {tenant.name}" if tenant else "Sessions")
for col, label, icon in (
    (search, "Search", ":material/search:"),
    (imp, "Import session", ":material/upload_file:"),
    (exp, "Export sessions", ":material/download:"),
):
    col.button(label, icon=icon, disabled=True, help="Not available in this version yet")

with st.sidebar:
    width = st.slider(
        "Table width (%)",
        30,
        75,
        60,
        step=5,
        key="table_width",
        persist_state="session",
        help="Drag to give the table or the chat more room.",
    )
panel_open = st.session_state.setdefault("panel_open", True)
rest = 100 - width
table_col, chat_col, panel_col = st.columns(
    [width, rest * (0.62 if panel_open else 0.9), rest * (0.38 if panel_open else 0.1)]
)

with table_col:
    sort = SortKey(
        st.query_params.get("sort", SortKey.STARTED.value)
        if st.query_params.get("sort") in {s.value for s in SortKey}
        else "started"
    )
    bar, refresh = st.columns([4, 1], vertical_alignment="bottom")
    picked = bar.segmented_control(
        "Sort by",
        list(SORT_LABELS),
        default=sort,
        key="sort_pick",
        format_func=SORT_LABELS.get,
        selection_mode="single",
    )
    if picked and picked != sort:
        st.query_params["sort"] = picked.value
        st.rerun()
    if refresh.button("", icon=":material/refresh:", help="Reload the newest sessions"):
        reset_lists()
    listing = loaded_list(sort, actor)
    clicked = sessions_grid(
        listing.rows,
        tenant.timezone if tenant else "UTC",
        sort_key=sort,
        initial_selection=st.session_state.get("grid_initial", []),
    )
    if clicked and clicked != str(st.session_state.get("selected")):
        st.session_state["selected"] = int(clicked)
        st.query_params["session"] = clicked
        st.rerun()
    if st.button(
        "Load More",
        disabled=listing.cursor is None,
        use_container_width=True,
        help=None if listing.cursor else "All sessions are loaded",
    ):
        load_more(listing, sort, actor)
        st.rerun()
    st.caption(f"{len(listing.rows)} sessions loaded")

selected = st.session_state.get("selected")
detail = (
    run_action(lambda db: sessions.get_session(db, selected, actor=actor)) if selected else None
)
with chat_col:
    if detail is None:
        st.subheader("Chat")
        st.info("Select a session in the table to read its conversation.", icon=":material/forum:")
    else:
        st.subheader(f"Chat · {detail.row.message_count} messages")
        with st.container(height=620, border=False):
            render_chat(detail)
        render_actions(detail, actor)
with panel_col:
    arrow = "▸" if panel_open else "◂"
    if st.button(
        f"{arrow} Parameters & results" if panel_open else arrow,
        key="panel_toggle",
        help="Collapse or expand the panel",
        use_container_width=True,
    ):
        st.session_state["panel_open"] = not panel_open
        st.rerun()
    if panel_open and detail is not None:
        render_panel(detail)
        if st.button("Refresh", icon=":material/refresh:", key="refresh_panel"):
            st.rerun()
