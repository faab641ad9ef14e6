"""The conversation of a session, rendered the same way wherever a chat is shown.

Message text is untrusted Markdown. It goes through the one renderer, ``markdown.message_html``
(raw HTML shown as text, only http(s)/mailto/tel links, no remote images); our own HTML (markers,
labels) is built from escaped text only, and names and captions are escaped with ``md_escape``.
An attachment shows inline only when its bytes decode as an image; anything else is a file card.
"""

from __future__ import annotations

import html

import streamlit as st

from components.clipboard import copy_button
from components.data import run_action
from components.logs_view import open_logs
from components.markdown import md_escape, message_html
from sessionlens import chat, logs, media
from sessionlens.chat import AttachmentInfo, Conversation, MessageView
from sessionlens.kinds import AuthorKind, SystemEvent
from sessionlens.permissions import Actor
from sessionlens.settings import get_settings
from sessionlens.timefmt import local, utc

AVATARS = {
    AuthorKind.CUSTOMER: "👤",
    AuthorKind.AI: ":material/smart_toy:",
    AuthorKind.HUMAN: ":material/support_agent:",
    AuthorKind.COPILOT_DRAFT: ":material/edit_note:",
    AuthorKind.PRIVATE_NOTE: ":material/lock:",
}
DELIVERY_ICONS = {"sent": "✓", "delivered": "✓✓", "read": "✓✓ read", "failed": "⚠️ failed"}
CSS = """<style>
.sl-marker { text-align:center; color:#6b7280; font-size:0.85rem; margin:0.4rem 0; }
.sl-header { text-align:center; font-weight:600; margin:1rem 0 0.2rem; }
[data-testid="stChatMessage"]:has(.sl-customer) { background:#1f2937; flex-direction:row-reverse;
  margin-left:12%; text-align:right; }
[data-testid="stChatMessage"]:has(.sl-customer) p,
[data-testid="stChatMessage"]:has(.sl-customer) li,
[data-testid="stChatMessage"]:has(.sl-customer) [data-testid="stCaptionContainer"] { color:#f9fafb; }
[data-testid="stChatMessage"]:has(.sl-customer) button p { color:#111827; }
[data-testid="stChatMessage"]:has(.sl-ai) { background:#f8fafc; margin-right:12%; }
[data-testid="stChatMessage"]:has(.sl-dashed) { border:1.5px dashed #9ca3af; background:#fffbeb; }
.sl-label { font-size:0.8rem; font-weight:600; color:#92400e; }
.sl-md p:last-child { margin-bottom:0; }
.sl-md pre { white-space:pre-wrap; overflow-wrap:anywhere; }
.sl-md { overflow-wrap:anywhere; }
.sl-copy { margin-left:0.5rem; font-size:0.75rem; border:1px solid #d1d5db; border-radius:6px;
  background:white; cursor:pointer; padding:0 6px; }
</style>"""


def window_key(session_id: int) -> str:
    return f"chat_window_{session_id}"


def message_window(session_id: int) -> int:
    """How many of the newest messages to load for this session (grows with "Show earlier")."""
    return st.session_state.get(window_key(session_id), chat.WINDOW)


def marker_text(m: MessageView, tz: str) -> str:
    """The centred grey line of a system marker, in the words of the spec."""
    d, at = m.event_data, local(m.sent_at, tz)
    if d.get("inaudible"):
        return m.text
    if m.system_event == SystemEvent.STARTED:
        return f"{d.get('initiator', 'Client')} started the session at {at}"
    if m.system_event == SystemEvent.TRANSFER:
        return f"Transfer to human agent at {at}"
    if m.system_event == SystemEvent.ASSIGNED:
        if d.get("by"):
            return f"{d.get('name')} was assigned by {d['by']} at {at}"
        return f"Human agent {d.get('name')} assigned at {at}"
    if m.system_event == SystemEvent.RESOLVED:
        return f"The session was resolved by {d.get('name')} at {at}"
    return f"{m.text or m.system_event} at {at}"


def render_conversation(
    conv: Conversation, tz: str, *, actor: Actor, session_id: int, traced: set[int] | None = None
) -> None:
    """Render ``conv``; AI messages in ``traced`` get a link to the trace call behind them."""
    st.html(CSS)
    if conv.earlier:
        st.button(
            f"Show {min(conv.earlier, chat.WINDOW)} earlier messages ({conv.earlier} not shown)",
            key=f"earlier_{session_id}",
            icon=":material/expand_less:",
            on_click=_show_earlier,
            args=(session_id,),
        )
    if not conv.messages and not conv.transcribing:
        st.info("No messages in this session yet.", icon=":material/forum:")
    wanted = [a.id for m in conv.messages for a in m.attachments]
    files = (
        (run_action(lambda db: chat.attachment_files(db, wanted, actor=actor)) or {})
        if wanted
        else {}
    )
    for m in conv.messages:
        if m.author_kind == AuthorKind.SYSTEM:
            st.html(f'<div class="sl-marker">{html.escape(marker_text(m, tz))}</div>')
        else:
            _message(m, tz, actor, session_id, traced or set(), files)
    if conv.transcribing:
        st.info(
            "The transcript of this call is still being produced. Refresh in a moment.",
            icon=":material/hourglass_top:",
        )


