"""Writing messages, and the counters they keep on their session in the same transaction."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from db.models import AuthorKind, ChatSession, Message

#: The messages the Messages column and the chat title count: what the customer, the AI and the
#: human agents said. System markers, Copilot drafts and private notes are shown but not counted.
COUNTED_KINDS = frozenset({AuthorKind.CUSTOMER, AuthorKind.AI, AuthorKind.HUMAN})


def append_message(
    db: Session,
    chat: ChatSession,
    *,
    author_kind: str,
    text: str,
    sent_at: dt.datetime,
    author_user_id: int | None = None,
    **fields: Any,
) -> Message:
    """Add a message at the end of ``chat`` and keep its derived counters.

    The caller has already checked the actor may write to this session; the caller commits.
    """
    counted = author_kind in COUNTED_KINDS
    # The counter update comes first: it locks the session row (Postgres) or takes the write lock
    # (SQLite), so that two appends to one session cannot read the same highest ``seq``.
    db.execute(
        update(ChatSession)
        .where(ChatSession.id == chat.id)
        .values(
            message_count=ChatSession.message_count + (1 if counted else 0),
            last_message_at=case(
                (ChatSession.last_message_at < sent_at, sent_at),
                else_=ChatSession.last_message_at,
            )
            if counted
            else ChatSession.last_message_at,
        )
    )
    seq = (db.scalar(select(func.max(Message.seq)).where(Message.session_id == chat.id)) or 0) + 1
    msg = Message(
        tenant_id=chat.tenant_id,
        session_id=chat.id,
        seq=seq,
        author_kind=author_kind,
        author_user_id=author_user_id,
        text=text,
        sent_at=sent_at,
        **fields,
    )
    db.add(msg)
    db.flush()
    return msg


def append_marker(
    db: Session, chat: ChatSession, event: str, data: dict[str, Any], *, at: dt.datetime
) -> Message:
    """A system marker (the chat's centred grey line: started, transfer, assigned, resolved)."""
    return append_message(
        db,
        chat,
        author_kind=AuthorKind.SYSTEM,
        text="",
        sent_at=at,
        system_event=event,
        event_data=data,
    )
