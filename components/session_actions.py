"""What sits under the chat: Logs, Hand over to the operator, and the recording download."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from components.data import read_session, run_action, run_step
from components.logs_view import open_logs
from components.session_list import refresh_lists
from sessionlens import auth, chat, handover
from sessionlens.chat import AttachmentInfo
from sessionlens.kinds import Plan
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
        if run_step(
            lambda db: handover.hand_over(
                db, actor=actor, session_id=detail.row.id, now=dt.datetime.now(dt.UTC)
            )
        ):
            st.session_state["flash"] = "Session set to operator"
            refresh_lists()  # the Responsible column changes
            st.rerun()
    rec = detail.conversation.recording
    if rec is not None:
        # Read only when asked: a recording can be hundreds of megabytes, and this part of the
        # page reruns on every click.
        row.download_button(
            "Download recording",
            lambda: _recording(rec.id, actor),
            file_name=rec.file_name,
            mime=rec.mime_type,
            icon=":material/download:",
            on_click="ignore",
            key="download_recording",
        )
        _player(rec, actor)


def _recording(attachment_id: int, actor: Actor) -> bytes:
    """The recording's bytes, read with the viewer's rights (the download runs outside the
    script, so it opens its own read session)."""
    with read_session() as db:
        auth.require_active(db, actor)  # deactivated since the page ran: nothing
        return chat.attachment_content(db, attachment_id, actor=actor)[2]


def _player(rec: AttachmentInfo, actor: Actor) -> None:
    """A player, loaded on the first Play and kept for this browser session while it shows the
    same recording."""
    held = st.session_state.get("player")
    if held and held[0] == rec.id:
        st.audio(held[1], format=rec.mime_type)
        return
    if st.button("Play recording", icon=":material/play_arrow:", key=f"play_{rec.id}"):
        content = run_action(lambda db: chat.attachment_content(db, rec.id, actor=actor))
        if content is not None:
            st.session_state["player"] = (rec.id, content[2])
            st.audio(content[2], format=rec.mime_type)
