"""Components' files (the grid's 4.7 MB bundle) are compressed once and cached by the browser.

``web.assets.ComponentAssets`` in front of a small app that answers ``/component/…`` the way
Streamlit 1.67 does (the file, ``Cache-Control: public``, no validator; 404 for a missing file)
and counts what reaches it. The wiring in front of Streamlit's real route is checked in
``tests/test_browser.py`` (a reload fetches the grid's bundle from the browser's cache).
"""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from web.assets import ComponentAssets

BUNDLE = b"function grid(){return 'rows'}\n" * 4000
FILES = {
    "grid/static/js/main.f4bb7ae6.js": (BUNDLE, "text/javascript"),
    "grid/bootstrap.min.css": (b".row{display:flex}\n" * 200, "text/css"),
    "grid/index.html": (
        b"<html><script src='static/js/main.f4bb7ae6.js'></script></html>",
        "text/html",
    ),
    "grid/logo.png": (b"\x89PNG" + bytes(2000), "image/png"),
}


@pytest.fixture
def served():
    """A client of the middleware in front of the Streamlit-like app, and the paths that
    reached that app."""
    reached: list[str] = []

    async def component(request: Request) -> Response:
        path = request.path_params["path"]
        reached.append(path)
        if path not in FILES:
            return PlainTextResponse("read error", status_code=404)
        body, kind = FILES[path]
        return Response(body, media_type=kind, headers={"Cache-Control": "public"})

    async def other(request: Request) -> Response:
        reached.append("other")
        return PlainTextResponse("hello " * 200)

    app = Starlette(routes=[Route("/component/{path:path}", component), Route("/healthz", other)])
    return TestClient(ComponentAssets(app, base_url="")), reached


def test_the_bundle_is_compressed_once_and_a_browser_keeps_it_a_year(served):
    client, reached = served
    for _ in range(3):
        got = client.get("/component/grid/static/js/main.f4bb7ae6.js")
        assert got.status_code == 200
        assert got.content == BUNDLE  # the client undoes the gzip
        assert got.headers["content-encoding"] == "gzip"
        assert got.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert got.headers["content-type"].startswith("text/javascript")
        assert got.headers["etag"].startswith('"') and got.headers["vary"] == "Accept-Encoding"
    assert reached == ["grid/static/js/main.f4bb7ae6.js"]  # Streamlit read it once
    raw = client.get(
        "/component/grid/static/js/main.f4bb7ae6.js", headers={"Accept-Encoding": "identity"}
    )
    assert raw.content == BUNDLE and "content-encoding" not in raw.headers
    assert raw.headers["content-length"] == str(len(BUNDLE))
    assert raw.headers["etag"] != got.headers["etag"]  # each encoding is a representation


