"""The HTTP API an agent runtime writes to, under ``/api/v1/``, and the health checks.

Every ``/api/v1/`` request presents a tenant's API key (``Authorization: Bearer slk_...``) and acts
in that tenant only: another tenant's session is "not found". A request body is checked whole
before anything is written, and written in one transaction, so a bad batch leaves nothing behind.
Errors are JSON: ``{"error": "...", "errors": ["$.messages[3].sent_at: not a datetime", ...]}``.

| method and path | body | does |
|---|---|---|
| ``POST /api/v1/sessions`` | a session-v1 document | create it, or bring it up to date (201 / 200) |
| ``POST /api/v1/sessions/{id}/messages`` | ``{"messages": [...]}`` or one message | append |
| ``POST /api/v1/sessions/{id}/logs`` | ``{"logs": [...]}`` | append System Logs lines, trace calls |
| ``PATCH /api/v1/sessions/{id}`` | ``{"parameters"?, "results"?, "status"?}`` | set them |
| ``POST /api/v1/sessions/{id}/finish`` | ``{"finished_at"?, "status"?}`` | finish |
| ``POST /api/v1/sessions/{id}/handover`` | ``{"trigger", "reason"}`` | hand over to a human |
| ``POST /api/v1/sessions/{id}/assignee`` | ``{"is_bot": false}`` | Intercom assignee change |
| ``GET /recordings/{id}`` | ``?ticket=…&download=1`` | a recording for the console's player (``web/media.py``) |
| ``GET /files/{id}`` | ``?ticket=…`` | a chat's file for its card's Download (``web/media.py``) |
| ``GET /api/v1/sessions/export`` | ``?format=json|jsonl|csv&agent=NAME`` | stream an export |
| ``POST /api/v1/recordings`` | the audio file; ``?agent=NAME&file_name=call.wav&channel=sip&external_id=ID`` | a voice session, transcription queued (201); the same ``external_id`` again: the session there (200) |
| ``GET /api/v1/jobs/{job_id}`` | | a transcription's status, progress and error |
| ``GET /healthz``, ``GET /readyz`` | | the process is up; the database answers and is current |
| ``GET /metrics`` | | Prometheus metrics (``SESSIONLENS_METRICS_TOKEN``: a bearer token) |

``{id}`` is the runtime's own session id (the document's ``external_id``).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Match, Route

from db.models import Tenant
from sessionlens import (
    access,
    admin,
    exchange,
    export,
    file_links,
    geo,
    human_agents,
    importer,
    ingest,
    jobs,
    logfmt,
    metrics,
    strict,
    timefmt,
)
from sessionlens.blobs import default_store
from sessionlens.errors import BadInput, DomainError, NotFound, PermissionDenied, RuleViolation
from sessionlens.permissions import Actor
from sessionlens.settings import get_settings
from sessionlens.strict import MAX_BIG_ID
from web import media
from web.db import RETRY_AFTER_SECONDS, sessions
from web.problems import problem

T = TypeVar("T")
log = logging.getLogger("sessionlens.api")


@cache
def _locate(path: str | None) -> Callable[[str | None], geo.Location]:
    return geo.get_locator(path).locate


def _key(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


async def _raw(request: Request) -> bytes:
    """The request body, refused past SESSIONLENS_MAX_UPLOAD_MB before it is all read."""
    limit = get_settings().max_upload_mb * 1024 * 1024
    declared = request.headers.get("content-length")
    if declared and declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise _TooLarge(limit)
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > limit:
            raise _TooLarge(limit)
    return bytes(raw)


async def _body(request: Request, model: type[exchange.M]) -> tuple[exchange.M, int]:
    """The request's body checked as ``model``, and its size in bytes."""
    raw = await _raw(request)
    data = exchange.loads(raw)
    if model is exchange.MessagesIn and isinstance(data, dict) and "messages" not in data:
        data = {"messages": [data]}  # one message on its own
        try:
            return exchange.parse(model, data), len(raw)
        except exchange.Invalid as err:  # name paths as the caller wrote them
            raise exchange.Invalid(
                [e.replace("$.messages[0]", "$", 1) for e in err.errors]
            ) from None
    return exchange.parse(model, data), len(raw)


