"""Signed links to the files the console offers: a call's recording (played and downloaded) and a
chat's file (downloaded, or a picture shown full size). The page makes the link for its user; the
server's routes (``web/media.py``) open the file the link names. A link names one file of one
kind, works for ``chat.FILE_LINK_MINUTES`` whichever way its user signed in, ends early when they
sign out, are deactivated or have their password reset, and the user's rights are checked when it
is used."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from sqlalchemy.orm import Session

from sessionlens import auth, chat
from sessionlens.chat import StoredFile
from sessionlens.permissions import Actor

Kind = Literal["recording", "file"]
#: Where the server serves each kind (Streamlit keeps ``/media/`` for its own files).
PATHS: dict[Kind, str] = {"recording": "/recordings", "file": "/files"}


def link(db: Session, kind: Kind, attachment_id: int, *, actor: Actor, now: dt.datetime) -> str:
    """The address of the recording or file ``attachment_id`` for ``actor``."""
    ticket = auth.issue_ticket(
        actor,
        db,
        secret=auth.app_secret(),
        now=now,
        what={kind: attachment_id},
        minutes=chat.FILE_LINK_MINUTES,
    )
    return f"{PATHS[kind]}/{attachment_id}?ticket={ticket}"


def opened(
    db: Session, kind: Kind, attachment_id: int, ticket: str, *, now: dt.datetime
) -> StoredFile | None:
    """The file a link's ticket opens, read with its user's rights as they are now; None when the
    ticket is altered, expired, its user gone, or it names another file or another kind."""
    held = auth.ticket_holder(db, ticket, secret=auth.app_secret(), now=now)
    if held is None or held[1].get(kind) != attachment_id:
        return None
    return chat.stored_file(db, attachment_id, actor=held[0], recording=kind == "recording")
