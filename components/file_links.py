"""Signed addresses of the files a page offers: a call's recording (``/recordings/…``, played and
downloaded) and a chat's files (``/files/…``, downloaded), both served by ``web/media.py``."""

from __future__ import annotations

import datetime as dt
from typing import Literal

import streamlit as st

from components.data import run_action
from sessionlens import auth, chat
from sessionlens.permissions import Actor

_PATHS = {"recording": "/recordings", "file": "/files"}


def signed_url(kind: Literal["recording", "file"], attachment_id: int, actor: Actor) -> str | None:
    """The address of a recording or a chat's file for this user, signed for
    ``chat.FILE_LINK_MINUTES``; None when the database cannot be reached (the page says so).
    Kept in the browser session while it has more than half its time left, so that a player's
    address, and with it the player, stays the same from one run to the next (a new address
    would stop it playing), and a chat drawn on every click signs nothing new."""
    held = st.session_state.setdefault("file_links", {})
    now = dt.datetime.now(dt.UTC)
    key = (actor.user_id, kind, attachment_id)  # a link is its user's, whoever signs in next
    got = held.get(key)
    if got is not None and now - got[1] < dt.timedelta(minutes=chat.FILE_LINK_MINUTES / 2):
        return str(got[0])
    ticket = run_action(
        lambda db: auth.issue_ticket(
            actor,
            db,
            secret=auth.app_secret(),
            now=now,
            what={kind: attachment_id},
            minutes=chat.FILE_LINK_MINUTES,
        )
    )
    if ticket is None:
        return None
    url = f"{_PATHS[kind]}/{attachment_id}?ticket={ticket}"
    held[key] = (url, now)
    return url