def _show_earlier(session_id: int) -> None:
    st.session_state[window_key(session_id)] = message_window(session_id) + chat.WINDOW


def _message(
    m: MessageView,
    tz: str,
    actor: Actor,
    session_id: int,
    traced: set[int],
    files: dict[int, tuple[str, str, bytes]],
) -> None:
    name = {"customer": "user", "ai": "assistant"}.get(m.author_kind, m.author_kind)
    with st.chat_message(name, avatar=AVATARS.get(m.author_kind)):
        if m.author_kind == AuthorKind.CUSTOMER:
            st.html('<span class="sl-customer"></span>')
        elif m.author_kind == AuthorKind.AI:
            st.html('<span class="sl-ai"></span>')
        elif m.author_kind == AuthorKind.HUMAN:
            st.markdown(f"**{md_escape(m.author_name or 'Human agent')}**")
        elif m.author_kind == AuthorKind.COPILOT_DRAFT:
            copy_button(
                "Copy",
                m.text,
                title="Copy the draft",
                before='<span class="sl-dashed"></span>'
                '<span class="sl-label">Draft from Copilot</span>',
            )
        elif m.author_kind == AuthorKind.PRIVATE_NOTE:
            st.html('<span class="sl-dashed"></span><span class="sl-label">Private note</span>')
        if m.is_template:
            st.badge("WhatsApp template", icon=":material/verified:", color="green")
        _text(m, actor)
        if m.quick_replies:
            st.markdown(" ".join(f":blue-badge[{md_escape(q)}]" for q in m.quick_replies))
        for a in m.attachments:
            _attachment(a, files.get(a.id))
        _meta(m, tz)
        if m.id in traced and st.button(
            "View trace",
            key=f"trace_{m.id}",
            type="tertiary",
            icon=":material/account_tree:",
            help="Open the LLM call that produced this answer",
        ):
            entry = run_action(lambda db: logs.trace_for_message(db, m.id, actor=actor))
            open_logs(session_id, tab="Trace Logs", focus=entry)  # the drawer opens in this run


def _text(m: MessageView, actor: Actor) -> None:
    """The message body; a long one is cut at chat.TEXT_PREVIEW characters with "Show all"."""
    key = f"full_{m.id}"
    text, cut = m.text, m.text_length > len(m.text)
    if cut and st.session_state.get(key):
        full = run_action(lambda db: chat.full_text(db, m.id, actor=actor))
        text, cut = (full, False) if full is not None else (text, True)
    if text:
        st.markdown(
            message_html(text, image_hosts=get_settings().image_host_set), unsafe_allow_html=True
        )
    if cut:
        st.caption(f"Showing the first {len(m.text):,} of {m.text_length:,} characters.")
        st.button(
            "Show all",
            key=f"show_all_{m.id}",
            icon=":material/unfold_more:",
            on_click=st.session_state.__setitem__,
            args=(key, True),
        )


def _meta(m: MessageView, tz: str) -> None:
    meta = local(m.sent_at, tz)
    if m.event_data.get("speaker") == "unknown":
        meta += " · speaker unknown (mono recording)"
    if m.delivery_status:
        tip = f"{m.delivery_status.title()} at {utc(m.delivery_at)}"
        if m.delivery_note:
            tip += f" — {m.delivery_note}"
        icon = DELIVERY_ICONS.get(m.delivery_status, m.delivery_status)
        st.caption(f"{meta} · {icon}", help=md_escape(tip))
    else:
        st.caption(meta)
    if m.reaction:
        st.caption("Customer reaction: " + ("👍" if m.reaction == "up" else "👎"))


def _attachment(a: AttachmentInfo, content: tuple[str, str, bytes] | None) -> None:
    if content is None:
        return
    name, mime, data = content
    if media.previewable_image(mime, data):
        # Streamlit's image toolbar opens it full size.
        st.image(data, caption=md_escape(name), width=260)
        return
    with st.container(border=True):
        st.markdown(f":material/description: **{md_escape(name)}**")
        st.caption(md_escape(f"{mime} · {_size(a.size_bytes)}"))
        st.download_button(
            "Download",
            data,
            file_name=name,
            mime=mime,
            on_click="ignore",
            key=f"file_{a.id}",
            icon=":material/download:",
        )


def _size(n: int) -> str:
    return (
        f"{n} B" if n < 1024 else f"{n / 1024:.1f} KB" if n < 1024**2 else f"{n / 1024**2:.1f} MB"
    )
