"""A voice session's recording as the console's player and "Download recording" fetch it: the
real route (``web/media.py``) over HTTP with Starlette's TestClient, on a demo database and a real
local blob store; the address comes from the Sessions page as AppTest draws it."""

from __future__ import annotations

import datetime as dt
import html
import os
import re
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.testclient import TestClient

from db.models import Attachment, ChatSession, User
from sessionlens import auth, chat
from sessionlens.blobs import CHUNK, LocalBlobStore
from sessionlens.kinds import Role
from sessionlens.settings import get_settings
from tests import appdb
from tests.helpers import actor
from web import api
from web import db as web_db

#: A recording of several blob chunks, so that ranges cross a chunk's edge.
AUDIO = os.urandom(2 * CHUNK + 4321)


@pytest.fixture(scope="module")
def stored(app_db, tmp_path_factory) -> dict[str, int]:
    """One voice session of each tenant whose recording is a file in a local blob store (as an
    imported call's is), and one whose recording is kept in its database row (as the demo's)."""
    root = tmp_path_factory.mktemp("blobs")
    mp = pytest.MonkeyPatch()
    mp.setenv("SESSIONLENS_BLOB_STORE", "local")
    mp.setenv("SESSIONLENS_BLOB_DIR", str(root))
    get_settings.cache_clear()
    key = LocalBlobStore(root).put(AUDIO, suffix=".wav")
    with Session(app_db) as db, db.begin():
        recs = db.scalars(
            select(Attachment).where(Attachment.is_recording).order_by(Attachment.id)
        ).all()
        by_tenant: dict[int, list[Attachment]] = {}
        for a in recs:
            by_tenant.setdefault(a.tenant_id, []).append(a)
        first, second = sorted(by_tenant)[:2]
        mine, inline = by_tenant[first][:2]
        theirs = by_tenant[second][0]
        for a in (mine, theirs):
            a.content, a.storage_key, a.size_bytes = None, key, len(AUDIO)
            a.file_name = 'call "from" Zürich.wav'
        ids = {
            "mine": mine.id,
            "inline": inline.id,
            "theirs": theirs.id,
            "session": mine.session_id,
        }
    yield ids
    mp.undo()
    get_settings.cache_clear()


@pytest.fixture
def client(app_db, stored) -> Iterator[TestClient]:
    web_db.sessionmaker_for.cache_clear()
    with TestClient(Starlette(routes=api.routes()), base_url="http://127.0.0.1") as c:
        yield c


def _url(app_db, attachment_id: int, *, tenant: int = 0, role: str = Role.ADMIN, **kw) -> str:
    with Session(app_db) as db, db.begin():
        who = actor(db, tenant, role)
        ticket = auth.issue_ticket(
            who,
            db,
            secret=auth.app_secret(),
            now=kw.get("now", dt.datetime.now(dt.UTC)),
            what={"recording": kw.get("names", attachment_id)},
            minutes=chat.FILE_LINK_MINUTES,
        )
    return f"/recordings/{attachment_id}?ticket={ticket}"


def _page_urls(app_db, session_id: int) -> tuple[str, str]:
    """The player's and the download's addresses as the Sessions page draws them."""
    at = appdb.run_app({"session": str(session_id)})
    body = "".join(h.proto.body for h in at.get("html"))
    player = re.search(r'<audio [^>]*src="([^"]+)"', body)
    download = re.search(r'<a class="sl-rec-dl" href="([^"]+)"', body)
    assert player and download, "the page shows no player or no download link"
    return html.unescape(player[1]), html.unescape(download[1])


def test_the_page_plays_and_downloads_the_recording_from_the_store(app_db, stored, client):
    """Opening a voice session reads no audio; its player and its download link stream the file."""
    player, download = _page_urls(app_db, stored["session"])
    got = client.get(player)
    assert got.status_code == 200 and got.content == AUDIO
    assert got.headers["content-type"] == "audio/wav"
    assert got.headers["accept-ranges"] == "bytes"
    assert got.headers["content-disposition"].startswith("inline;")
    got = client.get(download)
    assert got.status_code == 200 and got.content == AUDIO
    # the uploader's file name, its quotes made harmless, and whole in UTF-8
    assert got.headers["content-disposition"] == (
        'attachment; filename="call _from_ Z_rich.wav"; '
        "filename*=UTF-8''call%20%22from%22%20Z%C3%BCrich.wav"
    )


