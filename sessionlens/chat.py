"""A session's conversation as the Chat panel shows it: messages newest-last, their attachments,
the call recording, and where its transcription stands.

One read model for every place a conversation is shown (Sessions, 360 View, later the operator
workspace), so conversations read the same way everywhere.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any, NamedTuple

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, defer

from db.models import Attachment, ChatSession, Message, User
from sessionlens import blobs, jobs, media
from sessionlens.errors import NotFound
from sessionlens.kinds import SystemEvent
from sessionlens.permissions import Action, Actor, require

#: How many of the newest messages a chat opens with; older ones load on demand.
WINDOW = 200
#: How long the console's address of a recording or a chat's file works (``web/media.py``): a
#: player stays on a page for hours and asks again whenever the listener seeks. Signing out or a
#: password reset ends it early; it names one file.
FILE_LINK_MINUTES = 12 * 60
#: Characters of a message read and shown at first; a longer one offers "Show all" (full_text).
TEXT_PREVIEW = 5_000


@dataclass(frozen=True)
class AttachmentInfo:
    id: int
    file_name: str
    mime_type: str  # cleaned: safe in a Content-Type header (media.safe_mime)
    size_bytes: int


def marker_words(event: str | None, data: dict[str, Any] | None, text: str, at: str) -> str:
    """A system marker in the words of the spec ("Transfer to human agent at …"), ``at`` being
    its time as the reader should see it: the chat's centred grey line, and the text of the
    marker's row in a CSV export."""
    d = data or {}
    if d.get("inaudible"):
        return text
    if event == SystemEvent.STARTED:
        return f"{d.get('initiator', 'Client')} started the session at {at}"
    if event == SystemEvent.TRANSFER:
        return f"Transfer to human agent at {at}"
    if event == SystemEvent.ASSIGNED:
        if d.get("by"):
            return f"{d.get('name')} was assigned by {d['by']} at {at}"
        return f"Human agent {d.get('name')} assigned at {at}"
    if event == SystemEvent.RESOLVED:
        return f"The session was resolved by {d.get('name')} at {at}"
    return f"{text or event} at {at}"


@dataclass(frozen=True)
class MessageView:
    id: int
    seq: int
    author_kind: str
    author_name: str | None  # the human agent's name for human messages, drafts and notes
    text: str  # the first TEXT_PREVIEW characters
    text_length: int  # of the whole text: more than len(text) when it was cut
    sent_at: dt.datetime
    reaction: str | None
    delivery_status: str | None
    delivery_at: dt.datetime | None
    delivery_note: str | None
    quick_replies: list[str]
    is_template: bool
    system_event: str | None
    event_data: dict[str, Any]
    attachments: list[AttachmentInfo]


class Transcription(NamedTuple):
    """The newest transcription job of a session: its status, progress (0 to 1) and error."""

    status: str
    progress: float
    error: str | None


@dataclass(frozen=True)
class Conversation:
    messages: list[MessageView]  # oldest first
    earlier: int  # how many older messages were not loaded
    recording: AttachmentInfo | None
    transcription: Transcription | None  # None: the session was never transcribed

    @property
    def transcribing(self) -> bool:
        """A transcription job is queued or running for this session."""
        return self.transcription is not None and self.transcription.status in jobs.IN_PROGRESS


def conversation(
    db: Session, session_id: int, *, actor: Actor, last: int | None = WINDOW
) -> Conversation:
    """The newest ``last`` messages of a session of the actor's tenant (all if ``last`` is None).

    Texts are cut to TEXT_PREVIEW characters in the query, so a megabyte message costs nothing
    until someone asks for all of it. NotFound for a session of another tenant, as every read."""
    return conversations(db, {session_id: last}, actor=actor)[session_id]


def conversations(
    db: Session, windows: dict[int, int | None], *, actor: Actor
) -> dict[int, Conversation]:
    """Several sessions' conversations (the 360 View) in a fixed number of queries, whatever
    their number: ``windows`` maps each session id to how many of its newest messages to read."""
    require(actor, Action.VIEW_SESSIONS)
    ids = list(windows)
    if not ids:
        return {}
    found = set(
        db.scalars(
            select(ChatSession.id).where(
                ChatSession.tenant_id == actor.tenant_id, ChatSession.id.in_(ids)
            )
        )
    )
    if missing := [i for i in ids if i not in found]:
        raise NotFound(f"Session {missing[0]} not found")
    newest = (
        select(
            Message.id,
            func.row_number()
            .over(partition_by=Message.session_id, order_by=Message.seq.desc())
            .label("rank"),
            func.count().over(partition_by=Message.session_id).label("total"),
        )
        .where(Message.tenant_id == actor.tenant_id, Message.session_id.in_(ids))
        .subquery()
    )
    limit = case(
        {sid: (last if last is not None else 2**31 - 1) for sid, last in windows.items()},
        value=Message.session_id,
    )
    rows = db.execute(
        select(
            Message,
            func.coalesce(User.name, Message.author_name),
            func.substr(Message.text, 1, TEXT_PREVIEW),
            func.length(Message.text),
            newest.c.total,
        )
        .options(defer(Message.text))
        .join(newest, newest.c.id == Message.id)
        .outerjoin(User, User.id == Message.author_user_id)
        .where(newest.c.rank <= limit)
        .order_by(Message.session_id, Message.seq)
    ).all()
    files, recordings = _attachments(db, actor, ids, {r[0].id for r in rows})
    # Read with the chat rather than by the page after it: a row click opens one transaction.
    states = transcriptions(db, ids, actor=actor)
    loaded: dict[int, list[MessageView]] = {sid: [] for sid in ids}
    totals: dict[int, int] = {}
    for m, name, preview, length, total in rows:
        totals[m.session_id] = total
        loaded[m.session_id].append(
            MessageView(
                m.id,
                m.seq,
                m.author_kind,
                name,
                preview or "",
                length or 0,
                m.sent_at,
                m.reaction,
                m.delivery_status,
                m.delivery_at,
                m.delivery_note,
                list(m.quick_replies or []),
                m.is_template,
                m.system_event,
                dict(m.event_data or {}),
                files.get(m.id, []),
            )
        )
    return {
        sid: Conversation(
            loaded[sid],
            totals.get(sid, 0) - len(loaded[sid]),
            recordings.get(sid),
            states.get(sid),
        )
        for sid in ids
    }


