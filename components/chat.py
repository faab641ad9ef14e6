"""The conversation of a session, rendered the same way wherever a chat is shown.

Message text is untrusted Markdown. It goes through the one renderer, ``markdown.message_html``
(raw HTML shown as text, only http(s)/mailto/tel links, no remote images); our own HTML (markers,
labels) is built from escaped text only, and names and captions are escaped with ``md_escape``.
An attachment shows inline only when its bytes decode as an image; anything else is a file card.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable

import streamlit as st

from components import feedback
from components.clipboard import copy_button
from components.data import run_action
from components.element_js import REWIRE_JS
from components.file_links import FILE_CSS, signed_url
from components.logs_view import open_logs
from components.markdown import Highlight, message_html
from components.theme import ACCENT
from sessionlens import chat, logs, media, strict
from sessionlens.chat import AttachmentInfo, Conversation, MessageView
from sessionlens.errors import BadInput
from sessionlens.kinds import AuthorKind
from sessionlens.permissions import Actor
from sessionlens.settings import get_settings
from sessionlens.timefmt import local, utc
from sessionlens.wording import counted

# Who wrote a message, drawn by CSS (``AVATAR_CSS``) in the circle beside it: small SVG pictures,
# not emoji, which look different on every system; each is named for screen readers and on
# hover. The pictures are 4 KB of CSS: the frame sends them once per page (``PAGE_CSS``), not
# every click; their rules name both classes, so the chat's own CSS (sent later) cannot undo them.
AVATARS: dict[str, str] = {  # an author kind (its value) and its name
    AuthorKind.CUSTOMER: "Customer",
    AuthorKind.AI: "AI agent",
    AuthorKind.HUMAN: "Human agent",
    AuthorKind.COPILOT_DRAFT: "Copilot draft",
    AuthorKind.PRIVATE_NOTE: "Private note",
}
_INK = "%23475569"  # slate, URL-encoded for a data: URI
_PICTURES: dict[str, str] = {
    # head and shoulders
    AuthorKind.CUSTOMER: f"<circle cx='12' cy='8' r='4' fill='{_INK}'/>"
    f"<path d='M4 21c0-4.4 3.6-7 8-7s8 2.6 8 7z' fill='{_INK}'/>",
    # a robot's head: antenna, face, two eyes
    AuthorKind.AI: f"<rect x='11' y='2' width='2' height='4' fill='{_INK}'/>"
    f"<rect x='4' y='6' width='16' height='13' rx='3' fill='{_INK}'/>"
    "<circle cx='9' cy='12' r='1.8' fill='white'/><circle cx='15' cy='12' r='1.8' fill='white'/>",
    # head and shoulders with a headset
    AuthorKind.HUMAN: f"<circle cx='12' cy='9' r='3.6' fill='{_INK}'/>"
    f"<path d='M5 21c0-4 3.1-6.4 7-6.4s7 2.4 7 6.4z' fill='{_INK}'/>"
    f"<path d='M6.5 10a5.5 5.5 0 0 1 11 0' stroke='{_INK}' stroke-width='1.6' fill='none'/>"
    f"<rect x='5' y='9' width='2.4' height='4' rx='1' fill='{_INK}'/>"
    f"<rect x='16.6' y='9' width='2.4' height='4' rx='1' fill='{_INK}'/>",
    # a pencil
    AuthorKind.COPILOT_DRAFT: f"<path d='M4 17.5V20h2.5L17 9.5 14.5 7z' fill='{_INK}'/>"
    f"<path d='M15.5 6l2.5 2.5 1.5-1.5a1 1 0 0 0 0-1.4l-1.1-1.1a1 1 0 0 0-1.4 0z' fill='{_INK}'/>",
    # a padlock
    AuthorKind.PRIVATE_NOTE: f"<rect x='5' y='10' width='14' height='10' rx='2' fill='{_INK}'/>"
    f"<path d='M8 10V7.5a4 4 0 0 1 8 0V10' stroke='{_INK}' stroke-width='2' fill='none'/>",
    # a speech bubble, for any other author
    "other": f"<path d='M4 5h16v11H9l-5 4z' fill='{_INK}'/>",
}


def _data_uri(svg: str) -> str:
    # Angle brackets encoded too: the sanitizer of st.html drops a <style> whose text looks
    # like markup.
    whole = f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 24 24'>{svg}</svg>"
    return "data:image/svg+xml," + whole.replace("<", "%3C").replace(">", "%3E")


AVATAR_CSS = "".join(
    f'.sl-avatar.sl-av-{name} {{ background-image:url("{_data_uri(svg)}"); }}\n'
    for name, svg in _PICTURES.items()
)
DELIVERY_ICONS = {
    "queued": "🕓 queued",
    "sent": "✓",
    "delivered": "✓✓",
    "read": "✓✓ read",
    "failed": "⚠️ failed",
}
# Customers on the right in dark bubbles, the AI and people of the tenant on the left; drafts and
# private notes dashed (they never reach the customer). Widgets that belong to a message (files,
# "Show all", "View trace") sit in a container keyed ``sl-under-<side>-<id>`` under its bubble,
# indented by padding: Streamlit makes the container as wide as the chat, so margins would push
# it past the chat's right edge (a customer's file card was cut off there).
CHAT_CSS = """
.sl-chat { display:flex; flex-direction:column; gap:0.55rem; }
.sl-msg { display:flex; gap:0.5rem; align-items:flex-start; margin-right:12%; }
.sl-msg.sl-customer { flex-direction:row-reverse; margin-right:0; margin-left:12%; }
.sl-avatar { flex:0 0 2rem; height:2rem; border-radius:50%; background-color:#eef2f7;
  background-repeat:no-repeat; background-position:center; background-size:1.25rem; }
