"""Sessions: the table, the chat of the selected session, and its parameters and results."""

import streamlit as st

from components import feedback, selection
from components.data import current_actor, run_action
from components.dialogs import close_dialog, open_dialog, open_one
from components.export_dialog import export_dialog
from components.filter_bar import (
    current_filter,
    filters_dialog,
    open_filters,
)
from components.header import sessions_header
from components.import_dialog import import_dialog
from components.live import sessions_watch
from components.logs_view import close_logs
from components.views_bar import open_view_from_url, views_sidebar
from components.workspace import workspace
from sessionlens import filter_query, identity
from sessionlens.permissions import Action, can

actor = current_actor()
tenant = run_action(lambda db: identity.tenant_info(db, actor=actor))
tz = tenant.timezone if tenant else "UTC"
if selection.sync_from_url("sessions"):
    # A dialog left open when the user went to another page does not follow them back.
    close_dialog()
    close_logs()
# The table is what a lead waits for: it is sent first, and the header above it and the saved
# views beside it are drawn into their places afterwards (bench/browser.py, first rows).
head = st.container()
views = st.sidebar.container()

open_view_from_url(actor)
fields = tenant.result_fields if tenant else {}
flt = current_filter(actor, tz, fields)
active = filter_query.active_labels(flt)
workspace(actor, tz, flt, filtered=bool(active))

with head:
    if flash := st.session_state.pop("flash", None):
        feedback.success(flash)
    if note := st.session_state.pop("flash_note", None):  # who will see a handed-over session
        someone, text = note
        (feedback.info if someone else feedback.warning)(text)
    asked = sessions_header(
        f"Sessions · {tenant.name}" if tenant else "Sessions",
        active,
        can_import=can(actor, Action.IMPORT),
        can_export=can(actor, Action.EXPORT),
    )
if asked == "search":
    open_filters()
elif asked is not None:
    open_dialog(asked)
match open_one():  # drawn on every run while open (components/dialogs.py)
    case "import":
        import_dialog(actor, tz)
    case "export":
        export_dialog(actor, tz, flt)
    case "search":
        filters_dialog(actor, tz, flt, fields)
with views:
    views_sidebar(actor)
sessions_watch(actor)
selection.remember_url("sessions")