class _TooLarge(Exception):
    def __init__(self, limit: int):
        self.limit = limit


#: Requests with a body up to this many bytes run on the event loop instead of a worker thread.
#: 0 (never) where the routes share a process with Streamlit, whose event loop must not wait on
#: the database; ``web/asgi.py`` (the API on its own) sets ``API_ONLY_INLINE_BODY_BYTES``. There
#: a live append's transaction takes about 2 ms, and handing it to a thread and back cost 0.3 ms
#: of CPU in thread switches and GIL hand-offs (server CPU per append under 4 clients: 1.68 ms
#: with the thread, 1.37 ms without); a big batch or import still goes to a thread, so it does
#: not hold up the small ones for long.
INLINE_BODY_BYTES = 0
API_ONLY_INLINE_BODY_BYTES = 64 * 1024


async def _run(
    request: Request, work: Callable[[Session, Actor], T], *, body_bytes: int | None = None
) -> T | Response:
    """Authenticate, run ``work`` in one transaction in a worker thread (on the event loop for a
    small body where ``INLINE_BODY_BYTES`` allows it); errors as JSON."""
    key = _key(request)
    if key is None:
        return problem(401, "An API key is needed: Authorization: Bearer <key>")

    def call() -> T | Response:
        with sessions()() as db, db.begin():
            actor = admin.api_actor(db, key)
            if actor is None:
                return problem(401, "This API key is unknown or revoked")
            return work(db, actor)

    try:
        if body_bytes is not None and body_bytes <= INLINE_BODY_BYTES:
            return call()
        return await run_in_threadpool(call)
    except exchange.Invalid as err:
        return problem(422, str(err), err.errors)
    except NotFound as err:
        return problem(404, str(err))
    except PermissionDenied as err:
        return problem(403, str(err))
    except RuleViolation as err:
        return problem(409, str(err))
    except (BadInput, DomainError) as err:
        return problem(422, str(err))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _written(w: ingest.Written) -> dict[str, Any]:
    return {
        "external_id": w.external_id,
        "created": w.created,
        "messages_added": w.messages_added,
        "messages_skipped": w.messages_skipped,
        "logs_added": w.logs_added,
        "mode": w.mode,
        "finished": w.finished,
        "ai_answers": w.ai_answers,
    }


async def _with_body(
    request: Request, model: type[exchange.M], work: Callable[[Session, Actor, exchange.M], T]
) -> T | Response:
    if _key(request) is None:
        return problem(401, "An API key is needed: Authorization: Bearer <key>")
    try:
        body, size = await _body(request, model)
    except exchange.Invalid as err:
        return problem(422, str(err), err.errors)
    except _TooLarge as err:
        return problem(413, f"The request is larger than {err.limit // (1024 * 1024)} MB")
    return await _run(request, lambda db, actor: work(db, actor, body), body_bytes=size)


async def create_session(request: Request) -> Response:
    locate = _locate(str(get_settings().geoip_path) if get_settings().geoip_path else None)

    def work(db: Session, actor: Actor, doc: exchange.SessionIn) -> Response:
        w = ingest.upsert_session(db, doc, actor=actor, now=_now(), locate=locate)
        return JSONResponse(_written(w), status_code=201 if w.created else 200)

    return await _with_body(request, exchange.SessionIn, work)


async def add_messages(request: Request) -> Response:
    sid = request.path_params["external_id"]

    def work(db: Session, actor: Actor, body: exchange.MessagesIn) -> Response:
        return JSONResponse(_written(ingest.append_messages(db, sid, body.messages, actor=actor)))

    return await _with_body(request, exchange.MessagesIn, work)


