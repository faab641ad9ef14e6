"""Custom components' files, compressed once per process and cached by the browser.

Streamlit 1.67 serves a custom component's files (``/component/<name>/<file>``; the sessions
grid's AG Grid bundle is 4.7 MB of JavaScript) with ``Cache-Control: public`` and no validator,
so a browser asks for them again on every page load, and its gzip middleware compresses them
again for every request: about 100 ms of the server's CPU for the grid's bundle, on the event loop
that also carries every open page's websocket, and 1.3 MB over the wire before the table can show
a row (measured in docs/engineering-notes.md, "The grid's bundle on every load").

This middleware answers those requests from memory after the first: the file as Streamlit served
it (its checks of the path and the component stay Streamlit's), compressed once, with an ``ETag``.
A name with a content hash in it (``main.f4bb7ae6.js``: a new build is a new name) is marked
``immutable`` for a year, so a reload does not ask at all; any other file (``bootstrap.min.css``)
is ``no-cache``, so a reload asks and gets ``304 Not Modified``. HTML (a component's
``index.html``, the frame's document) is left to Streamlit, as are ranges, cross-origin requests
(their ``Access-Control-Allow-Origin`` depends on the request), anything but a 200, and an
answer marked private, not to be stored or varying with the request; a cookie set with a file
goes to the browser it was set for and is not kept. A process keeps what it served until it
stops: a reinstalled component is seen after a restart.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import re
from dataclasses import dataclass

import anyio
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# A content hash in the file name, as bundlers write it (main.f4bb7ae6.js, 453.1a2b3c4d.chunk.js).
_HASHED = re.compile(r"\.[0-9a-f]{8,}(\.chunk)?\.(js|css|mjs)$")
_COMPRESSIBLE = re.compile(rb"^(text/|application/(javascript|json|xml)|image/svg)")
_YEAR = b"public, max-age=31536000, immutable"
# What one process keeps: the grid's bundle and its stylesheets are about 6 MB with their
# compressed copies; a file past MAX_FILE (a source map) is served by Streamlit every time. A path
# Streamlit answers under two spellings is kept twice, within MAX_TOTAL.
MAX_FILE = 16 * 2**20
MAX_TOTAL = 64 * 2**20
# Not kept with a file: the headers this module writes, and a cookie, which belongs to the
# browser that first asked (a middleware that refreshes its cookie on every response would set it
# on a component's file too: kept, it would go to every later browser, signed in as that one).
_NOT_KEPT = {
    b"cache-control",
    b"content-length",
    b"content-encoding",
    b"etag",
    b"vary",
    b"set-cookie",
}


@dataclass(frozen=True)
class _Asset:
    headers: list[tuple[bytes, bytes]]  # Streamlit's, less _NOT_KEPT
    body: bytes
    gzipped: bytes | None
    tag: str  # the ETag's value without quotes, of the uncompressed body
    immutable: bool

    def etag(self, gzipped: bool) -> bytes:
        return f'"{self.tag}{"-gz" if gzipped else ""}"'.encode()


class ComponentAssets:
    """ASGI middleware for the files under ``<base>/component/``; see the module's docstring."""

    def __init__(self, app: ASGIApp, base_url: str | None = None) -> None:
        self.app = app
        self._base_url = base_url
        self._cache: dict[str, _Asset] = {}
        self._size = 0

    @functools.cached_property
    def _prefix(self) -> str:
        """Where components' files are served; the server's base path is read on the first
        request, once the server has its config."""
        if self._base_url is None:
            from streamlit import config

            self._base_url = config.get_option("server.baseUrlPath") or ""
        base = self._base_url.strip("/")
        return f"/{base}/component/" if base else "/component/"

    def _cacheable(self, scope: Scope) -> bool:
        if scope["type"] != "http" or scope["method"] != "GET":
            return False
        path: str = scope["path"]
        if not path.startswith(self._prefix) or path.endswith((".html", "/")):
            return False
        headers = Headers(scope=scope)
        return "range" not in headers and "origin" not in headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._cacheable(scope):
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        asset = self._cache.get(path)
        cookies: list[tuple[bytes, bytes]] = []
        if asset is None:
            fetched = await self._fetch(scope, receive, send)
            if fetched is None:
                return  # Streamlit's answer was sent as it was
            asset, cookies = fetched
        await _answer(asset, Headers(scope=scope), send, cookies)

    async def _fetch(
        self, scope: Scope, receive: Receive, send: Send
    ) -> tuple[_Asset, list[tuple[bytes, bytes]]] | None:
        """Streamlit's answer to the request, asked for uncompressed, kept when it is a file; and
        the cookies it set, for this browser alone."""
        plain = [(k, v) for k, v in scope["headers"] if k.lower() != b"accept-encoding"]
        start: Message = {}
        chunks: list[bytes] = []

        async def keep(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app({**scope, "headers": plain}, receive, keep)
        body = b"".join(chunks)
        status = start.get("status")
        headers: list[tuple[bytes, bytes]] = list(start.get("headers", []))
        named = Headers(raw=headers)
        if status != 200 or len(body) > MAX_FILE or not _shared(named):
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return None
        kind = named.get("content-type", "").encode()
        gzipped = None
        if len(body) >= 500 and _COMPRESSIBLE.match(kind):
            gzipped = await anyio.to_thread.run_sync(_gzip, body)
        asset = _Asset(
            headers=[(k, v) for k, v in headers if k.lower() not in _NOT_KEPT],
            body=body,
            gzipped=gzipped,
            tag=hashlib.blake2b(body, digest_size=12).hexdigest(),
            immutable=bool(_HASHED.search(scope["path"])),
        )
        size = len(body) + len(gzipped or b"")
        if self._size + size <= MAX_TOTAL and scope["path"] not in self._cache:
            self._cache[scope["path"]] = asset
            self._size += size
        return asset, [(k, v) for k, v in headers if k.lower() == b"set-cookie"]


def _shared(headers: Headers) -> bool:
    """Whether Streamlit's answer is the same for every browser: not marked private or not to be
    stored, and varying with nothing but the encoding this module chooses itself."""
    control = headers.get("cache-control", "").lower()
    varies = {v.strip().lower() for v in headers.get("vary", "").split(",") if v.strip()}
    return "no-store" not in control and "private" not in control and varies <= {"accept-encoding"}


def _gzip(body: bytes) -> bytes:
    return gzip.compress(body, compresslevel=6, mtime=0)


def _accepts_gzip(headers: Headers) -> bool:
    for part in headers.get("accept-encoding", "").split(","):
        name, _, params = part.partition(";")
        if name.strip().lower() not in ("gzip", "*"):
            continue
        params = params.replace(" ", "")
        if not params.startswith("q="):
            return True
        try:
            return float(params[2:]) > 0
        except ValueError:
            return False
    return False


def _matches(asset: _Asset, headers: Headers) -> bool:
    """Whether the browser's ``If-None-Match`` names this file as it is (either encoding)."""
    wanted = headers.get("if-none-match")
    if not wanted:
        return False
    tags = {t.strip().removeprefix("W/").encode() for t in wanted.split(",")}
    return b"*" in tags or bool(tags & {asset.etag(False), asset.etag(True)})


async def _answer(
    asset: _Asset, request: Headers, send: Send, cookies: list[tuple[bytes, bytes]]
) -> None:
    zipped = asset.gzipped if _accepts_gzip(request) else None
    headers = [
        *asset.headers,
        (b"cache-control", _YEAR if asset.immutable else b"no-cache"),
        (b"etag", asset.etag(zipped is not None)),
        (b"vary", b"Accept-Encoding"),
        *cookies,
    ]
    if _matches(asset, request):
        await send({"type": "http.response.start", "status": 304, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
        return
    body = asset.body if zipped is None else zipped
    if zipped is not None:
        headers.append((b"content-encoding", b"gzip"))
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})