def test_the_address_stays_while_the_user_reads_on(app_db, stored):
    """Another run of the page (a click elsewhere, the live poll) keeps the player's address, so a
    playing recording is not stopped by a new one."""
    at = appdb.run_app({"session": str(stored["session"])})
    first = [h.proto.body for h in at.get("html") if "<audio" in h.proto.body]
    at.button(key="refresh_panel").click().run()
    assert [h.proto.body for h in at.get("html") if "<audio" in h.proto.body] == first != []


@pytest.mark.parametrize(
    ("header", "status", "span"),
    [
        ("bytes=0-", 206, (0, len(AUDIO) - 1)),  # what a browser's player asks first
        ("bytes=100-199", 206, (100, 199)),
        (f"bytes={CHUNK - 3}-{CHUNK + 2}", 206, (CHUNK - 3, CHUNK + 2)),  # across two chunks
        (f"bytes={2 * CHUNK}-", 206, (2 * CHUNK, len(AUDIO) - 1)),  # a seek near the end
        ("bytes=-10", 206, (len(AUDIO) - 10, len(AUDIO) - 1)),  # the last ten bytes
        ("bytes=10-999999999999", 206, (10, len(AUDIO) - 1)),  # cut to the file's end
        ("bytes=5-2", 200, None),  # not a range: the whole file
        ("bytes=0-1,5-6", 200, None),  # several ranges: the whole file
        ("pages=1-2", 200, None),
    ],
)
def test_a_seek_reads_the_range_asked_for(app_db, stored, client, header, status, span):
    got = client.get(_url(app_db, stored["mine"]), headers={"Range": header})
    assert got.status_code == status
    if span is None:
        assert got.content == AUDIO and "content-range" not in got.headers
    else:
        first, last = span
        assert got.content == AUDIO[first : last + 1]
        assert got.headers["content-range"] == f"bytes {first}-{last}/{len(AUDIO)}"
        assert got.headers["content-length"] == str(last - first + 1)


def test_a_head_request_tells_the_length_and_sends_nothing(app_db, stored, client):
    got = client.head(_url(app_db, stored["mine"]), headers={"Range": "bytes=0-99"})
    assert got.status_code == 206 and got.content == b""
    assert got.headers["content-length"] == "100"
    assert got.headers["content-range"] == f"bytes 0-99/{len(AUDIO)}"


def test_a_range_past_the_end_is_refused_with_the_length(app_db, stored, client):
    got = client.get(_url(app_db, stored["mine"]), headers={"Range": f"bytes={len(AUDIO)}-"})
    assert got.status_code == 416 and got.headers["content-range"] == f"bytes */{len(AUDIO)}"


def test_a_recording_kept_in_its_row_plays_too(app_db, stored, client):
    with Session(app_db) as db:
        data = db.scalar(select(Attachment.content).where(Attachment.id == stored["inline"]))
    got = client.get(_url(app_db, stored["inline"]), headers={"Range": "bytes=4-11"})
    assert got.status_code == 206 and got.content == data[4:12]


def test_a_ticket_opens_its_own_tenants_recording_and_nothing_else(app_db, stored, client):
    # a ticket names one recording: another id in the path is not opened with it
    got = client.get(_url(app_db, stored["inline"], names=stored["mine"]))
    assert got.status_code == 401 and "expired" in got.json()["error"]
    # the other tenant's recording, with a ticket for it signed for this tenant's user
    got = client.get(_url(app_db, stored["theirs"]))
    assert (
        got.status_code == 404 and got.json()["error"] == f"Recording {stored['theirs']} not found"
    )
    # ... which the other tenant's own user plays
    assert client.get(_url(app_db, stored["theirs"], tenant=1)).content == AUDIO
    # a chat attachment is not a recording
    with Session(app_db) as db:
        file_id = db.scalar(select(Attachment.id).where(~Attachment.is_recording))
    assert client.get(_url(app_db, file_id)).status_code == 404
    for bad in ("abc", "0", "-1", "1e3"):
        got = client.get(f"/recordings/{bad}?ticket=x")
        assert got.status_code == 404 and got.json()["error"] == f"Recording '{bad}' not found"


