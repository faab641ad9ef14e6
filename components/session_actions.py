"""What sits under the chat: Logs, Hand over to the operator, and the recording download."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from components.data import run_action
from components.logs_view import open_logs
from components.session_list import reload_lists
from db.models import Plan
from sessionlens import chat, handover
from sessionlens.permissions import Actor
from sessionlens.sessions import SessionDetail


def render_actions(detail: SessionDetail, actor: Actor) -> None:
    row = st.container(horizontal=True)
    if row.button("Logs", icon=":material/receipt_long:", key="logs_open"):
        open_logs(detail.row.id, tab="Trace Logs" if detail.plan == Plan.PAID else "System Logs")
    reason = handover.blocked_reason(detail.row, actor)
    if row.button(
        "Hand over to the operator",
        key="hand_over",
        disabled=reason is not None,
        help=reason,
        icon=":material/support_agent:",
    ):
        done = run_action(
            lambda db: (
                handover.hand_over(
                    db, actor=actor, session_id=detail.row.id, now=dt.datetime.now(dt.UTC)
                )
                or True
            )
        )
        if done:
            st.session_state["flash"] = "Session set to operator"
            reload_lists()  # the Responsible column changes
            st.rerun()
    rec = detail.conversation.recording
    if rec is not None:
        data = run_action(lambda db: chat.attachment_content(db, rec.id, actor=actor))
        if data:
            row.download_button(
                "Download recording",
                data[2],
                file_name=data[0],
                mime=data[1],
                icon=":material/download:",
                on_click="ignore",
                key="download_recording",
            )
            st.audio(data[2], format=data[1])