def transcriptions(
    db: Session, session_ids: list[int], *, actor: Actor
) -> dict[int, Transcription]:
    """The newest transcription job of each of these sessions of the actor's tenant that has one
    (the chat's note and the page's progress, error and Retry)."""
    return {
        sid: Transcription(job.status, job.progress, job.error)
        for sid, job in jobs.latest_for_sessions(db, session_ids, actor=actor).items()
    }


def _attachments(
    db: Session, actor: Actor, session_ids: list[int], message_ids: set[int]
) -> tuple[dict[int, list[AttachmentInfo]], dict[int, AttachmentInfo]]:
    """The file attachments of the loaded messages, and each session's recording."""
    files: dict[int, list[AttachmentInfo]] = {}
    recordings: dict[int, AttachmentInfo] = {}
    rows = db.execute(
        select(
            Attachment.id,
            Attachment.session_id,
            Attachment.message_id,
            Attachment.is_recording,
            Attachment.file_name,
            Attachment.mime_type,
            Attachment.size_bytes,
        )
        .where(Attachment.tenant_id == actor.tenant_id, Attachment.session_id.in_(session_ids))
        .order_by(Attachment.id)
    )
    for a in rows:
        info = AttachmentInfo(a.id, a.file_name, media.safe_mime(a.mime_type), a.size_bytes)
        if a.is_recording:
            recordings[a.session_id] = info
        elif a.message_id in message_ids:
            files.setdefault(a.message_id, []).append(info)
    return files, recordings


@dataclass(frozen=True)
class StoredFile:
    """A call recording or a chat's file as a player or a download reads it: a byte range at a
    time, never the whole file in memory."""

    file_name: str
    mime_type: str  # cleaned: safe in a Content-Type header (media.safe_mime)
    size: int
    read: Callable[[int], Iterator[bytes]] = field(repr=False)  # the bytes from an offset on

    def chunks(self, start: int = 0) -> Iterator[bytes]:
        """The bytes from ``start`` on."""
        return self.read(start)


def stored_file(
    db: Session,
    attachment_id: int,
    *,
    actor: Actor,
    recording: bool,
    store: blobs.BlobStore | None = None,
) -> StoredFile:
    """The call recording (``recording``) or the chat's file ``attachment_id`` of the actor's
    tenant, ready to stream; NotFound for another tenant's, for one of the other kind and for one
    whose file is gone from the store."""
    require(actor, Action.VIEW_SESSIONS)
    row = db.execute(
        select(Attachment.file_name, Attachment.mime_type, Attachment.storage_key).where(
            Attachment.tenant_id == actor.tenant_id,
            Attachment.id == attachment_id,
            Attachment.is_recording.is_(recording),
        )
    ).first()
    if row is None:
        raise NotFound(f"{'Recording' if recording else 'File'} {attachment_id} not found")
    mime = media.safe_mime(row.mime_type)
    if row.storage_key is None:  # kept in its row
        data = db.scalar(select(Attachment.content).where(Attachment.id == attachment_id)) or b""
        return StoredFile(row.file_name, mime, len(data), lambda start: iter([data[start:]]))
    store = store or blobs.default_store()
    size = store.size(row.storage_key)  # Missing (a NotFound) when the file is gone
    return StoredFile(row.file_name, mime, size, partial(store.chunks, row.storage_key))


def attachment_images(db: Session, attachment_ids: list[int], *, actor: Actor) -> dict[int, bytes]:
    """The bytes of those of the chat's attachments that say they are images (the chat previews
    them), of the actor's tenant, in one query. Other files are not read: their cards link to
    the server's file route (web/media.py), which streams them when they are downloaded."""
    require(actor, Action.VIEW_SESSIONS)
    if not attachment_ids:
        return {}
    rows = db.execute(
        select(Attachment.id, Attachment.content).where(
            Attachment.tenant_id == actor.tenant_id,
            Attachment.id.in_(attachment_ids),
            Attachment.content.is_not(None),
            func.lower(Attachment.mime_type).like("image/%"),
        )
    )
    return {r.id: r.content for r in rows}


def full_text(db: Session, message_id: int, *, actor: Actor) -> str:
    """The whole text of a message of the actor's tenant ("Show all" on a long message)."""
    require(actor, Action.VIEW_SESSIONS)
    text = db.scalar(
        select(Message.text).where(Message.tenant_id == actor.tenant_id, Message.id == message_id)
    )
    if text is None:
        raise NotFound(f"Message {message_id} not found")
    return text
