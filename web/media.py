"""A voice session's recording, streamed to the console's player and its "Download recording", and
a chat's files, to their cards' "Download" and to the full-size view of a chat's picture.

``GET /recordings/{id}?ticket=…`` (``&download=1`` for a download) and ``GET /files/{id}?ticket=…``
(a download; ``&view=1`` shows a picture in place when it is PNG, JPEG, GIF or WebP). The page
signs the ticket for the user who sees the session (``sessionlens.auth.issue_ticket``, valid
``chat.FILE_LINK_MINUTES``), so the routes work whichever way they signed in; when the ticket is
used, the domain checks that the user is still active and may read the tenant's sessions. The
file is read from the blob store a chunk at a time, from where a ``Range`` request asks: a
listener who jumps to minute 40 of a two-hour call gets the bytes from there, and no process
holds the whole file.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from sessionlens import file_links, media, strict
from sessionlens.chat import StoredFile
from sessionlens.errors import DomainError, NotFound, PermissionDenied
from sessionlens.file_links import Kind
from web.db import sessions
from web.problems import problem

_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


class Unsatisfiable(Exception):
    """A ``Range`` that starts past the end of the file (answered 416)."""


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The first and last byte a ``Range`` header asks for, or None for the whole file. Only a
    single range of bytes is served as a range; a header that is not one (several ranges, another
    unit, nonsense) gets the whole file, as HTTP allows."""
    m = _RANGE.fullmatch((header or "").strip())
    if m is None or not (m[1] or m[2]) or len(m[1]) > 18 or len(m[2]) > 18:
        return None
    if not m[1]:  # the last N bytes
        suffix = int(m[2])
        if suffix == 0 or size == 0:
            raise Unsatisfiable
        return max(0, size - suffix), size - 1
    first = int(m[1])
    last = int(m[2]) if m[2] else size - 1
    if m[2] and last < first:
        return None  # not a range
    if first >= size:
        raise Unsatisfiable
    return first, min(last, size - 1)


def disposition(kind: str, file_name: str) -> str:
    """A Content-Disposition header naming the uploaded file (the uploader's text): an ASCII
    fallback with quotes, backslashes and control characters replaced, and the name in UTF-8."""
    fallback = "".join(c if " " <= c < "\x7f" and c not in '"\\' else "_" for c in file_name)
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(file_name, safe='')}"


def _part(chunks: Iterator[bytes], length: int) -> Iterator[bytes]:
    """The first ``length`` bytes of ``chunks``."""
    for chunk in chunks:
        if length <= 0:
            return
        yield chunk[:length]
        length -= len(chunk)


async def recording(request: Request) -> Response:
    """The recording a page's ticket names, whole or the byte range asked for."""
    return await _serve(request, "recording")


async def file(request: Request) -> Response:
    """A file of a chat (a message's attachment) a page's ticket names, as a download."""
    return await _serve(request, "file")


def _presented(kind: Kind, mime: str, asked: Mapping[str, str]) -> tuple[str, str]:
    """How a file goes out (its Content-Disposition and type). Shown in place: a recording the
    browser plays, and a chat's picture asked for with ``view=1`` in a format every browser
    shows. Otherwise a download, which the browser never shows, so it keeps its type when one
    was asked for (a chat's file always is); a recording in no playable format that was not
    asked to download goes as bytes no browser renders."""
    if asked.get("download") != "1":
        if kind == "recording" and mime.startswith(("audio/", "video/")):
            return "inline", mime
        if kind == "file" and asked.get("view") == "1" and media.shown_as_is(mime):
            return "inline", mime
    if kind == "file" or asked.get("download") == "1":
        return "attachment", mime
    return "attachment", media.OCTET_STREAM


async def _serve(request: Request, kind: Kind) -> Response:
    noun = kind.capitalize()
    raw = request.path_params.get("attachment_id", "")
    try:
        attachment_id = strict.ident(raw, kind, big=True)
    except DomainError:
        return problem(404, f"{noun} {strict.quote(raw)} not found")
    ticket = request.query_params.get("ticket", "")
    now = dt.datetime.now(dt.UTC)

    def prepare() -> StoredFile | None:
        with sessions()() as db:
            return file_links.opened(db, kind, attachment_id, ticket, now=now)

    try:
        got = await run_in_threadpool(prepare)
    except NotFound as err:
        return problem(404, str(err))
    except PermissionDenied as err:  # a role taken away since the page was drawn
        return problem(403, str(err))
    if got is None:
        return problem(401, f"This {kind}'s link has expired: open the session again")
    how, media_type = _presented(kind, got.mime_type, request.query_params)
    headers = {
        "Accept-Ranges": "bytes",
        "Content-Disposition": disposition(how, got.file_name),
        # The ticket makes the address this user's; a reload or a seek may reuse what was read.
        "Cache-Control": "private, max-age=3600",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox",  # never a page of this site, whatever was uploaded
    }
    try:
        span = byte_range(request.headers.get("range"), got.size)
    except Unsatisfiable:
        return Response(
            status_code=416, headers={**headers, "Content-Range": f"bytes */{got.size}"}
        )
    if span is None:
        first, last, status = 0, got.size - 1, 200
    else:
        (first, last), status = span, 206
        headers["Content-Range"] = f"bytes {first}-{last}/{got.size}"
    length = last - first + 1
    headers["Content-Length"] = str(length)
    if request.method == "HEAD":
        return Response(status_code=status, headers=headers, media_type=media_type)
    return StreamingResponse(
        _part(got.chunks(first), length), status_code=status, headers=headers, media_type=media_type
    )
