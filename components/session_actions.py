"""What sits under the chat: Logs, Hand over to the operator, and a voice session's recording (a
download and a player)."""

from __future__ import annotations

import datetime as dt
import html

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from components.data import run_step
from components.file_links import signed_url
from components.logs_view import open_logs
from components.session_list import refresh_lists
from sessionlens import handover
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
        _recording(row, rec, actor)


#: The link's look: Streamlit's secondary button, with a download arrow drawn in CSS (st.html
#: keeps no inline SVG). Colours from the text's own, so a dark theme reads as well.
_CSS = (
    "<style>"
    ".sl-rec-dl{display:inline-flex;align-items:center;gap:0.4rem;min-height:2.5rem;"
    "padding:0.25rem 0.75rem;border:1px solid rgba(128,128,128,0.35);border-radius:0.5rem;"
    "color:inherit!important;text-decoration:none!important;white-space:nowrap}"
    ".sl-rec-dl:hover{border-color:#ff4b4b;color:#ff4b4b!important}"
    ".sl-rec-dl:focus-visible{outline:2px solid #ff4b4b;outline-offset:2px}"
    ".sl-rec-dl::before{content:'';width:1.1rem;height:1.1rem;background:currentColor;"
    "-webkit-mask:var(--sl-dl) center/contain no-repeat;mask:var(--sl-dl) center/contain no-repeat}"
    ".sl-rec{--sl-dl:url(\"data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' "
    "viewBox='0 0 24 24'%3E%3Cpath d='M5 20h14v-2H5v2zm14-11h-4V3H9v6H5l7 7 7-7z'/%3E%3C/svg%3E\")}"
    ".sl-rec audio{width:100%;max-width:32rem;height:2.5rem;margin-top:0.25rem}"
    ".sl-rec-line{display:flex;flex-wrap:wrap;align-items:center;gap:0.75rem}"
    ".sl-rec-line .sl-rec:first-child{flex:1 1 16rem;max-width:32rem}"
    ".sl-rec-line audio{margin-top:0}"
    "</style>"
)


def _recording(row: DeltaGenerator, rec: AttachmentInfo, actor: Actor) -> None:
    """The "Download recording" link beside the other actions, and a player under them. Both
    stream the file from the server's recording route (web/media.py) when the user asks for it:
    nothing is read here, and a player that seeks reads only from where it jumps to."""
    parts = recording_html(rec, actor)
    if parts is not None:
        row.html(_CSS + parts[0], width="content")
        st.html(parts[1])


def recording_line(rec: AttachmentInfo, actor: Actor) -> None:
    """The player and "Download recording" on one line, under a call's conversation in the
    360 View."""
    parts = recording_html(rec, actor)
    if parts is not None:
        st.html(_CSS + f'<div class="sl-rec-line">{parts[1]}{parts[0]}</div>')


def recording_html(rec: AttachmentInfo, actor: Actor) -> tuple[str, str] | None:
    """The download link and the player of a recording, as HTML (every value escaped)."""
    url = signed_url("recording", rec.id, actor)
    if url is None:
        return None
    href = html.escape(url)
    name = html.escape(rec.file_name)
    link = (
        f'<div class="sl-rec"><a class="sl-rec-dl" href="{href}&amp;download=1" download="{name}"'
        ' target="_self" data-testid="sl-recording-download">Download recording</a></div>'
    )
    player = (
        f'<div class="sl-rec"><audio controls preload="none" src="{href}" title="{name}"'
        f' aria-label="Recording of the call: {name}" data-testid="sl-recording-player"></audio>'
        "</div>"
    )
    return link, player