async def add_logs(request: Request) -> Response:
    sid = request.path_params["external_id"]

    def work(db: Session, actor: Actor, body: exchange.LogsIn) -> Response:
        return JSONResponse({"logs_added": ingest.append_logs(db, sid, body.logs, actor=actor)})

    return await _with_body(request, exchange.LogsIn, work)


async def session_state(request: Request) -> Response:
    """The session as it is now: above all whether the runtime's AI is to answer in it
    (``ai_answers``; not after a hand-over, made here or in the console, nor once finished)."""
    sid = request.path_params["external_id"]

    def work(db: Session, actor: Actor) -> Response:
        now = ingest.state(db, sid, actor=actor)
        return JSONResponse(
            {
                "external_id": now.external_id,
                "agent": now.agent,
                "channel": now.channel,
                "status": now.status,
                "mode": now.mode,
                "ai_answers": now.ai_answers,
                "assignee": now.assignee,
                "started_at": timefmt.iso(now.started_at),
                "finished_at": timefmt.iso(now.finished_at) if now.finished_at else None,
                "last_message_at": timefmt.iso(now.last_message_at),
                "message_count": now.message_count,
                "parameters": now.parameters,
                "results": now.results,
            }
        )

    return await _run(request, work)


async def set_fields(request: Request) -> Response:
    sid = request.path_params["external_id"]

    def work(db: Session, actor: Actor, body: exchange.FieldsIn) -> Response:
        ingest.set_fields(db, sid, body, actor=actor)
        return JSONResponse({"external_id": sid, "updated": True})

    return await _with_body(request, exchange.FieldsIn, work)


async def finish(request: Request) -> Response:
    sid = request.path_params["external_id"]

    def work(db: Session, actor: Actor, body: exchange.FinishIn) -> Response:
        ingest.finish(db, sid, body, actor=actor, now=_now())
        return JSONResponse({"external_id": sid, "finished": True})

    return await _with_body(request, exchange.FinishIn, work)


async def handover(request: Request) -> Response:
    sid = request.path_params["external_id"]

    def work(db: Session, actor: Actor, body: exchange.HandoverIn) -> Response:
        ingest.request_handover(db, sid, body, actor=actor, now=_now())
        return JSONResponse({"external_id": sid, "mode": "human"})

    return await _with_body(request, exchange.HandoverIn, work)


async def assignee(request: Request) -> Response:
    sid = request.path_params["external_id"]

    def work(db: Session, actor: Actor, body: exchange.AssigneeIn) -> Response:
        moved = ingest.intercom_assignee(db, sid, is_bot=body.is_bot, actor=actor, now=_now())
        return JSONResponse({"external_id": sid, "handed_over": moved})

    return await _with_body(request, exchange.AssigneeIn, work)


async def outbox(request: Request) -> Response:
    """Human agents' replies waiting for the runtime to deliver them, oldest first."""
    try:
        after = strict.count(request.query_params.get("after", "0"), "after", limit=MAX_BIG_ID)
        limit = strict.count(request.query_params.get("limit", "100"), "limit", limit=1000, least=1)
    except BadInput as err:
        return problem(422, str(err))

    def work(db: Session, actor: Actor) -> Response:
        items = human_agents.outbox(db, actor=actor, after=after, limit=limit)
        return JSONResponse(
            {
                "messages": [
                    {
                        "id": i.id,
                        "session_external_id": i.session_external_id,
                        "channel": i.channel,
                        "text": i.text,
                        "author_name": i.author_name,
                        "sent_at": timefmt.iso(i.sent_at),
                    }
                    for i in items
                ],
                "next_after": items[-1].id if items else after,
            }
        )

    return await _run(request, work)


def _path_id(request: Request, name: str, noun: str) -> int | Response:
    """The id in the path, or the 404 of an id that cannot exist (not ASCII digits, too large
    for the column)."""
    raw = request.path_params[name]
    try:
        return strict.ident(raw, noun, big=True)
    except BadInput:
        return problem(404, f"{noun} {strict.quote(raw)} not found")


