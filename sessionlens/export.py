"""Export sessions in the session-v1 format (JSON, JSONL) or as CSV, one row per message.

The output is a stream of byte chunks: sessions are read in pages of ``PAGE`` (keyset on id), each
page's messages, attachments and logs in one query each, and written as they are read, so an export
of any size holds one page in memory. Database ids never appear: a session, message or customer
without a runtime id is named ``sl-<id>``, and importing the export (into an empty database) and
exporting again gives the same bytes.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import json
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any, Literal

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from db.models import Agent, Attachment, ChatSession, Customer, Message, SessionLog, User
from sessionlens import audit
from sessionlens.exchange import FORMAT, MAX_INLINE_BYTES
from sessionlens.filters import SessionFilter
from sessionlens.permissions import Action, Actor, require

Format = Literal["json", "jsonl", "csv"]
FORMATS: tuple[Format, ...] = ("json", "jsonl", "csv")
PAGE = 200
CSV_COLUMNS = [
    "session_external_id",
    "agent",
    "channel",
    "customer",
    "session_started_at",
    "session_finished_at",
    "status",
    "message_external_id",
    "seq",
    "author",
    "author_name",
    "sent_at",
    "text",
    "delivery_status",
    "reaction",
    "attachments",
]


def _iso(t: dt.datetime | None) -> str | None:
    return t.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") if t else None


def _ref(external_id: str | None, row_id: int) -> str:
    return external_id or f"sl-{row_id}"


def statement(actor: Actor, flt: SessionFilter | None, agent_id: int | None) -> Select[Any]:
    """The ids of the sessions to export, oldest first."""
    stmt = select(ChatSession.id).where(ChatSession.tenant_id == actor.tenant_id)
    if flt is not None:
        stmt = stmt.where(flt.conditions())  # the same conditions as the table
    if agent_id is not None:
        stmt = stmt.where(ChatSession.agent_id == agent_id)
    return stmt.order_by(ChatSession.id)


def documents(
    db: Session,
    *,
    actor: Actor,
    flt: SessionFilter | None = None,
    agent_id: int | None = None,
) -> Iterator[dict[str, Any]]:
    """Each session as a session-v1 document, oldest first."""
    require(actor, Action.EXPORT)
    after = 0
    base = statement(actor, flt, agent_id)
    while True:
        ids = list(db.scalars(base.where(ChatSession.id > after).limit(PAGE)))
        if not ids:
            return
        after = ids[-1]
        yield from _page(db, actor, ids)


def _page(db: Session, actor: Actor, ids: list[int]) -> Iterator[dict[str, Any]]:
    sessions = db.execute(
        select(ChatSession, Agent.name, Customer)
        .join(Agent, Agent.id == ChatSession.agent_id)
        .outerjoin(Customer, Customer.id == ChatSession.customer_id)
        .where(ChatSession.tenant_id == actor.tenant_id, ChatSession.id.in_(ids))
        .order_by(ChatSession.id)
    ).all()
    messages: dict[int, list[tuple[Message, str | None]]] = defaultdict(list)
    for m, name in db.execute(
        select(Message, User.name)
        .outerjoin(User, User.id == Message.author_user_id)
        .where(Message.tenant_id == actor.tenant_id, Message.session_id.in_(ids))
        .order_by(Message.session_id, Message.seq)
    ):
        messages[m.session_id].append((m, name))
    files: dict[int, list[Attachment]] = defaultdict(list)
    for a in db.scalars(
        select(Attachment)
        .where(
            Attachment.tenant_id == actor.tenant_id,
            Attachment.session_id.in_(ids),
            Attachment.message_id.is_not(None),
        )
        .order_by(Attachment.id)
    ):
        files[a.message_id or 0].append(a)
    logs: dict[int, list[SessionLog]] = defaultdict(list)
    for entry in db.scalars(
        select(SessionLog)
        .where(SessionLog.tenant_id == actor.tenant_id, SessionLog.session_id.in_(ids))
        .order_by(SessionLog.session_id, SessionLog.at, SessionLog.id)
    ):
        logs[entry.session_id].append(entry)
    for cs, agent, customer in sessions:
        refs = {m.id: _ref(m.external_id, m.id) for m, _ in messages[cs.id]}
        yield {
            "format": FORMAT,
            "external_id": _ref(cs.external_id, cs.id),
            "agent": agent,
            "channel": cs.channel,
            "customer": None
            if customer is None
            else {
                "external_id": _ref(customer.external_id, customer.id),
                "name": customer.name,
                "email": customer.email,
                "phone": customer.phone,
            },
            "started_at": _iso(cs.started_at),
            "finished_at": _iso(cs.finished_at),
            "status": cs.status,
            "mode": cs.mode,
            "parameters": cs.parameters or {},
            "results": cs.results or {},
            "ip": cs.ip,
            "messages": [
                _message(m, name, refs[m.id], files.get(m.id, [])) for m, name in messages[cs.id]
            ],
            "logs": [_log(e, refs) for e in logs[cs.id]],
        }


def _message(m: Message, user_name: str | None, ref: str, atts: list[Attachment]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "external_id": ref,
        "author": m.author_kind,
        "author_name": user_name or m.author_name,
        "text": m.text,
        "sent_at": _iso(m.sent_at),
        "delivery": None
        if not m.delivery_status
        else {"status": m.delivery_status, "at": _iso(m.delivery_at), "note": m.delivery_note},
        "reaction": m.reaction,
        "quick_replies": m.quick_replies,
        "template": m.is_template,
        "event": m.system_event,
        "event_data": m.event_data,
        "attachments": [
            {
                "file_name": a.file_name,
                "mime_type": a.mime_type,
                "content_base64": base64.b64encode(a.content).decode(),
            }
            for a in atts
            if a.content is not None and len(a.content) <= MAX_INLINE_BYTES
        ],
    }
    return out


def _log(e: SessionLog, refs: dict[int, str]) -> dict[str, Any]:
    return {
        "kind": e.kind,
        "at": _iso(e.at),
        "level": e.level,
        "text": e.text,
        "agent_name": e.agent_name,
        "prompt": e.prompt,
        "action": e.action,
        "action_input": e.action_input,
        "message_external_id": refs.get(e.message_id) if e.message_id else None,
    }


def _counted(
    docs: Iterator[dict[str, Any]], progress: Callable[[int], None]
) -> Iterator[dict[str, Any]]:
    for doc in docs:
        yield doc
        progress(1)


def _dumps(doc: dict[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def stream(
    db: Session,
    fmt: Format,
    *,
    actor: Actor,
    flt: SessionFilter | None = None,
    agent_id: int | None = None,
    now: dt.datetime,
    describe: str = "",
    progress: Callable[[int], None] | None = None,
) -> Iterator[bytes]:
    """The export as byte chunks (about one page of sessions each). The audit row is written
    first, in its own commit by the caller's session."""
    require(actor, Action.EXPORT)
    audit.record(
        db,
        actor,
        "sessions_exported",
        "tenant",
        actor.tenant_id,
        now=now,
        format=fmt,
        selection=describe,
    )
    db.commit()
    docs = documents(db, actor=actor, flt=flt, agent_id=agent_id)
    if progress is not None:
        docs = _counted(docs, progress)
    if fmt == "jsonl":
        buf: list[str] = []
        for doc in docs:
            buf.append(_dumps(doc) + "\n")
            if len(buf) >= 50:
                yield "".join(buf).encode()
                buf.clear()
        if buf:
            yield "".join(buf).encode()
    elif fmt == "json":
        yield b"["
        first = True
        for doc in docs:
            yield (("\n" if first else ",\n") + _dumps(doc)).encode()
            first = False
        yield b"\n]\n" if not first else b"]\n"
    else:
        yield "\ufeff".encode()  # a BOM, so that spreadsheets read UTF-8
        out = io.StringIO()
        w = csv.writer(out)
        w.writerow(CSV_COLUMNS)
        for doc in docs:
            customer = doc["customer"] or {}
            for n, m in enumerate(doc["messages"], 1):
                w.writerow(
                    [
                        doc["external_id"],
                        doc["agent"],
                        doc["channel"],
                        customer.get("name") or "",
                        doc["started_at"],
                        doc["finished_at"] or "",
                        doc["status"],
                        m["external_id"],
                        n,
                        m["author"],
                        m["author_name"] or "",
                        m["sent_at"],
                        m["text"],
                        (m["delivery"] or {}).get("status") or "",
                        m["reaction"] or "",
                        "; ".join(a["file_name"] for a in m["attachments"]),
                    ]
                )
            if out.tell() > 256 * 1024:
                yield out.getvalue().encode()
                out.seek(0)
                out.truncate()
        if out.tell():
            yield out.getvalue().encode()


def file_name(tenant: str, fmt: str, what: str, today: dt.date) -> str:
    """e.g. ``northwind-outfitters_agent-aria-support_2026-11-26.jsonl``."""

    def slug(s: str) -> str:
        return "-".join("".join(c if c.isalnum() else " " for c in s.lower()).split())[:60]

    return f"{slug(tenant)}_{slug(what)}_{today.isoformat()}.{fmt}"
