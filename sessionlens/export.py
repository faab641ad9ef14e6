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

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from db.models import Agent, Attachment, ChatSession, Customer, Message, SessionLog, User
from sessionlens import audit, timefmt
from sessionlens.chat import marker_words
from sessionlens.exchange import FORMAT, MAX_INLINE_BYTES
from sessionlens.filters import SessionFilter
from sessionlens.kinds import AuthorKind
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


_iso = timefmt.iso

#: What a spreadsheet reads as the start of a formula when a cell begins with it.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """A CSV cell a spreadsheet shows as the text it is: a customer's message, a name or a file
    name beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return would be run as a
    formula when the file is opened in Excel or LibreOffice (``=HYPERLINK(…)``, ``=cmd|…``), so it
    gets a leading apostrophe, which spreadsheets read as "this is text" and do not show.
    Everything else is written as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


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
    """One page of sessions. Plain rows, not ORM objects: an export reads hundreds of thousands
    of messages, and building an object for each costs more than reading it."""
    s, c = ChatSession, Customer
    sessions = db.execute(
        select(
            s.id,
            s.external_id,
            Agent.name,
            s.channel,
            c.id,
            c.external_id,
            c.name,
            c.email,
            c.phone,
            s.started_at,
            s.finished_at,
            s.status,
            s.mode,
            s.parameters,
            s.results,
            s.ip,
        )
        .join(Agent, Agent.id == s.agent_id)
        .outerjoin(c, c.id == s.customer_id)
        .where(s.tenant_id == actor.tenant_id, s.id.in_(ids))
        .order_by(s.id)
    ).all()
    m = Message
    messages: dict[int, list[Any]] = defaultdict(list)
    for row in db.execute(
        select(
            m.session_id,
            m.id,
            m.external_id,
            m.author_kind,
            func.coalesce(User.name, m.author_name),
            m.text,
            m.sent_at,
            m.delivery_status,
            m.delivery_at,
            m.delivery_note,
            m.reaction,
            m.quick_replies,
            m.is_template,
            m.system_event,
            m.event_data,
        )
        .outerjoin(User, User.id == m.author_user_id)
        .where(m.tenant_id == actor.tenant_id, m.session_id.in_(ids))
        .order_by(m.session_id, m.seq)
    ):
        messages[row[0]].append(row)
    files: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for mid, name, mime, content in db.execute(
        select(
            Attachment.message_id, Attachment.file_name, Attachment.mime_type, Attachment.content
        )
        .where(
            Attachment.tenant_id == actor.tenant_id,
            Attachment.session_id.in_(ids),
            Attachment.message_id.is_not(None),
        )
        .order_by(Attachment.id)
    ):
        if content is not None and len(content) <= MAX_INLINE_BYTES:
            files[mid or 0].append(
                {
                    "file_name": name,
                    "mime_type": mime,
                    "content_base64": base64.b64encode(content).decode(),
                }
            )
    logs: dict[int, list[Any]] = defaultdict(list)
    g = SessionLog
    log_rows = db.execute(
        select(
            g.session_id,
            g.kind,
            g.at,
            g.level,
            g.text,
            g.agent_name,
            g.prompt,
            g.action,
            g.action_input,
            g.message_id,
        )
        .where(g.tenant_id == actor.tenant_id, g.session_id.in_(ids))
        .order_by(g.session_id, g.at, g.id)
    )
    for log_row in log_rows:
        logs[log_row[0]].append(log_row)
    for (
        sid,
        ext,
        agent,
        channel,
        cid,
        cext,
        cname,
        cemail,
        cphone,
        started,
        finished,
        status,
        mode,
        parameters,
        results,
        ip,
    ) in sessions:
        refs = {r[1]: _ref(r[2], r[1]) for r in messages[sid]}
        yield {
            "format": FORMAT,
            "external_id": _ref(ext, sid),
            "agent": agent,
            "channel": channel,
            "customer": None
            if cid is None
            else {"external_id": _ref(cext, cid), "name": cname, "email": cemail, "phone": cphone},
            "started_at": _iso(started),
            "finished_at": _iso(finished),
            "status": status,
            "mode": mode,
            "parameters": parameters or {},
            "results": results or {},
            "ip": ip,
            "messages": [_message(r, refs[r[1]], files.get(r[1], [])) for r in messages[sid]],
            "logs": [_log(r, refs) for r in logs[sid]],
        }


def _message(r: Any, ref: str, atts: list[dict[str, Any]]) -> dict[str, Any]:
    (
        _,
        _,
        _,
        kind,
        author,
        text,
        sent,
        d_status,
        d_at,
        d_note,
        reaction,
        quick,
        template,
        event,
        data,
    ) = r
    return {
        "external_id": ref,
        "author": kind,
        "author_name": author,
        "text": text,
        "sent_at": _iso(sent),
        "delivery": None
        if not d_status
        else {"status": d_status, "at": _iso(d_at), "note": d_note},
        "reaction": reaction,
        "quick_replies": quick,
        "template": template,
        "event": event,
        "event_data": data,
        "attachments": atts,
    }


def _log(r: Any, refs: dict[int, str]) -> dict[str, Any]:
    _, kind, at, level, text, agent, prompt, action, action_input, message_id = r
    return {
        "kind": kind,
        "at": _iso(at),
        "level": level,
        "text": text,
        "agent_name": agent,
        "prompt": prompt,
        "action": action,
        "action_input": action_input,
        "message_external_id": refs.get(message_id) if message_id else None,
    }


def _dumps(doc: dict[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def _counted(
    docs: Iterator[dict[str, Any]], progress: Callable[[int], None]
) -> Iterator[dict[str, Any]]:
    for doc in docs:
        yield doc
        progress(1)


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
                    csv_cell(v)
                    for v in [
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
                        # A marker's row reads as the chat's grey line does (its text is empty).
                        marker_words(m["event"], m["event_data"], m["text"], m["sent_at"])
                        if m["author"] == AuthorKind.SYSTEM
                        else m["text"],
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
