"""The transcription job: a recording in, the session's messages out, progress as it goes.

The transcript is written in one transaction that first checks the worker still holds the job's
lease (jobs.heartbeat), then replaces any earlier attempt's transcript and marks the job done. A
worker that lost its lease (it stalled, and another worker took the job) writes nothing.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from db.models import Attachment, AuthorKind, ChatSession, Message
from sessionlens import jobs, logs
from sessionlens.blobs import BlobStore
from sessionlens.errors import DomainError
from sessionlens.messages import append_message
from sessionlens.transcription.audio import decode
from sessionlens.transcription.engine import Segment, Stopped, WhisperEngine
from sessionlens.wording import counted


class Interrupted(Exception):
    """The worker is stopping, or the job was taken over: leave it for the queue."""


def transcribe_session(
    maker: sessionmaker[Session],
    job_id: int,
    session_id: int,
    *,
    worker: str,
    attempt: int,
    engine: WhisperEngine,
    store: BlobStore,
    stop: threading.Event,
    now: Callable[[], dt.datetime],
) -> float:
    """Write the transcript of ``session_id`` and mark the job done (with a warning for the user
    when part of the file could not be read); the seconds of audio transcribed. Raises
    Interrupted when stopped or when the lease was lost."""
    with maker() as db:
        cs = db.get_one(ChatSession, session_id)
        started = cs.started_at
        key, name = db.execute(
            select(Attachment.storage_key, Attachment.file_name).where(
                Attachment.session_id == session_id, Attachment.is_recording
            )
        ).one()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ("audio" + Path(name).suffix)
        if key is None:
            raise DomainError("The recording of this session is missing from the blob store")
        store.download(key, path)  # blobs.Missing, a DomainError, when it is not there
        stereo = _channels(path) == 2
        audio = decode(path, stereo=stereo)
    total = max(audio.decoded, 0.1)
    customer_first = engine.settings.customer_channel != "right"
    if stereo:
        sides = [
            (AuthorKind.CUSTOMER if (i == 0) == customer_first else AuthorKind.AI, ch)
            for i, ch in enumerate(audio.channels)
        ]
    else:
        sides = [(AuthorKind.CUSTOMER, audio.channels[0])]
    segments: list[tuple[Segment, str]] = []
    try:
        for side, (kind, samples) in enumerate(sides):
            for seg in engine.transcribe(samples, stop):  # Stopped once ``stop`` is set
                segments.append((seg, kind))
                progress = (side + min(seg.end / total, 1.0)) / len(sides)
                with maker.begin() as db:
                    if not jobs.heartbeat(
                        db, job_id, worker=worker, attempt=attempt, now=now(), progress=progress
                    ):
                        raise Interrupted
    except Stopped:
        raise Interrupted from None
    segments.sort(key=lambda s: s[0].start)
    with maker.begin() as db:
        if not jobs.heartbeat(db, job_id, worker=worker, attempt=attempt, now=now()):
            raise Interrupted  # another worker owns the job now: its transcript stands
        # A retried or reclaimed job replaces whatever an earlier attempt wrote.
        db.execute(
            delete(Message).where(
                Message.session_id == session_id,
                Message.event_data["transcript"].as_string().is_not(None),
            )
        )
        cs = db.get_one(ChatSession, session_id, populate_existing=True)
        cs.message_count, cs.last_message_at = 0, cs.started_at
        for seg, speaker in segments:
            data: dict[str, Any] = {"transcript": True, "end": round(seg.end, 2)}
            author, text = speaker, seg.text
            if seg.inaudible:  # speech was heard but not understood: say so, never drop it
                author = AuthorKind.SYSTEM
                text = inaudible_text(seg, speaker if stereo else None)
                data["inaudible"] = True
            elif not stereo:
                data["speaker"] = "unknown"
            append_message(
                db,
                cs,
                author_kind=author,
                text=text,
                sent_at=started + dt.timedelta(seconds=seg.start),
                event_data=data,
            )
        cs.finished_at = started + dt.timedelta(seconds=audio.decoded)
        warning = None
        if audio.lost_seconds > 1 or audio.skipped_packets:
            warning = (
                f"Transcribed {audio.decoded:.0f} of {audio.declared:.0f} s: the rest of "
                "the file is damaged or missing"
                if audio.lost_seconds > 1
                else f"{counted(audio.skipped_packets, 'damaged packet')} skipped"
            )
        logs.append_system(
            db,
            tenant_id=cs.tenant_id,
            session_id=cs.id,
            at=now(),
            level="WARN" if warning else "INFO",
            text=f"Transcription finished: {counted(len(segments), 'segment')} from "
            f"{audio.decoded:.1f} s of {'stereo' if stereo else 'mono'} audio"
            + (f" ({warning})" if warning else ""),
        )
        jobs.finish(db, job_id, worker=worker, attempt=attempt, now=now(), warning=warning)
    return audio.decoded


def inaudible_text(seg: Segment, side: str | None) -> str:
    """The chat's line for speech that produced no words ("Inaudible from 1:05 to 1:40")."""
    sides: dict[str, str] = {AuthorKind.CUSTOMER: " (customer)", AuthorKind.AI: " (agent)"}
    who = sides.get(side or "", "")
    return f"Inaudible from {_clock(seg.start)} to {_clock(seg.end)}{who}"


def _clock(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    return f"{m // 60}:{m % 60:02d}:{s:02d}" if m >= 60 else f"{m}:{s:02d}"


def _channels(path: Path) -> int:
    import av

    with av.open(str(path)) as c:
        return c.streams.audio[0].codec_context.channels or 1