def test_a_link_stops_working_when_it_expires_or_its_user_signs_out(app_db, stored, client):
    old = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=chat.FILE_LINK_MINUTES + 1)
    assert client.get(_url(app_db, stored["mine"], now=old)).status_code == 401
    url = _url(app_db, stored["mine"], role=Role.VIEWER)  # a viewer may listen
    assert client.get(url).content == AUDIO
    assert client.get(url.replace("ticket=", "ticket=x")).status_code == 401  # altered
    with Session(app_db) as db, db.begin():
        viewer = actor(db, 0, Role.VIEWER)
        auth.sign_out(db, actor=viewer, now=dt.datetime.now(dt.UTC))
    assert client.get(url).status_code == 401
    # a role taken away after the link was made: the rights are checked when it is used
    url = _url(app_db, stored["mine"], role=Role.LEAD)
    with Session(app_db) as db, db.begin():
        lead = actor(db, 0, Role.LEAD)
        db.execute(update(User).where(User.id == lead.user_id).values(role=Role.USER))
    try:
        got = client.get(url)
        assert got.status_code == 403 and "permission" in got.json()["error"]
    finally:
        with Session(app_db) as db, db.begin():
            db.execute(update(User).where(User.id == lead.user_id).values(role=Role.LEAD))


def test_a_file_gone_from_the_store_is_named(app_db, stored, client):
    def point_at(key: str | None) -> str | None:
        with Session(app_db) as db, db.begin():
            a = db.get_one(Attachment, stored["theirs"])
            a.storage_key, key = key, a.storage_key
        return key

    kept = point_at("zz/gone.wav")
    try:
        got = client.get(_url(app_db, stored["theirs"], tenant=1))
        assert got.status_code == 404 and "missing from the blob store" in got.json()["error"]
    finally:
        point_at(kept)


def test_a_session_without_a_recording_shows_neither(app_db, stored):
    with Session(app_db) as db:
        sid = db.scalar(
            select(ChatSession.id).where(
                ChatSession.id.not_in(select(Attachment.session_id).where(Attachment.is_recording))
            )
        )
    at = appdb.run_app({"session": str(sid)})
    body = "".join(h.proto.body for h in at.get("html"))
    assert "<audio" not in body and "Download recording" not in body


def test_the_360_view_plays_a_customers_calls(app_db, stored, client):
    """Under each call in a customer's history, its player and download, signed as on the
    Sessions page; a chat session has neither."""
    with Session(app_db) as db:
        customer = db.scalar(
            select(ChatSession.customer_id).where(
                ChatSession.customer_id.is_not(None),
                ChatSession.id.in_(select(Attachment.session_id).where(Attachment.is_recording)),
                ChatSession.tenant_id
                == select(Attachment.tenant_id)
                .where(Attachment.id == stored["mine"])
                .scalar_subquery(),
            )
        )
        calls = db.scalar(
            select(func.count())
            .select_from(Attachment)
            .join(ChatSession, ChatSession.id == Attachment.session_id)
            .where(Attachment.is_recording, ChatSession.customer_id == customer)
        )
    at = appdb.run_app({"customer": str(customer)}, "screens/customer.py")
    body = "".join(h.proto.body for h in at.get("html"))
    players = re.findall(r'<audio [^>]*src="([^"]+)"', body)
    assert len(players) == calls >= 1
    assert body.count(">Download recording</a>") == calls
    got = client.get(html.unescape(players[0]), headers={"Range": "bytes=0-3"})
    assert got.status_code == 206 and len(got.content) == 4


