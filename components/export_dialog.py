"""Export sessions (the header's button): an agent's sessions, or what the filters show, as JSON,
JSONL or CSV.

The file is streamed by an HTTP route of the same server (``/export/sessions``), read from the
database while the browser downloads it. The page hands that route a ticket, signed and valid for
ten minutes, naming the user and the selection; the route checks the user again.
"""

from __future__ import annotations

import datetime as dt
import html

import streamlit as st

from components.data import run_action
from components.dialogs import close_dialog
from components.feedback import guarded
from components.theme import ACCENT
from sessionlens import auth, filter_options, filter_query
from sessionlens.filters import SessionFilter
from sessionlens.permissions import Actor

FORMATS = {
    "json": "JSON (the session-v1 format)",
    "jsonl": "JSONL (one session per line)",
    "csv": "CSV (one row per message)",
}


@st.dialog("Export sessions", on_dismiss=close_dialog)
@guarded
def export_dialog(actor: Actor, tz: str, flt: SessionFilter) -> None:
    active = filter_query.active_labels(flt)
    agents = run_action(lambda db: filter_options.agents(db, actor=actor)) or []
    by_id = {a.id: a.label for a in agents}
    scope = st.radio(
        "Sessions",
        ["agent", "filters"],
        format_func=lambda s: (
            "Of one AI agent"
            if s == "agent"
            else f"What the table shows ({', '.join(active) if active else 'no filters: all sessions'})"
        ),
        key="export_scope",
    )
    what: dict[str, object]
    if scope == "agent":
        if not by_id:
            st.info("There are no AI agents yet.")
            return
        agent = st.selectbox(
            "AI agent", list(by_id), format_func=by_id.__getitem__, key="export_agent"
        )
        what = {"agent_id": int(agent), "label": by_id[agent]}
    else:
        what = {
            "query": filter_query.encode(flt, tz),
            "tz": tz,
            "label": "filtered" if active else "all sessions",
        }
    fmt = st.radio("Format", list(FORMATS), format_func=FORMATS.__getitem__, key="export_format")
    what["format"] = fmt
    ticket = run_action(
        lambda db: auth.issue_ticket(
            actor,
            db,
            secret=auth.app_secret(),
            now=dt.datetime.now(dt.UTC),
            what=what,
        )
    )
    if ticket is None:
        return
    href = html.escape(f"/export/sessions?ticket={ticket}")
    st.html(
        f'<a class="sl-export" href="{href}" download target="_self">Download</a>'
        "<style>.sl-export{display:inline-block;padding:0.45rem 1rem;border-radius:0.5rem;"
        f"background:{ACCENT};color:white!important;text-decoration:none;font-weight:600}}</style>"
    )
    st.caption(
        "The file is read from the database while it downloads; large exports take a while. "
        "The link works for ten minutes."
    )
