"""Signed addresses of the files a page offers: a call's recording (``/recordings/…``, played and
downloaded) and a chat's files (``/files/…``, downloaded), both served by ``web/media.py``."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from components.data import run_action
from components.theme import ACCENT
from sessionlens import chat, file_links
from sessionlens.file_links import Kind
from sessionlens.permissions import Actor

#: The look of the file links, sent once per page with the chat's CSS (``chat.PAGE_CSS``): both
#: downloads look like Streamlit's secondary button; a recording's is as tall as the buttons
#: beside it and has a download arrow (drawn by CSS: st.html keeps no inline SVG); a file's card
#: shows its name, type and size above its link.
FILE_CSS = (
    ".sl-rec-dl,.sl-file-dl{padding:0.25rem 0.75rem;border:1px solid rgba(49,51,63,0.2);"
    "border-radius:0.5rem;color:inherit!important;text-decoration:none!important}"
    f".sl-rec-dl:hover,.sl-file-dl:hover{{border-color:{ACCENT};color:{ACCENT}!important}}"
    f".sl-rec-dl:focus-visible,.sl-file-dl:focus-visible{{outline:2px solid {ACCENT};"
    "outline-offset:2px}"
    ".sl-rec-dl{display:inline-flex;align-items:center;gap:0.4rem;min-height:2.5rem;"
    "white-space:nowrap}"
    ".sl-rec-dl::before{content:'';width:1.1rem;height:1.1rem;background:currentColor;"
    "-webkit-mask:var(--sl-dl) center/contain no-repeat;mask:var(--sl-dl) center/contain no-repeat}"
    ".sl-rec{--sl-dl:url(\"data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' "
    "viewBox='0 0 24 24'%3E%3Cpath d='M5 20h14v-2H5v2zm14-11h-4V3H9v6H5l7 7 7-7z'/%3E%3C/svg%3E\")}"
    ".sl-rec audio{width:100%;max-width:32rem;height:2.5rem;margin-top:0.25rem}"
    ".sl-rec-line{display:flex;flex-wrap:wrap;align-items:center;gap:0.75rem}"
    ".sl-rec-line .sl-rec:first-child{flex:1 1 16rem;max-width:32rem}"
    ".sl-rec-line audio{margin-top:0}"
    ".sl-file{border:1px solid rgba(49,51,63,0.2);border-radius:0.5rem;padding:0.6rem 0.8rem;"
    "max-width:22rem;display:flex;flex-direction:column;gap:0.2rem}"
    ".sl-file-name{font-weight:600;overflow-wrap:anywhere}"
    ".sl-file-meta{font-size:0.85rem;color:#4b5563;overflow-wrap:anywhere}"
    ".sl-file-dl{align-self:flex-start;margin-top:0.3rem}"
    '[class*="st-key-sl-under-right-"] .sl-file{margin-left:auto}'  # under the customer's bubble
)


def signed_url(kind: Kind, attachment_id: int, actor: Actor) -> str | None:
    """The address of a recording or a chat's file for this user (``sessionlens.file_links``);
    None when the database cannot be reached (the page says so). Kept in the browser session while
    it has more than half its time left, so that a player's address, and with it the player,
    stays the same from one run to the next (a new address would stop it playing), and a chat
    drawn on every click signs nothing new."""
    held = st.session_state.setdefault("file_links", {})
    now = dt.datetime.now(dt.UTC)
    key = (actor.user_id, kind, attachment_id)  # a link is its user's, whoever signs in next
    got = held.get(key)
    if got is not None and now - got[1] < dt.timedelta(minutes=chat.FILE_LINK_MINUTES / 2):
        return str(got[0])
    url = run_action(lambda db: file_links.link(db, kind, attachment_id, actor=actor, now=now))
    if url is not None:
        held[key] = (url, now)
    return url
