"""A demo database file for the page and browser tests, built once per test run."""

from __future__ import annotations

import atexit
import datetime as dt
import shutil
import sqlite3
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from db.engine import make_engine
from db.migrate import upgrade
from db.models import ChatSession, Message, Role, User
from sessionlens import demo, geo
from sessionlens.messages import append_message

ROOT = Path(__file__).resolve().parent.parent
#: A database the test Postgres server does not have: what a wrong URL or a dropped database is.
MISSING_DB = "sessionlens_test_not_there"


def missing_database_url() -> str:
    """The test Postgres server's URL with a database name it does not have."""
    from sqlalchemy import make_url

    from tests.conftest import PG_URL

    return make_url(PG_URL).set(database=MISSING_DB).render_as_string(hide_password=False)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now, for a server a test starts."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_serving(proc, url: str, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
    """Until ``url`` (a server's health route) answers 200; fails the test, and stops the server,
    if the process ends first or ``timeout`` seconds pass."""
    deadline = time.time() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as res:
                if res.status == 200:
                    return
        except OSError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            pytest.fail(f"the server did not start: {url} did not answer in {timeout:.0f} s")
        time.sleep(0.3)


def streamlit_command(port: int) -> list[str]:
    """``streamlit run app.py`` on 127.0.0.1:``port``, as a user starts it (run it in ROOT)."""
    import sys

    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "app.py",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
    ]


#: The demo databases this test process has built, by their number of sessions: a module's
#: database is a copy of one (building takes seconds, copying milliseconds).
_BUILT: dict[int, Path] = {}