.sl-bubble { background:#f8fafc; border:1px solid #e5e7eb; border-radius:0.75rem;
  padding:0.5rem 0.75rem; min-width:0; overflow-wrap:anywhere; }
.sl-customer .sl-bubble { background:#1f2937; color:#f9fafb; border-color:#1f2937; }
.sl-customer .sl-bubble a { color:#93c5fd; }
.sl-customer .sl-meta { color:#d1d5db; text-align:right; }
.sl-human .sl-bubble { background:#eff6ff; border-color:#bfdbfe; }
.sl-bubble.sl-dashed { border:1.5px dashed #9ca3af; background:#fffbeb; }
.sl-marker { text-align:center; color:#6b7280; font-size:0.85rem; margin:0.2rem 0; }
.sl-header { text-align:center; font-weight:600; margin:1rem 0 0.2rem; }
.sl-label { font-size:0.8rem; font-weight:600; color:#92400e; display:block; }
.sl-author { font-size:0.9rem; margin-bottom:0.15rem; }
.sl-badge { display:inline-block; font-size:0.75rem; color:#166534; background:#dcfce7;
  border-radius:0.5rem; padding:0 0.45rem; margin-bottom:0.25rem; }
.sl-chip { display:inline-block; font-size:0.8rem; color:#1d4ed8; background:#dbeafe;
  border-radius:0.5rem; padding:0 0.45rem; margin:0.25rem 0.25rem 0 0; }
.sl-meta { font-size:0.75rem; color:#4b5563; margin-top:0.25rem; }
.sl-tip { position:relative; cursor:help; border-bottom:1px dotted currentColor; }
.sl-tiptext { display:none; position:absolute; left:0; bottom:1.4em; z-index:10; width:max-content;
  max-width:22rem; background:#111827; color:#f9fafb; padding:0.3rem 0.5rem; border-radius:0.4rem;
  font-size:0.75rem; white-space:normal; }
.sl-tip:hover .sl-tiptext, .sl-tip:focus .sl-tiptext { display:block; }
.sl-md p { margin:0 0 0.4rem; } .sl-md p:last-child { margin-bottom:0; }
.sl-md pre { white-space:pre-wrap; overflow-wrap:anywhere; }
.sl-md { overflow-wrap:anywhere; }
.sl-md mark.sl-hit { background:#fde68a; color:#111827; padding:0 1px; border-radius:2px; }
.sl-md mark.sl-hit.sl-now { background:#f97316; color:white; }
.sl-trace { margin-left:0.5rem; font-size:0.75rem; border:none; background:none; padding:0;
  color:#1d4ed8; cursor:pointer; text-decoration:underline dotted; }
.sl-copy { margin-left:0.5rem; font-family:inherit; font-size:0.75rem; border:1px solid #d1d5db;
  border-radius:6px; background:white; cursor:pointer; padding:0 6px; }
[class*="st-key-sl-under-"] { box-sizing:border-box; }
[class*="st-key-sl-under-left-"] { padding-left:2.5rem; padding-right:12%; }
[class*="st-key-sl-under-right-"] { padding-left:12%; padding-right:2.5rem; }
"""
#: The Sessions page's chat drawn as one element (``whole_chat``): its heading as Streamlit draws
#: a subheader, and the box of the height the scrolling container has elsewhere.
CHAT_BOX = "sl-chat-box"
WHOLE_CHAT_CSS = (
    ".sl-chat-title{font-size:1.75rem;font-weight:600;line-height:1.2;letter-spacing:-0.005em;"
    "margin:0;padding:0.75rem 0 1rem}"
    f" .{CHAT_BOX}{{height:620px;overflow-y:auto}}"
    f" .{CHAT_BOX}:focus-visible{{outline:2px solid {ACCENT};outline-offset:2px}}"
)


def window_key(session_id: int) -> str:
    return f"chat_window_{session_id}"


def message_window(session_id: int) -> int:
    """How many of the newest messages to load for this session (grows with "Show earlier")."""
    return st.session_state.get(window_key(session_id), chat.WINDOW)


def marker_text(m: MessageView, tz: str) -> str:
    """The centred grey line of a system marker, in the words of the spec."""
    return chat.marker_words(m.system_event, m.event_data, m.text, local(m.sent_at, tz))


def render_conversation(
    conv: Conversation,
    tz: str,
    *,
    actor: Actor,
    session_id: int,
    traced: set[int] | None = None,
    use_draft: Callable[[str], None] | None = None,
    highlight: Highlight | None = None,
) -> None:
    """Render ``conv``; AI messages in ``traced`` get a "View trace" button, which the page's
    one ``detail_listener`` hears, and Copilot drafts a "Use draft" button calling ``use_draft``
    with their text (Human Agents). With ``highlight``, the words of a search are marked in the
    messages (and counted in it).

    Messages and markers are HTML built here from escaped text and ``message_html``. A run of them
    with nothing to click goes to the page as one element: a click on a row then sends and draws a
    few elements instead of five per message (bench/browser.py).
    """
    if conv.earlier:
        st.button(
            f"Show {counted(min(conv.earlier, chat.WINDOW), 'earlier message')} "
            f"({conv.earlier:,} not shown)",
            key=f"earlier_{session_id}",
            icon=":material/expand_less:",
            on_click=_show_earlier,
            args=(session_id,),
        )
    if not conv.messages and not conv.transcribing:
        st.info("No messages in this session yet.", icon=":material/forum:")
    wanted = [a.id for m in conv.messages for a in m.attachments]
    images = (
        (run_action(lambda db: chat.attachment_images(db, wanted, actor=actor)) or {})
        if wanted
        else {}
    )
    traced = traced or set()
    run: list[str] = []  # HTML waiting to be shown as one element

    def flush() -> None:
        if run:
            st.html('<div class="sl-chat">' + "".join(run) + "</div>")
            run.clear()

    for m in conv.messages:
        if m.author_kind == AuthorKind.SYSTEM:
            run.append(_marker_html(m, tz))
            continue
        text, cut = _text(m, actor)
        run.append(bubble_html(m, tz, text, highlight, traced=m.id in traced))
        if _widgets_under(m, cut=cut):
            flush()
            _under(
                m,
                session_id,
                actor,
                cut=cut,
                files=[(a, images.get(a.id)) for a in m.attachments],
                use_draft=use_draft,
            )
    flush()
    if conv.transcribing:
        st.info(
            "The transcript of this call is still being produced. Refresh in a moment.",
            icon=":material/hourglass_top:",
        )


def whole_chat(
    conv: Conversation, tz: str, heading: str, *, actor: Actor, traced: set[int]
) -> bool:
    """Draw ``heading`` and the conversation in its scrolling box as one element, when nothing
    in it needs an element of its own: no earlier messages to show, no attachment, no cut text,
    no Copilot draft, no transcript on its way. Returns False, drawing nothing, otherwise: the
    caller then draws the heading, a scrolling container and ``render_conversation``.

    Most sessions are such; a row click then sends the Sessions page one element for its chat
    where the heading, the container, the chat's CSS and the HTML were four, and the browser
    updates one (bench/browser.py; docs/engineering-notes.md, "A row click").
    The page's ``detail_listener`` keeps the box at its newest message."""
    if (
        not conv.messages
        or conv.earlier
        or conv.transcribing
        # a text cut at its preview: "Show all", or shown whole after it (``_text`` reads it)
        or any(_widgets_under(m, cut=m.text_length > len(m.text)) for m in conv.messages)
    ):
        return False
    items = "".join(
        _marker_html(m, tz)
        if m.author_kind == AuthorKind.SYSTEM
        else bubble_html(m, tz, m.text, traced=m.id in traced)
        for m in conv.messages
    )
    st.html(
        f'<h3 class="sl-chat-title">{html.escape(heading)}</h3>'
        f'<div class="{CHAT_BOX}" tabindex="0" role="region" aria-label="Conversation">'
        f'<div class="sl-chat">{items}</div></div>'
    )
    return True


def _widgets_under(m: MessageView, *, cut: bool) -> bool:
    """Whether ``m`` has widgets under its bubble (``_under``): a Copilot draft's button, "Show
    all" for a ``cut`` text, its files."""
    return m.author_kind == AuthorKind.COPILOT_DRAFT or cut or bool(m.attachments)


def _marker_html(m: MessageView, tz: str) -> str:
    return f'<div class="sl-marker">{html.escape(marker_text(m, tz))}</div>'


def _show_earlier(session_id: int) -> None:
    st.session_state[window_key(session_id)] = message_window(session_id) + chat.WINDOW


def bubble_html(
    m: MessageView,
    tz: str,
    text: str,
    highlight: Highlight | None = None,
    *,
    traced: bool = False,
) -> str:
    """One message as HTML: avatar, who wrote it, the body, quick replies, time and delivery,
    and for an AI message with a trace call behind it (``traced``) a "View trace" button, which
    ``detail_listener`` hears."""
    kind = m.author_kind
    parts: list[str] = []
    if kind == AuthorKind.HUMAN:
        name = html.escape(m.author_name or "Human agent")
        parts.append(f'<div class="sl-author"><strong>{name}</strong></div>')
    elif kind == AuthorKind.COPILOT_DRAFT:
        parts.append('<span class="sl-label">Draft from Copilot</span>')
    elif kind == AuthorKind.PRIVATE_NOTE:
        parts.append('<span class="sl-label">Private note</span>')
    if m.is_template:
        parts.append('<span class="sl-badge">✔ WhatsApp template</span>')
    if text:
        parts.append(
            message_html(text, image_hosts=get_settings().image_host_set, highlight=highlight)
        )
    if m.quick_replies:
        chips = "".join(f'<span class="sl-chip">{html.escape(q)}</span>' for q in m.quick_replies)
        parts.append(f'<div class="sl-quick">{chips}</div>')
    trace = (
        f'<button type="button" class="sl-trace" data-sl-trace="{m.id}" '
        'title="Open the LLM call that produced this answer">View trace</button>'
        if traced
        else ""
    )
    parts.append(f'<div class="sl-meta">{_meta_html(m, tz)}{trace}</div>')
    if m.reaction:
        face = "👍" if m.reaction == "up" else "👎"
        parts.append(f'<div class="sl-meta">Customer reaction: {face}</div>')
    dashed = " sl-dashed" if kind in (AuthorKind.COPILOT_DRAFT, AuthorKind.PRIVATE_NOTE) else ""
    picture, who = (kind, AVATARS[kind]) if kind in AVATARS else ("other", "Message")
    return (
        f'<div class="sl-msg sl-{html.escape(kind)}" data-author="{html.escape(kind)}"'
        f' data-msg="{m.id}">'
        f'<div class="sl-avatar sl-av-{picture}" role="img" aria-label="{who}" title="{who}"></div>'
        f'<div class="sl-bubble{dashed}">{"".join(parts)}</div></div>'
    )


def _meta_html(m: MessageView, tz: str) -> str:
    """Time, speaker note and delivery status; the status shows its UTC time and note on hover."""
    meta = local(m.sent_at, tz)
    if m.event_data.get("speaker") == "unknown":
        meta += " · speaker unknown (mono recording)"
    out = html.escape(meta)
    if m.delivery_status:
        tip = f"{m.delivery_status.title()} at {utc(m.delivery_at)}"
        if m.delivery_note:
            tip += f" — {m.delivery_note}"
        icon = DELIVERY_ICONS.get(m.delivery_status, m.delivery_status)
        out += (
            f' · <span class="sl-tip" tabindex="0">{html.escape(icon)}'
            f'<span class="sl-tiptext" role="tooltip">{html.escape(tip)}</span></span>'
        )
    return out


def _text(m: MessageView, actor: Actor) -> tuple[str, bool]:
    """The body to show and whether it is cut at chat.TEXT_PREVIEW characters ("Show all")."""
    text, cut = m.text, m.text_length > len(m.text)
    if cut and st.session_state.get(f"full_{m.id}"):
        full = run_action(lambda db: chat.full_text(db, m.id, actor=actor))
        text, cut = (full, False) if full is not None else (text, True)
    return text, cut


def _under(
    m: MessageView,
    session_id: int,
    actor: Actor,
    *,
    cut: bool,
    files: list[tuple[AttachmentInfo, bytes | None]],
    use_draft: Callable[[str], None] | None = None,
) -> None:
    """The widgets of one message, under its bubble: Copy or "Use draft", "Show all", files."""
    side = "right" if m.author_kind == AuthorKind.CUSTOMER else "left"
    with st.container(key=f"sl-under-{side}-{m.id}"):
        if m.author_kind == AuthorKind.COPILOT_DRAFT:
            if use_draft is not None:
                st.button(
                    "Use draft",
                    key=f"use_draft_{m.id}",
                    icon=":material/edit_note:",
                    help="Put this draft in the reply box to edit and send it",
                    on_click=use_draft,
                    args=(m.text,),
                )
            else:
                copy_button("Copy", m.text, title="Copy the draft")
        if cut:
            st.caption(f"Showing the first {len(m.text):,} of {m.text_length:,} characters.")
            st.button(
                "Show all",
                key=f"show_all_{m.id}",
                icon=":material/unfold_more:",
                on_click=st.session_state.__setitem__,
                args=(f"full_{m.id}", True),
            )
        for a, content in files:
            _attachment(a, content, actor)


# Up to 640 pixels of window Streamlit stacks a page's columns, so the chat of a session picked
# in the table (or a conversation picked in the list) is under it, out of sight: the page is
# scrolled to the top of the chat's column, below Streamlit's top bar (opaque on a narrow
# window). The element asking for it is drawn before the chat that makes the page tall enough
# to scroll that far, so the page is aligned again each time the column or what stands above it
# changes size, for three seconds or until the reader scrolls, clicks or presses a key.
# Where an element of ``st.components.v2`` is in the page (out of its shadow root), and the
# nearest box around an element that scrolls (``overflowing``: only one whose content is taller
# than it, i.e. one that can scroll now).
SCROLL_BOX_JS = """
function slInPage(parentElement) { return parentElement.getRootNode().host || parentElement; }
function slScrollBox(el, overflowing) {
  while (el && !((!overflowing || el.scrollHeight > el.clientHeight)
      && /auto|scroll/.test(getComputedStyle(el).overflowY))) {
    el = el.parentElement;
  }
  return el;
}
"""

PHONE_SCROLL_JS = (
    SCROLL_BOX_JS
    + """
const STACKED = '(max-width: 640px)';
function slScrollToColumn(parentElement) {
  const column = slInPage(parentElement).closest('[data-testid="stColumn"]');
  if (!column) return;
  const align = () => {
    const scroller = slScrollBox(column.parentElement, true);
    if (!scroller) return;
    const bar = document.querySelector('[data-testid="stHeader"]');
    const below = bar ? bar.getBoundingClientRect().bottom : 0;
    const by = column.getBoundingClientRect().top - below - 8;
    if (Math.abs(by) >= 1) scroller.scrollBy({ top: by });
  };
  const watch = new ResizeObserver(align);  // it also calls align once, on observe
  watch.observe(column);
  if (column.parentElement) watch.observe(column.parentElement);
  const inputs = ['wheel', 'pointerdown', 'keydown'];
  const stop = () => {
    watch.disconnect();
    for (const type of inputs) removeEventListener(type, stop, true);
  };
  for (const type of inputs) addEventListener(type, stop, { capture: true, passive: true });
  setTimeout(stop, 3000);
}
"""
)

# The "View trace" buttons are part of the chat's HTML, not a widget each: a widget per AI message
# made a row click send and draw three elements per answer (bench/browser.py). This one element
# hears a click on any of them and hands the message id to the script as a trigger value.
# It also hears the table pick a row (``grid.ROW_PICKED``, an event the grid's frame sends to the
# page) and hands that id on: a row click then reruns the detail area alone, not the table.
# A chat opens at its newest message, and stays at its end as messages arrive while the reader is
# there; a reader who scrolled up is left where they are. Streamlit's own ``autoscroll`` was tried
# and not kept: it takes a moment in a redraw when the chat's content is shorter than its box for
# the reader being at the end, and pulled a reader who had scrolled up down to the newest message
# in two redraws of five (a redraw comes with every change the live poll sees). Here only the
# reader's own scrolling (a wheel, a touch, a key, the scroll bar) moves them off the end.
# A reader who is not at the end keeps the message they were reading where it was when the chat
# is drawn again: "Show earlier" puts 200 messages above it, which left the reader at the oldest
# of them, scrolling back down to find their place.
# The follow itself, for a chat's scrolling box: ``holder`` is an element that lasts while the chat
# is drawn again (the box itself, or an element around it when the box is drawn anew with each
# change, as ``whole_chat``'s is), ``boxOf`` finds the box in it now. Where the reader is, in
# which chat, is kept by the page, as the holder may change under the reader ("Show earlier"
# loads the last older messages, and the chat becomes one element). Returns the undo.
FOLLOW_CORE_JS = """
function slFollowChat(holder, boxOf, session) {
  const follow = window.slFollow
    || (window.slFollow = { atEnd: true, session: null, intent: 0, anchor: null });
  holder.slFollow = follow;  // which element hears the reader (tests/test_browser.py counts)
  const chat = `${location.pathname} ${session}`;
  if (follow.session !== chat) {
    follow.session = chat;
    follow.atEnd = true;
    follow.anchor = null;
  }
  const top = (box, el) => el.getBoundingClientRect().top - box.getBoundingClientRect().top;
  // The first message the reader sees, and how far below the box's top it is.
  const mark = (box) => {
    const seen = [...box.querySelectorAll('.sl-msg[data-msg]')]
      .find((el) => el.getBoundingClientRect().bottom > box.getBoundingClientRect().top);
    follow.anchor = seen ? { id: seen.dataset.msg, at: top(box, seen) } : null;
  };
  const toEnd = () => requestAnimationFrame(() => {
    const box = boxOf();
    if (!box) return;
    if (follow.atEnd) { box.scrollTop = box.scrollHeight; return; }
    const was = follow.anchor;
    const el = was && box.querySelector(`.sl-msg[data-msg="${was.id}"]`);
    if (el) box.scrollTop += top(box, el) - was.at;
  });
  const intent = () => { follow.intent = Date.now(); };
  const scrolled = (e) => {
    const box = boxOf();
    if (!box || e.target !== box) return;  // a wide code block scrolled sideways, say
    if (Date.now() - follow.intent < 1000) {
      follow.atEnd = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
      mark(box);
    }
  };
  const inputs = ['wheel', 'touchmove', 'keydown', 'pointerdown'];
  for (const type of inputs) holder.addEventListener(type, intent, { passive: true });
  // Scroll events do not bubble; heard on the way down to the box (capture).
  holder.addEventListener('scroll', scrolled, { passive: true, capture: true });
  holder.addEventListener('load', toEnd, true);  // an image that makes the chat taller
  const grown = new MutationObserver(toEnd);
  grown.observe(holder, { childList: true, subtree: true, characterData: true });
  toEnd();
  return () => {
    for (const type of inputs) holder.removeEventListener(type, intent);
    holder.removeEventListener('scroll', scrolled, true);
    holder.removeEventListener('load', toEnd, true);
    grown.disconnect();
    delete holder.slFollow;
  };
}
"""


_LISTENER_JS = (
    REWIRE_JS
    + PHONE_SCROLL_JS
    + FOLLOW_CORE_JS
    + """
export default function({ data, setTriggerValue, parentElement }) {
  return slRewire(parentElement, () => wire(data, setTriggerValue, parentElement));
}
function wire(data, setTriggerValue, parentElement) {
  const heard = (e) => {
    const b = e.target instanceof Element && e.target.closest('button[data-sl-trace]');
    if (b) setTriggerValue('trace', b.getAttribute('data-sl-trace'));
  };
  // Up to 640 pixels of window Streamlit stacks the columns: the chat is under the table, out
  // of sight. The session picked there is scrolled to (PHONE_SCROLL_JS).
  const stacked = matchMedia(STACKED);
  const open = String(data && data.open);
  if (stacked.matches && window.slScrollToChat === open) {
    window.slScrollToChat = null;
    slScrollToColumn(parentElement);
  }
  const picked = (e) => {
    const id = e.detail == null ? '' : String(e.detail);
    if (id && id !== open) {
      window.slScrollToChat = stacked.matches ? id : null;
      setTriggerValue('row', id);
    }
  };
  document.addEventListener('click', heard);
  document.addEventListener('sl-row-picked', picked);
  // The open chat, when it is one element (whole_chat), follows its end from here: its box is
  // drawn anew with each change, so the column around the detail area, which lasts, holds the
  // listeners. (An element of its own after the chat cost a row click about 15 ms.)
  const column = slInPage(parentElement).closest('[data-testid="stVerticalBlock"]');
  const unfollow = column && data && data.open != null
    ? slFollowChat(column, () => column.querySelector('.CHAT_BOX'), data.open)
    : () => {};
  return () => {
    document.removeEventListener('click', heard);
    document.removeEventListener('sl-row-picked', picked);
    unfollow();
  };
}
""".replace("CHAT_BOX", CHAT_BOX)
)
_listener = st.components.v2.component("sessionlens_detail_events", js=_LISTENER_JS)
LISTENER_KEY = "detail_events"

# An image in a chat opens full size when clicked (the spec): over the page, the whole picture from
# the server (the preview's link, ``_picture``), as large as the window allows; a click anywhere,
# the close button or Escape closes it and gives the focus back to the preview. A click with a
# modifier or the middle button follows the link (a new tab) as any link does.
_IMAGE_CLICKS_JS = """
export default function() {
  const heard = (e) => {
    const hit = e.target instanceof Element && e.target.closest('.sl-img img, .sl-img a');
    const img = hit && (hit.tagName === 'IMG' ? hit : hit.querySelector('img'));
    if (!img || e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey || e.altKey) return;
    e.preventDefault();  // a link's Enter comes here too
    const link = img.closest('a.sl-img-open');
    const box = document.createElement('div');
    box.className = 'sl-lightbox';
    box.setAttribute('role', 'dialog');
    box.setAttribute('aria-modal', 'true');
    box.setAttribute('aria-label', img.alt);
    // The preview at once, as large as the whole picture will be shown (data-whole: its size),
    // until the picture itself has arrived and takes its place.
    const big = document.createElement('img');
    big.alt = img.alt;
    big.src = img.src;
    const [w, h] = (img.dataset.whole || '').split('x').map(Number);
    if (w > 0 && h > 0) { big.width = w; big.height = h; }
    const caption = document.createElement('div');
    caption.className = 'sl-lightbox-cap';
    caption.textContent = img.alt + ' · loading…';
    const whole = new Image();
    whole.addEventListener('load', () => { big.src = whole.src; caption.textContent = img.alt; });
    whole.addEventListener('error', () => {  // a link gone stale (signed out, expired), the server
      big.remove();
      caption.setAttribute('role', 'alert');
      caption.textContent = img.alt + ': the picture could not be loaded. Open the session again.';
    });
    whole.src = link ? link.href : img.src;
    const close = document.createElement('button');
    close.type = 'button';
    close.className = 'sl-lightbox-close';
    close.setAttribute('aria-label', 'Close ' + img.alt);
    close.textContent = '\u00d7';
    box.append(close, big, caption);
    const shut = () => {
      box.remove();
      document.removeEventListener('keydown', key, true);
      (link || img).focus?.();
    };
    const key = (k) => {
      if (k.key === 'Escape') { k.preventDefault(); k.stopPropagation(); shut(); }
      else if (k.key === 'Tab') { k.preventDefault(); close.focus(); }  // the focus stays in it
    };
    box.addEventListener('click', shut);
    document.addEventListener('keydown', key, true);
    document.body.appendChild(box);
    close.focus();
  };
  document.addEventListener('click', heard);
  // Messages in italics (Markdown *...*) and code use font files no other part of the page
  // needs. Fetched by the first click that shows such a message, their text stays invisible
  // until the file arrives (Streamlit's faces have no font-display). A word in each, laid out
  // off screen for as long as the page lives, has them loaded with the page. (Calling
  // document.fonts.load() once fetched the files, yet in the browser tests the faces were still
  // "unloaded" seconds later; a word laid out in each face is what the browser keeps loaded.)
  if (!document.getElementById('sl-font-warm')) {
    const warm = document.createElement('div');
    warm.id = 'sl-font-warm';
    warm.setAttribute('aria-hidden', 'true');
    warm.style.cssText = 'position:fixed;left:-10000px;top:0;visibility:hidden;pointer-events:none';
    for (const [style, family] of [['italic', 'Source Sans'], ['normal', 'Source Code Pro']]) {
      const word = document.createElement('span');
      word.style.fontStyle = style;
      word.style.fontFamily = `"${family}"`;
      word.textContent = 'a';
      warm.appendChild(word);
    }
    document.body.appendChild(warm);
  }
  return () => document.removeEventListener('click', heard);
}
"""
_image_clicks = st.components.v2.component("sessionlens_image_clicks", js=_IMAGE_CLICKS_JS)
IMAGE_LISTENER_KEY = "image_clicks"


def image_listener() -> None:
    """The element that opens a chat's image full size on a click, and loads the fonts of a
    chat's italics and code before the first chat needs them; once per page, by the frame
    (every page that shows a chat: Sessions, 360 View, Human Agents)."""
    _image_clicks(key=IMAGE_LISTENER_KEY)


_PHONE_SCROLL_ELEMENT_JS = (
    PHONE_SCROLL_JS
    + """
export default function({ parentElement }) {
  if (matchMedia(STACKED).matches) slScrollToColumn(parentElement);
}
"""
)
_phone_scroll = st.components.v2.component("sessionlens_phone_scroll", js=_PHONE_SCROLL_ELEMENT_JS)
PHONE_SCROLL_KEY = "phone_scroll"


def scroll_here_on_a_phone(pick: str) -> None:
    """Draw in the chat's column in the run that follows a pick (``pick`` differs for each):
    on a window narrow enough for Streamlit to stack the columns, the page scrolls to the
    column's top, as the Sessions page does for a picked row."""
    _phone_scroll(key=PHONE_SCROLL_KEY, data={"pick": pick})


# The follow for a chat in a scrolling container of Streamlit's (Human Agents, and the Sessions
# page's chats with files or drafts in them), drawn last inside the container.
_FOLLOW_JS = (
    REWIRE_JS
    + SCROLL_BOX_JS
    + FOLLOW_CORE_JS
    + """
export default function({ parentElement, data }) {
  return slRewire(parentElement, () => wire(parentElement, data));
}
function wire(parentElement, data) {
  const holder = slScrollBox(slInPage(parentElement).parentElement, false);
  if (!holder) return;
  return slFollowChat(holder, () => holder, data.session);
}
"""
)
_follow = st.components.v2.component("sessionlens_chat_follow", js=_FOLLOW_JS)
FOLLOW_KEY = "chat_follow"


def follow_the_end(session_id: int) -> None:
    """Draw last inside a chat's scrolling box: the chat opens at its newest message and follows
    new ones while the reader is at its end (see ``_FOLLOW_JS``)."""
    _follow(key=FOLLOW_KEY, data={"session": session_id})


#: The listeners draw nothing, but their elements' empty boxes would add a gap: the frame hides
#: them.
LISTENER_CSS = (
    f".st-key-{LISTENER_KEY}, .st-key-{IMAGE_LISTENER_KEY}, .st-key-{PHONE_SCROLL_KEY},"
    f" .st-key-{FOLLOW_KEY}{{display:none}}"
)
#: A chat's pictures (``_picture``) and the whole picture shown over the page when one is clicked
#: (``image_listener``).
PICTURE_CSS = (
    ".sl-img{margin:0;display:flex;flex-direction:column;gap:0.25rem;align-items:flex-start}"
    ' [class*="st-key-sl-under-right-"] .sl-img{align-items:flex-end}'  # the customer's side
    # a phone's tall screenshot is shown as tall as a few messages, not as the whole chat box
    " .sl-img img{display:block;width:auto;height:auto;max-width:100%;max-height:20rem;"
    "border-radius:0.5rem;cursor:zoom-in}"
    " .sl-img-open{display:block;max-width:100%;border-radius:0.5rem}"
    f" .sl-img-open:focus-visible{{outline:2px solid {ACCENT};outline-offset:2px}}"
    " .sl-img figcaption{font-size:0.875rem;color:#4b5563;overflow-wrap:anywhere}"
    " .sl-lightbox{position:fixed;inset:0;z-index:1000100;background:rgba(14,17,23,0.92);"
    "display:flex;flex-direction:column;align-items:center;justify-content:center;gap:0.5rem;"
    "padding:2.5rem 1rem 1rem;cursor:zoom-out}"
    " .sl-lightbox img{max-width:100%;max-height:calc(100% - 2rem);object-fit:contain}"
    " .sl-lightbox-cap{color:#fafafa;font-size:0.875rem;overflow-wrap:anywhere;text-align:center}"
    " .sl-lightbox-close{position:absolute;top:0.5rem;right:0.75rem;background:none;border:0;"
    "color:#fafafa;font-size:2rem;line-height:1;cursor:pointer}"
    f" .sl-lightbox-close:focus-visible{{outline:2px solid {ACCENT}}}"
)
#: The chat and the Parameters & results panel side by side (``DETAIL_KEY``'s columns) while the
#: chat keeps a readable width; on a narrower window (a laptop with the menu open: at 1,024
#: pixels the bubbles were a word wide and the panel's links were cut at its edge) the panel goes
#: under the chat and both take the whole width. Streamlit stacks columns only below 640 pixels
#: of window, whatever room they have.
DETAIL_KEY = "sl-detail"
_DETAIL_ROW = (
    f".st-key-{DETAIL_KEY} > [data-testid='stLayoutWrapper'] > [data-testid='stHorizontalBlock']"
)
DETAIL_CSS = (
    f"{_DETAIL_ROW}{{flex-wrap:wrap}}"
    # the chat (the panel is the last column; folded, it is a narrow toggle that never wraps)
    f" {_DETAIL_ROW} > [data-testid='stColumn']:nth-last-child(2){{min-width:min(14rem,100%)}}"
)
#: What the frame puts on every page once: the avatars' pictures, the chat's look, the hidden
#: listeners, the chat's pictures, the detail area's wrapping and the file links' look. (The
#: chat's CSS came with every drawing of a chat: 4 KB more a row click, and one element more.)
PAGE_CSS = (
    AVATAR_CSS + CHAT_CSS + WHOLE_CHAT_CSS + LISTENER_CSS + PICTURE_CSS + DETAIL_CSS + FILE_CSS
)


def no_chat(hint: str, icon: str, problem: str | None = None) -> None:
    """The chat's column while no session is open: why a link's session could not be opened,
    if that is the reason, the heading, and how to open one."""
    if problem:
        feedback.error(problem)
    st.subheader("Chat")
    st.info(hint, icon=icon)


def detail_listener(on_row: Callable[[str], None]) -> str | None:
    """The element that hears the table pick a row and a click on "View trace" under an AI
    answer; draw it before the detail area reads which session is open.

    A picked row goes to ``on_row`` (its id as the browser says it) before the run that follows,
    so that run draws that session. Returns the message id of a "View trace" click in this run,
    for ``open_trace`` once the session is read.

    One per page, mounted by the page that shows "View trace" buttons (Sessions), first in the
    detail area whether or not a session is open, so that its code is loaded with the page
    instead of during the first row click, and a click on another row updates it instead of
    mounting it anew (bench/browser.py)."""
    key = LISTENER_KEY

    def row_picked() -> None:
        state = st.session_state.get(key)
        value = state.get("row") if isinstance(state, dict) else None
        if not value:
            return
        try:  # the browser's word: the grid sends its row ids, but it is checked as any input
            on_row(str(strict.ident(str(value), "The picked row", big=True)))
        except BadInput as err:
            st.session_state["row_refused"] = str(err)

    # A callback, even one that does nothing, is what makes the element report a trigger.
    result = _listener(
        key=key,
        data={"open": st.session_state.get("selected")},
        on_trace_change=lambda: None,
        on_row_change=row_picked,
    )
    if refused := st.session_state.pop("row_refused", None):
        feedback.error(refused)
    return result.trace


def open_trace(session_id: int, clicked: str | None, actor: Actor) -> None:
    """Open the Logs drawer on the trace call of the AI answer whose "View trace" was clicked
    (in this run, before the page draws the drawer). The id comes from the browser; the domain
    answers only for a trace call of this session in the actor's tenant."""
    if not clicked:
        return
    try:
        mid = strict.ident(str(clicked), "The message to trace", big=True)
    except BadInput as err:
        feedback.error(str(err))
        return
    entry = run_action(lambda db: logs.trace_for_message(db, session_id, mid, actor=actor))
    if entry is None:
        feedback.error("That message has no trace call in this session.")
        return
    open_logs(session_id, tab="Trace Logs", focus=entry)


#: How wide an image attachment is shown in a chat, in pixels.
IMAGE_WIDTH = 260


def _attachment(a: AttachmentInfo, image: bytes | None, actor: Actor) -> None:
    """An image that decodes, shown; any other file as a card whose Download streams it from the
    server (``web/media.py``): its bytes are not read to draw the chat."""
    if image is not None and (shown := media.preview(a.mime_type, image, IMAGE_WIDTH)) is not None:
        st.html(_picture(a, shown, actor))
        return
    url = signed_url("file", a.id, actor)
    download = (
        f'<a class="sl-file-dl" href="{html.escape(url)}" download="{html.escape(a.file_name)}"'
        ' target="_self">Download</a>'
        if url
        else ""
    )
    st.html(
        '<div class="sl-file" data-testid="sl-file">'
        f'<div class="sl-file-name">{html.escape(a.file_name)}</div>'
        f'<div class="sl-file-meta">{html.escape(f"{a.mime_type} · {_size(a.size_bytes)}")}</div>'
        f"{download}</div>"
    )


def _picture(a: AttachmentInfo, shown: media.Preview, actor: Actor) -> str:
    """An image attachment as the chat shows it: its preview (at most ``IMAGE_WIDTH`` wide, sent
    with the chat) with the file name under it, in a link to the whole picture from the server
    (``web/media.py``, shown in place when it is in a format every browser shows). A click opens
    the whole picture over the page (``image_listener``); a middle click, in a new tab."""
    name = html.escape(a.file_name)
    thumb = f"data:{shown.mime};base64,{base64.b64encode(shown.data).decode()}"
    img = (
        f'<img src="{thumb}" alt="{name}" title="{name}" data-whole="{shown.width}x{shown.height}">'
    )
    url = signed_url("file", a.id, actor) if media.shown_as_is(a.mime_type) else None
    if url is not None:
        img = f'<a class="sl-img-open" href="{html.escape(url)}&amp;view=1">{img}</a>'
    return (
        f'<figure class="sl-img" data-testid="sl-image">{img}'
        f"<figcaption>{name}</figcaption></figure>"
    )


def _size(n: int) -> str:
    return (
        f"{n} B" if n < 1024 else f"{n / 1024:.1f} KB" if n < 1024**2 else f"{n / 1024**2:.1f} MB"
    )
