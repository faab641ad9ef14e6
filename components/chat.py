"""The chat of one session: every message in order, each author kind visibly distinct.

Message text is untrusted Markdown: it is rendered by st.markdown, which never renders raw HTML.
"""

from __future__ import annotations

import html

import streamlit as st

from db.models import AuthorKind, SystemEvent
from sessionlens.sessions import MessageView, SessionDetail
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
.sl-marker::before, .sl-marker::after { content:"—"; margin:0 0.5rem; color:#d1d5db; }
[data-testid="stChatMessage"]:has(.sl-customer) { background:#1f2937; }
[data-testid="stChatMessage"]:has(.sl-customer) p { color:#f9fafb; }
[data-testid="stChatMessage"]:has(.sl-dashed) { border:1.5px dashed #9ca3af; }
</style>"""


def marker_text(m: MessageView, tz: str) -> str:
    """The centred grey line of a system marker, in the words of the spec."""
    d, at = m.event_data, local(m.sent_at, tz)
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


def render_chat(detail: SessionDetail) -> None:
    st.html(CSS)
    if not detail.messages:
        st.info("No messages in this session yet.", icon=":material/forum:")
    for m in detail.messages:
        if m.author_kind == AuthorKind.SYSTEM:
            st.html(f'<div class="sl-marker">{html.escape(marker_text(m, detail.timezone))}</div>')
            continue
        _message(m, detail.timezone)


def _message(m: MessageView, tz: str) -> None:
    name = {"customer": "user", "ai": "assistant"}.get(m.author_kind, m.author_kind)
    with st.chat_message(name, avatar=AVATARS.get(m.author_kind)):
        if m.author_kind == AuthorKind.CUSTOMER:
            st.html('<span class="sl-customer"></span>')
        if m.author_kind == AuthorKind.HUMAN:
            st.markdown(f"**{_md_escape(m.author_name or 'Human agent')}**")
        elif m.author_kind == AuthorKind.COPILOT_DRAFT:
            st.html('<span class="sl-dashed"></span>')
            st.caption(":orange-badge[Draft from Copilot]")
        elif m.author_kind == AuthorKind.PRIVATE_NOTE:
            st.html('<span class="sl-dashed"></span>')
            st.caption(":gray-badge[Private note]")
        if m.is_template:
            st.badge("WhatsApp template", icon=":material/verified:", color="green")
        st.markdown(m.text)
        if m.quick_replies:
            st.markdown(" ".join(f":blue-badge[{_md_escape(q)}]" for q in m.quick_replies))
        for a in m.attachments:
            st.caption(
                f":material/attach_file: {a.file_name} · {a.mime_type} · "
                f"{a.size_bytes / 1024:.1f} KB"
            )
        meta = local(m.sent_at, tz, "%Y-%m-%d %H:%M")
        if m.delivery_status:
            tip = f"{m.delivery_status.title()} at {utc(m.delivery_at)}"
            if m.delivery_note:
                tip += f" — {m.delivery_note}"
            st.caption(
                f"{meta} · {DELIVERY_ICONS.get(m.delivery_status, m.delivery_status)}", help=tip
            )
        else:
            st.caption(meta)
        if m.reaction:
            st.caption("Customer reaction: " + ("👍" if m.reaction == "up" else "👎"))


def _md_escape(text: str) -> str:
    return "".join("\\" + c if c in "\\`*_{}[]()#+-.!|<>~:$" else c for c in text)