async def delivery(request: Request) -> Response:
    message_id = _path_id(request, "message_id", "Message")
    if isinstance(message_id, Response):
        return message_id

    def work(db: Session, actor: Actor, body: exchange.DeliveryReportIn) -> Response:
        human_agents.report_delivery(
            db,
            actor=actor,
            message_id=message_id,
            status=body.status,
            note=body.note,
            at=body.at or _now(),
        )
        return JSONResponse({"id": message_id, "delivery_status": body.status})

    return await _with_body(request, exchange.DeliveryReportIn, work)


async def export_sessions(request: Request) -> Response:
    raw = request.query_params.get("format", "jsonl")
    fmt = next((f for f in export.FORMATS if f == raw), None)
    if fmt is None:
        return problem(422, f"format: not one of {', '.join(export.FORMATS)}")
    agent_name = request.query_params.get("agent")

    def prepare(db: Session, actor: Actor) -> tuple[Actor, int | None, str]:
        agent_id = access.agent_id(db, actor, agent_name) if agent_name else None
        tenant = db.get_one(Tenant, actor.tenant_id).name
        return actor, agent_id, tenant

    got = await _run(request, prepare)
    if isinstance(got, Response):
        return got
    actor, agent_id, tenant = got
    what = f"agent {agent_name}" if agent_name else "all sessions"
    return stream_export(actor, fmt, agent_id=agent_id, tenant=tenant, what=what)


def stream_export(
    actor: Actor,
    fmt: export.Format,
    *,
    agent_id: int | None,
    tenant: str,
    what: str,
    flt: Any = None,
) -> StreamingResponse:
    """The export as a download, read from the database while it is sent."""

    def chunks() -> Iterator[bytes]:
        with sessions()() as db:
            yield from export.stream(
                db,
                fmt,
                actor=actor,
                flt=flt,
                agent_id=agent_id,
                now=_now(),
                describe=what,
            )

    name = export.file_name(tenant, fmt, what, dt.date.today())
    mime = {"json": "application/json", "jsonl": "application/x-ndjson", "csv": "text/csv"}[fmt]
    return StreamingResponse(
        chunks(),
        media_type=f"{mime}; charset=utf-8",
        # the name holds the tenant's and agent's names, in any script: UTF-8, with a fallback
        headers={"Content-Disposition": media.disposition("attachment", name)},
    )


async def download_export(request: Request) -> Response:
    """The console's Export sessions: a ticket signed by the page names the user and what to
    export (an agent, or the filters shown); no API key, whichever way the user signed in."""
    from sessionlens import auth, filter_query

    ticket = request.query_params.get("ticket", "")

    def prepare() -> tuple[Actor, dict[str, Any], str, list[str]] | None:
        with sessions()() as db:
            held = auth.ticket_holder(
                db,
                ticket,
                secret=auth.app_secret(),
                now=_now(),
            )
            if held is None:
                return None
            actor, what = held
            t = db.get_one(Tenant, actor.tenant_id)
            return actor, what, t.name, [f["key"] for f in t.result_fields]

    got = await run_in_threadpool(prepare)
    if got is None:
        return problem(401, "This export link has expired: export again from the Sessions page")
    actor, what, tenant, result_keys = got
    fmt: export.Format = next((f for f in export.FORMATS if f == what.get("format")), "jsonl")
    if "agent_id" in what:
        return stream_export(
            actor, fmt, agent_id=int(what["agent_id"]), tenant=tenant, what=f"agent {what['label']}"
        )
    try:
        flt = filter_query.parse(what.get("query") or {}, what.get("tz") or "UTC", result_keys)
    except DomainError as err:
        return problem(422, str(err))
    return stream_export(actor, fmt, agent_id=None, tenant=tenant, what=what["label"], flt=flt)