def test_a_file_without_a_hash_in_its_name_is_asked_again_and_answered_not_modified(served):
    client, reached = served
    first = client.get("/component/grid/bootstrap.min.css")
    assert first.headers["cache-control"] == "no-cache"
    again = client.get(
        "/component/grid/bootstrap.min.css", headers={"If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == first.headers["etag"]
    # Another tag (a file changed since the browser's copy) gets the file.
    other = client.get("/component/grid/bootstrap.min.css", headers={"If-None-Match": '"old"'})
    assert other.status_code == 200 and other.content == FILES["grid/bootstrap.min.css"][0]
    assert reached == ["grid/bootstrap.min.css"]


def test_a_picture_is_not_compressed_again(served):
    client, _ = served
    got = client.get("/component/grid/logo.png")
    assert got.status_code == 200 and "content-encoding" not in got.headers
    assert got.content == FILES["grid/logo.png"][0]


def test_what_streamlit_answers_itself_reaches_it_every_time(served):
    client, reached = served
    for _ in range(2):
        missing = client.get("/component/grid/static/js/gone.1234abcd.js")
        assert missing.status_code == 404 and missing.text == "read error"
        page = client.get("/component/grid/index.html")  # HTML stays Streamlit's, no-cache
        assert page.status_code == 200 and "etag" not in page.headers
        ranged = client.get(
            "/component/grid/static/js/main.f4bb7ae6.js", headers={"Range": "bytes=0-9"}
        )
        assert ranged.headers.get("cache-control") == "public"  # Streamlit's own answer
        client.get("/component/grid/bootstrap.min.css", headers={"Origin": "http://else.example"})
        client.get("/healthz")
    assert (
        reached
        == [
            "grid/static/js/gone.1234abcd.js",
            "grid/index.html",
            "grid/static/js/main.f4bb7ae6.js",
            "grid/bootstrap.min.css",
            "other",
        ]
        * 2
    )


def test_a_cached_answer_is_the_same_for_a_client_that_takes_no_gzip(served):
    client, _ = served
    zipped = client.get("/component/grid/bootstrap.min.css")
    plain = client.get("/component/grid/bootstrap.min.css", headers={"Accept-Encoding": "gzip;q=0"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert "content-encoding" not in plain.headers
    assert plain.content == zipped.content == FILES["grid/bootstrap.min.css"][0]


def test_under_a_base_path_the_components_files_are_kept_there():
    """``server.baseUrlPath``: Streamlit serves ``/<base>/component/…``; the same files are kept,
    and a path outside the base is left alone."""
    reached: list[str] = []

    async def component(request: Request) -> Response:
        reached.append(request.url.path)
        body, kind = FILES["grid/static/js/main.f4bb7ae6.js"]
        return Response(body, media_type=kind, headers={"Cache-Control": "public"})

    app = Starlette(routes=[Route("/{rest:path}", component)])
    client = TestClient(ComponentAssets(app, base_url="/sl/"))
    for _ in range(2):
        kept = client.get("/sl/component/grid/static/js/main.f4bb7ae6.js")
        assert kept.headers["cache-control"] == "public, max-age=31536000, immutable"
        outside = client.get("/component/grid/static/js/main.f4bb7ae6.js")
        assert outside.headers["cache-control"] == "public"
    assert (
        reached
        == ["/sl/component/grid/static/js/main.f4bb7ae6.js"]
        + ["/component/grid/static/js/main.f4bb7ae6.js"] * 2
    )


def test_a_browsers_cookie_is_never_given_to_another():
    """A response that sets a cookie (a middleware that refreshes its cookie on every response
    sets it on a component's file too) belongs to the browser that asked. The first browser's
    answer is the one kept: its cookie must not go to the next browser, or that one would be
    signed in as the first."""

    async def component(request: Request) -> Response:
        body, kind = FILES[request.path_params["path"]]
        answer = Response(body, media_type=kind, headers={"Cache-Control": "public"})
        if "session" in request.cookies:
            answer.set_cookie("session", request.cookies["session"])
        return answer

    middle = ComponentAssets(
        Starlette(routes=[Route("/component/{path:path}", component)]), base_url=""
    )
    dana = TestClient(middle, cookies={"session": "dana-signed-in"})
    hers = dana.get("/component/grid/bootstrap.min.css")
    assert hers.status_code == 200 and "session=dana-signed-in" in hers.headers["set-cookie"]
    stranger = TestClient(middle)
    later = stranger.get("/component/grid/bootstrap.min.css")
    assert later.status_code == 200 and "set-cookie" not in later.headers
    assert "session" not in stranger.cookies


@pytest.mark.parametrize(
    "marked",
    [{"Cache-Control": "private"}, {"Cache-Control": "no-store"}, {"Vary": "Cookie"}],
)
def test_an_answer_that_is_not_the_same_for_everyone_is_not_kept(marked):
    reached: list[str] = []

    async def component(request: Request) -> Response:
        reached.append(request.url.path)
        return Response(BUNDLE, media_type="text/javascript", headers=marked)

    client = TestClient(
        ComponentAssets(Starlette(routes=[Route("/{rest:path}", component)]), base_url="")
    )
    for _ in range(2):
        got = client.get("/component/grid/static/js/main.f4bb7ae6.js")
        assert got.content == BUNDLE and "etag" not in got.headers
    assert len(reached) == 2
