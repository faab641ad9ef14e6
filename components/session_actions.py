"""What sits under the chat: Logs, Hand over to the operator, and the recording download."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from components.data import run_action
from db.models import LogKind, Plan
from sessionlens import chat, handover, logs
from sessionlens.permissions import Actor
from sessionlens.sessions import SessionDetail
from sessionlens.timefmt import local


def render_actions(detail: SessionDetail, actor: Actor) -> None:
    row = st.container(horizontal=True)
    with row.popover("Logs", icon=":material/receipt_long:"):
        _logs(detail, actor)
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


def _logs(detail: SessionDetail, actor: Actor) -> None:
    # A plain listing; the full Logs drawer (search, copy, structured traces) is its own feature.
    tabs = ["System Logs"] if detail.plan == Plan.FREE else ["Trace Logs", "System Logs"]
    for tab, name in zip(st.tabs(tabs), tabs, strict=True):
        kind = LogKind.TRACE if name == "Trace Logs" else LogKind.SYSTEM
        entries = run_action(lambda db, k=kind: logs.list_logs(db, detail.row.id, k, actor=actor))
        lines = [
            f"{local(e.at, detail.timezone, '%Y-%m-%d %H:%M:%S')} {e.level} {e.text}"
            if kind == LogKind.SYSTEM
            else f"#######\nAgent: {e.agent_name}\nAction: {e.action}\nAction Input: {e.action_input}"
            for e in entries or []
        ]
        with tab:
            if lines:
                st.code("\n".join(lines), language="log")
            else:
                st.caption("No logs found")