async def import_recording(request: Request) -> Response:
    """A call recording from the runtime's telephony: a voice session whose transcript a worker
    writes; poll ``GET /api/v1/jobs/{job_id}`` for its progress."""
    q = request.query_params
    agent_name, file_name, channel = q.get("agent"), q.get("file_name"), q.get("channel", "sip")
    missing = [n for n, v in (("agent", agent_name), ("file_name", file_name)) if not v]
    if missing:
        return problem(422, f"Query parameters needed: {', '.join(missing)}")
    if _key(request) is None:
        return problem(401, "An API key is needed: Authorization: Bearer <key>")
    try:
        data = await _raw(request)
    except _TooLarge as err:
        return problem(413, f"The recording is larger than {err.limit // (1024 * 1024)} MB")

    external_id = q.get("external_id")

    def work(db: Session, actor: Actor) -> Response:
        if external_id and (seen := importer.recorded(db, actor=actor, external_id=external_id)):
            # Sent again (a retry after a timeout): the call is there already, once.
            session_id, job = seen
            return JSONResponse(
                {
                    "session_id": session_id,
                    "job_id": job.id if job else None,
                    "status": job.status if job else None,
                    "created": False,
                }
            )
        done = importer.import_recording(
            db,
            actor=actor,
            data=data,
            filename=file_name or "",
            agent_id=access.agent_id(db, actor, agent_name or ""),
            channel=channel,
            store=default_store(),
            settings=get_settings(),
            now=_now(),
            external_id=external_id,
        )
        return JSONResponse(
            {
                "session_id": done.session_id,
                "job_id": done.job_id,
                "status": "queued",
                "created": True,
                "duration_seconds": round(done.info.duration, 2),
            },
            status_code=201,
        )

    return await _run(request, work)


async def job_state(request: Request) -> Response:
    job_id = _path_id(request, "job_id", "Job")
    if isinstance(job_id, Response):
        return job_id

    def work(db: Session, actor: Actor) -> Response:
        job = jobs.get(db, job_id, actor=actor)
        return JSONResponse(
            {
                "id": job.id,
                "session_id": job.session_id,
                "kind": job.kind,
                "status": job.status,
                "attempts": job.attempts,
                "progress": round(job.progress, 3),
                "error": job.error,
                "finished_at": timefmt.iso(job.finished_at) if job.finished_at else None,
            }
        )

    return await _run(request, work)


@cache
def _watch_queue() -> None:
    metrics.watch_queue(lambda: sessions()())  # the configured database at each scrape


async def metrics_page(request: Request) -> Response:
    """Prometheus metrics: this process's counters, and the queue read from the database."""
    token = get_settings().metrics_token
    if token and _key(request) != token:
        return problem(401, "Metrics need the token of SESSIONLENS_METRICS_TOKEN (Bearer)")
    _watch_queue()
    body = await run_in_threadpool(metrics.exposition)
    return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    def check() -> dict[str, Any]:
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory

        from db.migrate import alembic_config

        with sessions()() as db:
            conn = db.connection()
            conn.execute(text("SELECT 1"))
            current = MigrationContext.configure(conn).get_current_revision()
        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        return {"database": "ok", "revision": current, "head": head}

    try:
        state = await run_in_threadpool(check)
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"; say which kind
        return JSONResponse({"status": "unavailable", "error": type(exc).__name__}, status_code=503)
    if state["revision"] != state["head"]:
        return JSONResponse({"status": "migrations pending", **state}, status_code=503)
    return JSONResponse({"status": "ready", **state})