def test_a_chats_file_downloads_from_its_card(app_db, stored, client):
    """A file card's Download streams the file as it was sent, under its name; the same ticket
    opens no recording, and a recording's ticket no file."""
    with Session(app_db) as db:
        a = db.scalars(
            select(Attachment).where(
                ~Attachment.is_recording,
                Attachment.mime_type == "application/pdf",
                Attachment.tenant_id  # the demo admin's, who draws the page
                == select(Attachment.tenant_id)
                .where(Attachment.id == stored["mine"])
                .scalar_subquery(),
            )
        ).first()
        sid, fid, data, name = a.session_id, a.id, a.content, a.file_name
    at = appdb.run_app({"session": str(sid)})
    body = "".join(h.proto.body for h in at.get("html"))
    url = html.unescape(re.search(rf'href="(/files/{fid}\?ticket=[^"]+)"', body)[1])
    got = client.get(url)
    assert got.status_code == 200 and got.content == data
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["content-disposition"].startswith(f'attachment; filename="{name}"')
    assert got.headers["content-security-policy"] == "sandbox"
    ticket = url.split("ticket=", 1)[1]
    got = client.get(f"/recordings/{fid}?ticket={ticket}")
    assert got.status_code == 401  # a file's ticket is not a recording's
    rec_ticket = _url(app_db, stored["mine"]).split("ticket=", 1)[1]
    got = client.get(f"/files/{stored['mine']}?ticket={rec_ticket}")
    assert got.status_code == 401 and "file's link has expired" in got.json()["error"]


def test_a_chats_picture_shows_its_preview_and_opens_whole_from_the_server(app_db, stored, client):
    """An image attachment is drawn as a preview no wider than the chat shows it, sent with the
    chat, in a link whose ``view=1`` serves the whole picture to be shown in place (its own type,
    inline, still sandboxed); the same link without ``view`` downloads it, and ``view`` on a file
    that is no picture still downloads it as bytes no browser renders."""
    with Session(app_db) as db:
        mine = select(Attachment.tenant_id).where(Attachment.id == stored["mine"])
        a = db.scalars(
            select(Attachment).where(
                ~Attachment.is_recording,
                Attachment.mime_type == "image/png",
                Attachment.tenant_id == mine.scalar_subquery(),
            )
        ).first()
        sid, fid, data, name = a.session_id, a.id, a.content, a.file_name
        pdf = db.scalar(
            select(Attachment.id).where(
                Attachment.mime_type == "application/pdf",
                Attachment.tenant_id == mine.scalar_subquery(),
            )
        )
    at = appdb.run_app({"session": str(sid)})
    body = "".join(h.proto.body for h in at.get("html"))
    figure = re.search(rf'<figure class="sl-img"[^>]*>.*?{re.escape(name)}</figcaption>', body)
    assert figure, "the picture is not in the chat"
    href, preview = re.search(
        r'<a class="sl-img-open" href="([^"]+)"><img src="([^"]+)"', figure[0]
    ).groups()
    assert preview.startswith("data:image/") and len(preview) < 200_000
    url = html.unescape(href)
    assert url.startswith(f"/files/{fid}?ticket=") and url.endswith("&view=1")
    got = client.get(url)
    assert got.status_code == 200 and got.content == data
    assert got.headers["content-type"] == "image/png"
    assert got.headers["content-disposition"].startswith("inline;")
    assert got.headers["content-security-policy"] == "sandbox"
    assert got.headers["x-content-type-options"] == "nosniff"
    got = client.get(url.removesuffix("&view=1"))
    assert got.headers["content-disposition"].startswith("attachment;")
    got = client.get(_file_url(app_db, pdf) + "&view=1")
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["content-disposition"].startswith("attachment;")


def _file_url(app_db, attachment_id: int, *, tenant: int = 0) -> str:
    with Session(app_db) as db, db.begin():
        ticket = auth.issue_ticket(
            actor(db, tenant),
            db,
            secret=auth.app_secret(),
            now=dt.datetime.now(dt.UTC),
            what={"file": attachment_id},
        )
    return f"/files/{attachment_id}?ticket={ticket}"


def test_a_file_is_another_tenants_to_nobody_here(app_db, stored, client):
    with Session(app_db) as db:
        theirs = db.scalar(
            select(Attachment.id).where(
                ~Attachment.is_recording,
                Attachment.tenant_id
                != select(Attachment.tenant_id)
                .where(Attachment.id == stored["mine"])
                .scalar_subquery(),
            )
        )
    got = client.get(_file_url(app_db, theirs))
    assert got.status_code == 404 and got.json()["error"] == f"File {theirs} not found"
    got = client.get(_file_url(app_db, stored["mine"]))  # a recording is not a chat's file
    assert got.status_code == 404
