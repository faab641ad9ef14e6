"""What sits under the chat: Logs, Hand over to the operator, and a voice session's recording (a
download and a player)."""

from __future__ import annotations

import datetime as dt
import html

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from components.data import run_action, run_read, run_step
from components.file_links import signed_url
from components.logs_view import open_logs
from components.session_list import refresh_lists
from sessionlens import handover, human_agents, logs
from sessionlens.chat import AttachmentInfo
from sessionlens.kinds import LogKind
from sessionlens.permissions import Actor
from sessionlens.sessions import SessionDetail


def render_actions(detail: SessionDetail, actor: Actor) -> None:
    row = st.container(horizontal=True)
    if row.button("Logs", icon=":material/receipt_long:", key="logs_open"):
        sid = detail.row.id
        kind = run_action(lambda db: logs.first_tab(db, sid, actor=actor))
        open_logs(sid, tab="Trace Logs" if kind == LogKind.TRACE else "System Logs")
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
            st.session_state["flash_note"] = _who_picks_up(actor)
            refresh_lists()  # the Responsible column changes
            st.rerun()
    rec = detail.conversation.recording
    if rec is not None:
        _recording(row, rec, actor)


def _who_picks_up(actor: Actor) -> tuple[bool, str]:
    """Under "Session set to operator": whether a human agent has the Human Agents workspace open
    to see the session arrive, and who (the spec's "nobody picks up a transferred session": make
    sure human agents are online there). (True, text) when someone is."""
    here = run_read(lambda db: human_agents.online(db, actor=actor, now=dt.datetime.now(dt.UTC)))
    names = [m.name for m in here or []]
    if not names:
        return False, (
            "No human agent has the Human Agents workspace open just now: the session waits in "
            "its queue until one opens it."
        )
    return True, f"In the Human Agents workspace now: {', '.join(names)}."


def _recording(row: DeltaGenerator, rec: AttachmentInfo, actor: Actor) -> None:
    """The "Download recording" link beside the other actions, and a player under them. Both
    stream the file from the server's recording route (web/media.py) when the user asks for it:
    nothing is read here, and a player that seeks reads only from where it jumps to."""
    parts = recording_html(rec, actor)
    if parts is not None:
        row.html(parts[0], width="content")
        st.html(parts[1])


def recording_line(rec: AttachmentInfo, actor: Actor) -> None:
    """The player and "Download recording" on one line, under a call's conversation in the
    360 View."""
    parts = recording_html(rec, actor)
    if parts is not None:
        st.html(f'<div class="sl-rec-line">{parts[1]}{parts[0]}</div>')


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