def _counted(
    path: str, endpoint: Callable[[Request], Awaitable[Response]]
) -> Callable[[Request], Awaitable[Response]]:
    """``endpoint``, counted in sessionlens_api_requests_total by its route template (not the
    path, which names sessions) and logged with the runtime's session id."""

    async def counted(request: Request) -> Response:
        started, status = time.perf_counter(), 500
        with logfmt.context(session_id=request.path_params.get("external_id")):
            try:
                try:
                    response = await endpoint(request)
                except OperationalError:
                    # The database is down, restarting or refusing connections: the runtime
                    # should send the same request again shortly (what it wrote is all or nothing).
                    log.exception("%s %s: the database is unavailable", request.method, path)
                    response = problem(503, "The database is unavailable just now; retry shortly")
                    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
                except Exception:  # noqa: BLE001 - logged in full; the caller gets JSON, not text
                    log.exception("%s %s failed", request.method, path)
                    response = problem(500, "Internal error; the server log has the details")
                status = response.status_code
                return response
            finally:
                metrics.API_REQUESTS.labels(request.method, path, str(status)).inc()
                log.log(
                    logging.DEBUG if path in _PROBES else logging.INFO,
                    "%s %s %s",
                    request.method,
                    path,
                    status,
                    extra={
                        "status": status,
                        "ms": round(1000 * (time.perf_counter() - started), 1),
                    },
                )

    return counted


#: Asked every few seconds by load balancers and Prometheus: logged at DEBUG only.
_PROBES = frozenset({"/healthz", "/readyz", "/metrics"})


def routes() -> list[BaseRoute]:
    served = [
        Route(path, _counted(path.replace(":path}", "}"), endpoint), methods=methods)
        for path, endpoint, methods in _ROUTES
    ]
    return [*served, _unknown_api_route(served)]


_ANY_METHOD = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def _unknown_api_route(served: list[Route]) -> Route:
    """Every other request under /api/ gets a JSON answer: 404 for a path the API does not have,
    405 with ``Allow`` for a method its path does not take. Without it, in the app's server a GET
    fell through to Streamlit's page route and an agent runtime with a wrong URL or method was
    answered 200 with the console's HTML."""

    async def unknown(request: Request) -> Response:
        allowed = sorted(
            {
                method
                for route in served
                for method in route.methods or ()
                if route.matches({**request.scope, "method": method})[0] == Match.FULL
            }
        )
        where = f"{request.method} {request.url.path}"
        if not allowed:
            return problem(404, f"No such API endpoint: {where}")
        response = problem(405, f"{where} is not allowed; use {', '.join(allowed)}")
        response.headers["Allow"] = ", ".join(allowed)
        return response

    return Route("/api/{rest:path}", _counted("/api/{rest}", unknown), methods=_ANY_METHOD)


_BASE = "/api/v1/sessions"
# A runtime's session id is its own text and may hold a slash (an e-mail thread's Message-ID,
# "whatsapp/4915112345"): ``:path`` takes it whole, sent as is or percent-encoded ("%2F"), so a
# session the API created can always be appended to.
_ROUTES: list[tuple[str, Callable[[Request], Awaitable[Response]], list[str]]] = [
    ("/healthz", healthz, ["GET"]),
    ("/metrics", metrics_page, ["GET"]),
    ("/export/sessions", download_export, ["GET"]),
    (f"{file_links.PATHS['recording']}/{{attachment_id}}", media.recording, ["GET"]),
    (f"{file_links.PATHS['file']}/{{attachment_id}}", media.file, ["GET"]),
    ("/readyz", readyz, ["GET"]),
    (f"{_BASE}/export", export_sessions, ["GET"]),
    ("/api/v1/outbox", outbox, ["GET"]),
    ("/api/v1/messages/{message_id}/delivery", delivery, ["POST"]),
    ("/api/v1/recordings", import_recording, ["POST"]),
    ("/api/v1/jobs/{job_id}", job_state, ["GET"]),
    (_BASE, create_session, ["POST"]),
    (f"{_BASE}/{{external_id:path}}/messages", add_messages, ["POST"]),
    (f"{_BASE}/{{external_id:path}}/logs", add_logs, ["POST"]),
    (f"{_BASE}/{{external_id:path}}", set_fields, ["PATCH"]),
    (f"{_BASE}/{{external_id:path}}", session_state, ["GET"]),
    (f"{_BASE}/{{external_id:path}}/finish", finish, ["POST"]),
    (f"{_BASE}/{{external_id:path}}/handover", handover, ["POST"]),
    (f"{_BASE}/{{external_id:path}}/assignee", assignee, ["POST"]),
]