def build(path: Path, sessions: int = 300) -> str:
    """A demo database of ``sessions`` sessions (and the odd, hostile and long ones the page
    tests look for) at ``path``, a fresh copy for each caller; its URL."""
    template = _BUILT.get(sessions)
    if template is None:
        folder = Path(tempfile.mkdtemp(prefix="sessionlens-appdb-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        template = folder / "app.db"
        _fill(template, sessions)
        _BUILT[sessions] = template
    src, dst = sqlite3.connect(template), sqlite3.connect(path)
    try:
        src.backup(dst)  # whole and consistent, whatever the journal mode
    finally:
        src.close()
        dst.close()
    return f"sqlite:///{path}"


def _fill(path: Path, sessions: int) -> None:
    url = f"sqlite:///{path}"
    eng = make_engine(url)
    upgrade(eng)
    from tests.conftest import NOW, TESTDATA

    with eng.begin() as conn:
        demo.generate(
            conn,
            locator=geo.Locator(TESTDATA / "GeoIP2-City-Test.mmdb"),
            sessions=sessions,
            seed=3,
            now=NOW,
        )
    with Session(eng) as db, db.begin():
        cs = db.scalars(select(ChatSession).order_by(ChatSession.id).limit(1)).one()
        for i, text in enumerate(HOSTILE):
            append_message(
                db,
                cs,
                author_kind="customer",
                text=text,
                sent_at=cs.last_message_at + dt.timedelta(seconds=i + 1),
            )
        from sessionlens.identity import default_actor

        mine = (
            select(ChatSession)
            .where(ChatSession.tenant_id == default_actor(db).tenant_id)
            .order_by(ChatSession.id)
        )
        _odd_session(db, db.scalars(mine.offset(1)).first())
        _long_session(db, db.scalars(mine.offset(2)).first())
    eng.dispose()


#: Attachments an agent runtime could send: none of them may break the page.
ODD_FILES = [
    ("truncated.png", "image/png", "png-head"),
    (
        "drawing.svg",
        "image/svg+xml",
        b"<svg xmlns='http://www.w3.org/2000/svg'><script>window.__xss=9</script></svg>",
    ),
    ("photo.heic", "image/heic", b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00"),
    ("report.pdf", "application/pdf\r\nX-Evil: 1", b"%PDF-1.4 newline mime"),
    ("nul.txt", "text/plain\x00", b"NUL in the MIME type"),
    ("rlo.txt", "text/plain\u202e", b"right-to-left override in the MIME type"),
    ("[Verify](https://evil.example/login).png", "image/png", "png-head"),
]
ODD_TEXT = (
    "Files attached. ![tracker](http://127.0.0.1:9/track.png) and [a link](https://example.com)"
)
#: The long session: five messages of a megabyte each and a megabyte of logs.
LONG_TEXT = ("All work and no play makes Jack a dull boy. " * 24_000)[:1_000_000]


def _odd_session(db: Session, cs: ChatSession) -> None:
    import io

    from PIL import Image

    from db.models import Attachment

    out = io.BytesIO()
    Image.new("RGB", (64, 64), "blue").save(out, "PNG")
    png_head = out.getvalue()[:60]
    msg = append_message(db, cs, author_kind="customer", text=ODD_TEXT, sent_at=cs.last_message_at)
    for name, mime, data in ODD_FILES:
        content = png_head if data == "png-head" else data
        db.add(
            Attachment(
                tenant_id=cs.tenant_id,
                session_id=cs.id,
                message_id=msg.id,
                file_name=name,
                mime_type=mime,
                size_bytes=len(content),
                content=content,
                created_at=cs.started_at,
            )
        )
    cs.has_attachments = True
    cs.parameters = {**cs.parameters, "odd": "attachments"}


def message_lands(engine: Engine, session_id: int, text: str, *, author: str = "customer") -> None:
    """A message written to the database and committed, sent now, as an agent runtime's would
    be while a page is open (the runtime is another process; its HTTP API has tests of its own)."""
    with Session(engine) as db, db.begin():
        append_message(
            db,
            db.get_one(ChatSession, session_id),
            author_kind=author,
            text=text,
            sent_at=dt.datetime.now(dt.UTC),
        )


def _long_session(db: Session, cs: ChatSession) -> None:
    from db.models import LogKind, SessionLog

    for i in range(5):
        append_message(
            db,
            cs,
            author_kind="customer" if i % 2 == 0 else "ai",
            text=f"Part {i + 1}. " + LONG_TEXT,
            sent_at=cs.last_message_at + dt.timedelta(seconds=i + 1),
        )
    db.add(
        SessionLog(
            tenant_id=cs.tenant_id,
            session_id=cs.id,
            kind=LogKind.SYSTEM,
            at=cs.started_at,
            text=LONG_TEXT,
        )
    )
    cs.parameters = {**cs.parameters, "odd": "long"}


def odd_session(engine: Engine, kind: str) -> int:
    """The session that holds the odd attachments ("attachments") or the long messages ("long")."""
    with engine.connect() as conn:
        rows = conn.execute(select(ChatSession.id, ChatSession.parameters)).all()
    return next(sid for sid, params in rows if (params or {}).get("odd") == kind)


#: Messages a hostile customer could send: nothing in them may run, and they must still show.
HOSTILE = [
    "<script>window.__xss = 1</script>Hello <b>there</b>",
    '<img src="x" onerror="window.__xss = 2">',
    "[click me](javascript:window.__xss=3) and [safe](https://example.com)",
    "**unclosed *markdown [link(",
]


def hostile_session(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(Message.session_id).where(Message.text == HOSTILE[1]))


def find_session(engine: Engine, *conds, where=lambda row: True) -> ChatSession:
    """The newest session of the first tenant matching SQL ``conds`` and the ``where`` test."""
    with engine.connect() as conn:
        tenant = conn.scalar(
            select(User.tenant_id)
            .where(User.role == Role.ADMIN)
            .order_by(User.tenant_id, User.id)
            .limit(1)
        )
        rows = conn.execute(
            select(ChatSession)
            .where(ChatSession.tenant_id == tenant, *conds)
            .order_by(ChatSession.started_at.desc())
        ).all()
    row = next((r for r in rows if where(r)), None)
    assert row is not None, f"no demo session matches {conds}"
    return row


def showcase(engine: Engine) -> ChatSession:
    """The demo's session that holds every message kind, marker and attachment kind."""
    return find_session(
        engine,
        ChatSession.mode == "copilot",
        ChatSession.status == "resolved",
        where=lambda r: r.parameters.get("customer_id") == "12345",
    )


def chat_title(count: int) -> str:
    """The Chat panel's heading for a session with ``count`` messages."""
    return f"Chat · {count} message{'' if count == 1 else 's'}"


FRAME = str(ROOT / "frame.py")


def token_for(engine: Engine, email: str | None = None) -> str:
    """A sign-in token for the user ``email`` (default: the first admin), as the route issues."""
    import datetime as dt

    from sessionlens import auth, identity

    with Session(engine) as db:
        who = (
            identity.actor_for(db.scalars(select(User).where(User.email == email)).one())
            if email
            else identity.default_actor(db)
        )
        return auth.issue_token(
            who,
            db,
            secret=auth.app_secret(),
            now=dt.datetime.now(dt.UTC),
            days=1,
        )


def app_test(email: str | None = None):  # type: ignore[no-untyped-def]
    """AppTest of the console, signed in as ``email`` (default: the first admin). AppTest cannot
    send cookies, so the token goes where the frame looks for it in tests."""
    from streamlit.testing.v1 import AppTest

    from components.data import TEST_TOKEN
    from sessionlens.settings import get_settings

    at = AppTest.from_file(FRAME, default_timeout=60)
    at.session_state[TEST_TOKEN] = token_for(make_engine(get_settings().database_url), email)
    return at


def run_app(query: dict | None = None, page: str | None = None, email: str | None = None):  # type: ignore[no-untyped-def]
    """Run the app in AppTest with ``query`` in the URL (optionally on ``page``); no exceptions."""
    at = app_test(email)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    if page:
        at.switch_page(page)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert not unexpected(at), "the page failed; see the captured log"
    return at


def unexpected(at) -> bool:  # type: ignore[no-untyped-def]
    """True when the page showed the message for a failure of ours (app.py caught an exception)."""
    from components.feedback import UNEXPECTED

    return any(e.value == UNEXPECTED for e in at.error)


def shown(elements) -> list[str]:  # type: ignore[no-untyped-def]
    """The text of st.error/warning/... elements as a user reads it (Markdown escapes removed)."""
    import re

    return [re.sub(r"\\(.)", r"\1", e.value) for e in elements]


def panel_text(at) -> str:  # type: ignore[no-untyped-def]
    """The Parameters & results panel as a user reads it: its HTML with the tags taken out."""
    bodies = [h.proto.body for h in at.get("html") if 'data-testid="sl-panel"' in h.proto.body]
    return "\n".join(read_html(b) for b in bodies)


def contact_lines(at) -> list[str]:  # type: ignore[no-untyped-def]
    """The 360 View's contact info as a user reads it, a line each."""
    bodies = [h.proto.body for h in at.get("html") if 'data-testid="sl-contact"' in h.proto.body]
    return [line for b in bodies for line in read_html(b).splitlines() if line.strip()]


def read_html(body: str) -> str:
    """HTML as a user reads it: a block (a paragraph, a line, a rule) starts a line, a span or
    emphasis inside one does not."""
    import html
    import re

    body = re.sub(r"</?(div|p|hr|br|h\d|li|ul|ol)\b[^>]*>", "\n", body)
    return html.unescape(re.sub(r"<[^>]+>", "", body))


def chat_heading(at, default: str | None = None) -> str | None:  # type: ignore[no-untyped-def]
    """The Chat panel's heading as a user reads it: a subheader, or the heading of a chat drawn
    as one element (``components.chat.whole_chat``); ``default`` when there is no chat."""
    import html
    import re

    for h in at.get("html"):
        found = re.search(r'<h3 class="sl-chat-title">(.*?)</h3>', h.proto.body)
        if found:
            return html.unescape(found.group(1))
    return next((s.value for s in at.subheader if s.value.startswith("Chat")), default)


def chat_column(at):  # type: ignore[no-untyped-def]
    """The column the chat is drawn in: the innermost one with the Chat heading (on Sessions it
    sits inside the detail area's column)."""
    return [c for c in at.columns if [h.value for h in c.subheader] == ["Chat"]][-1]


def fire_trigger(at, key: str, event: str, value: object):  # type: ignore[no-untyped-def]
    """Run ``at`` as if the browser had sent ``event`` with ``value`` from the
    ``st.components.v2`` element of ``key`` (what a click in the chat's HTML does). AppTest has no
    handle on such elements, so this sends the trigger widget's state the way the frontend
    does: a JSON list of ``{"event", "value"}`` under the component's internal trigger id."""
    import json

    from streamlit.components.v2.bidi_component.main import _make_trigger_id
    from streamlit.proto.WidgetStates_pb2 import WidgetStates

    (element,) = [e for e in at.get("bidi_component") if e.proto.id.endswith(f"-{key}")]
    states = WidgetStates()
    states.CopyFrom(at._tree.get_widget_states())
    state = states.widgets.add()
    state.id = _make_trigger_id(element.proto.id, "events")
    state.json_trigger_value = json.dumps([{"event": event, "value": value}])
    return at._run(states)


def transcription_jobs(db: Session, *jobs: tuple[int, int, str, str | None]) -> list[int]:
    """Add transcription jobs, each ``(tenant_id, session_id, status, error)``, as the worker would
    have left them; their ids, in order."""
    from db.models import Job

    now = dt.datetime.now(dt.UTC)
    rows = [
        Job(
            tenant_id=tenant,
            session_id=sid,
            kind="transcription",
            status=status,
            attempts=1,
            progress=0.0,
            error=error,
            created_at=now,
        )
        for tenant, sid, status, error in jobs
    ]
    db.add_all(rows)
    db.flush()
    return [j.id for j in rows]


def rerun_from_older_link(monkeypatch, older: str = "") -> None:  # type: ignore[no-untyped-def]
    """Make each ``st.rerun`` the app asks for start from ``older``, the query string of the link
    the browser showed before that run changed it: what happens when a request the browser sent
    at the same moment (the live poll's timer) is merged with the rerun (Streamlit takes the later
    request's link). The app's own runs are otherwise unchanged."""
    import streamlit as st
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    rerun = st.rerun

    def from_older_link(*args, **kwargs):  # type: ignore[no-untyped-def]
        ctx = get_script_run_ctx()
        assert ctx is not None
        ctx.query_string = older
        rerun(*args, **kwargs)

    monkeypatch.setattr(st, "rerun", from_older_link)
