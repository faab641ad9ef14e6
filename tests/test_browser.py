"""The real app in headless Debian Chromium, driven like a support lead would."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import os
import re
import subprocess
import time
import urllib.error
import urllib.request
import wave
from pathlib import Path

import pytest
from PIL import Image as PILImage
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bench.browser import IDLE, PAINTED  # the page's script run has ended; then painted
from components.chat import SCROLL_BOX_JS
from db.engine import make_engine
from db.models import Attachment, ChatSession
from sessionlens.settings import get_settings
from tests import appdb
from tests.conftest import unavailable

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
GRID = 'iframe[title="st_aggrid.AgGrid.agGrid"]'
SHOTS = appdb.ROOT / "artifacts"  # screenshots to look at; ignored by git


#: Each started server's output (Streamlit's warnings, the app's log), by its address: a failed
#: test prints the end of its server's (``_server_log_on_failure``).
_SERVER_LOGS: dict[str, Path] = {}


def _server_tail(base: str, lines: int = 40) -> str:
    """The last lines of the log of the server at ``base``, for an assertion's message (the end
    of a failure's output is the part a truncated CI log keeps)."""
    log = _SERVER_LOGS.get(base)
    tail = log.read_text(errors="replace").splitlines()[-lines:] if log else []
    return f"the last lines of {base}'s log:\n" + "\n".join(tail)


@pytest.fixture(autouse=True)
def _server_log_on_failure(request):
    """After a failed test, the last lines its servers wrote (a race in a run shows there as
    Streamlit's "Couldn't find fragment" and the like)."""
    began = time.time()
    yield
    report = getattr(request.node, "rep_call", None)
    if report is None or not report.failed:
        return
    shared = request.node.funcargs.get("server")
    for base, log in _SERVER_LOGS.items():
        # the shared server it used, or one it started
        if (shared and base == shared[0]) or log.stat().st_ctime >= began:
            print("---", _server_tail(base, 60))


def _start(
    url: str,
    blob_dir: Path,
    extra: dict[str, str] | None = None,
    args: list[str] | None = None,
    port: int | None = None,
) -> tuple[subprocess.Popen, str]:
    """``streamlit run app.py`` on a free port, as a user would start it; healthy or failed."""
    port = port or appdb.free_port()
    env = {
        **os.environ,
        "SESSIONLENS_DATABASE_URL": url,
        "SESSIONLENS_BLOB_DIR": str(blob_dir),
        "SESSIONLENS_WHISPER_BEAM_SIZE": "1",
        **(extra or {}),
    }
    log = blob_dir.parent / f"server-{port}.log"
    with log.open("wb") as out:  # the child keeps its own handle
        proc = subprocess.Popen(
            [*appdb.streamlit_command(port), *(args or [])],
            cwd=appdb.ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    _SERVER_LOGS[base] = log
    appdb.wait_until_serving(proc, base + "/_stcore/health")
    return proc, base


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    url = appdb.build(tmp_path_factory.mktemp("browser") / "app.db")
    proc, base = _start(url, tmp_path_factory.mktemp("blobs"))
    yield base, make_engine(url)
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="session")
def browser_type_launch_args():
    if not Path(CHROMIUM).exists():
        unavailable(f"{CHROMIUM} is missing: apt-get install chromium")
    return {
        "executable_path": CHROMIUM,
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--disable-quic",
        ],
    }


@pytest.fixture(scope="session")
def signed_in_cookie(server):
    """The demo admin's sign-in cookie, as /auth/sign-in sets it (test_sign_in_* go through the
    form itself)."""
    _, engine = server
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SESSIONLENS_DATABASE_URL", engine.url.render_as_string(hide_password=False))
        get_settings.cache_clear()
        token = appdb.token_for(engine)
    get_settings.cache_clear()
    return {
        "name": "sessionlens_auth",
        "value": token,
        "domain": "127.0.0.1",
        "path": "/",
        "httpOnly": True,
        "sameSite": "Lax",
    }


@pytest.fixture(scope="session")
def browser_context_args(signed_in_cookie):
    return {
        "storage_state": {"cookies": [signed_in_cookie], "origins": []},
        "viewport": {"width": 1600, "height": 1000},
        "reduced_motion": "reduce",
        "accept_downloads": True,
    }


# The grid of the current run: when the grid is mounted anew (a sort, Back and Forward), the old
# one stays on the page, marked stale, until the run ends.
LIVE_GRID = f'[data-testid="stElementContainer"][data-stale="false"] {GRID}'


def _grid(page):
    """The table's frame. For a moment after a sort the old grid and the new one can both be on
    the page unmarked, and a locator that must resolve to one frame then fails at once instead of
    waiting (the sort test did so in one of four runs of this file on a busy machine). The new
    table comes first in the page (an assertion that meets the old one waits for it to go)."""
    return page.locator(LIVE_GRID).first.content_frame


def _row(page, sid: int):
    return _grid(page).locator(f'.ag-center-cols-container .ag-row[row-id="{sid}"]')


def _newest(engine, *conds) -> ChatSession:
    return appdb.find_session(engine, *conds)


def test_table_cells_show_channel_location_and_responsible(page, server):
    from playwright.sync_api import expect

    base, engine = server
    page.goto(base + "/")
    web = _newest(engine, ChatSession.channel == "web", ChatSession.country.is_not(None))
    row = _row(page, web.id)
    expect(row).to_be_visible(timeout=60_000)
    icon = row.locator(".channel-icon")
    icon.hover()
    assert icon.get_attribute("title") == "Web"
    flag = row.locator(".flag")
    flag.hover()
    assert flag.get_attribute("title") == f"{web.country_name}, {web.city}".rstrip(", ")
    assert row.locator('[col-id="ip"]').inner_text() == web.ip
    page.screenshot(path=str(SHOTS / "sessions.png"))


def test_a_reload_takes_the_grids_bundle_from_the_browsers_cache(page, server, context):
    """The grid's 4.7 MB of JavaScript is fetched once, not on every page load (web/assets.py).
    Chromium's DevTools protocol says where each response came from."""
    from playwright.sync_api import expect

    base, _ = server
    page.goto(base + "/")
    expect(_grid(page).locator(".ag-row").first).to_be_visible(timeout=60_000)
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    names: dict[str, str] = {}  # request id: the grid's file it asked for
    from_cache: set[str] = set()  # request ids the browser answered itself
    status: dict[str, int] = {}  # request id: the server's status (304: not modified)
    cdp.on(
        "Network.requestWillBeSent",
        lambda e: (
            "/component/st_aggrid" in e["request"]["url"]
            and names.setdefault(e["requestId"], e["request"]["url"].split("?")[0].split("/")[-1])
        ),
    )
    cdp.on("Network.requestServedFromCache", lambda e: from_cache.add(e["requestId"]))
    cdp.on(
        "Network.responseReceivedExtraInfo",
        lambda e: status.setdefault(e["requestId"], e["statusCode"]),
    )
    page.reload()
    expect(_grid(page).locator(".ag-row").first).to_be_visible(timeout=60_000)
    page.wait_for_function(IDLE)
    fetched = {
        name: "cache"
        if rid in from_cache
        else "not modified"
        if status.get(rid) == 304
        else "network"
        for rid, name in names.items()
    }
    bundle = [name for name in fetched if re.fullmatch(r"main\.[0-9a-f]+\.js", name)]
    assert bundle, fetched
    assert fetched[bundle[0]] == "cache", fetched
    # The stylesheet without a hash in its name is asked for, and not sent again.
    assert fetched.get("bootstrap.min.css") in ("cache", "not modified"), fetched
    # Served again to a browser without the file, it is the same script, compressed.
    url = f"{base}/component/st_aggrid.AgGrid.agGrid/static/js/{bundle[0]}"
    with urllib.request.urlopen(
        urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
    ) as r:
        assert r.headers["Content-Encoding"] == "gzip"
        assert b"ag-grid" in gzip.decompress(r.read()).lower()


def test_a_long_conversations_message_count_shows_whole(page, server):
    """A chat of thousands of messages (an e-mail thread, a bot loop) shows its count, not "3…"
    (the column held two digits)."""
    from playwright.sync_api import expect

    base, engine = server
    newest = _newest(engine)
    was = newest.message_count
    with engine.begin() as conn:
        conn.execute(
            update(ChatSession).where(ChatSession.id == newest.id).values(message_count=12345)
        )
    try:
        page.goto(base + "/")
        cell = _row(page, newest.id).locator('[col-id="messages"]')
        expect(cell).to_have_text("12345", timeout=60_000)
        assert cell.evaluate("e => e.scrollWidth <= e.clientWidth"), "the count is cut off"
    finally:
        with engine.begin() as conn:
            conn.execute(
                update(ChatSession).where(ChatSession.id == newest.id).values(message_count=was)
            )


def test_a_time_of_another_year_shows_its_date_whole_and_the_time_on_hover(page, server):
    """In January, December's sessions showed "30 Dec 2026…": a year and a time do not fit the
    column. Another year's time shows its date, and the whole time on hover."""
    from playwright.sync_api import expect

    base, engine = server
    cs = _newest(engine, ChatSession.finished_at.is_not(None))
    was = cs.finished_at
    last_year = dt.datetime.now(dt.UTC).year - 1
    with engine.begin() as conn:
        conn.execute(
            update(ChatSession)
            .where(ChatSession.id == cs.id)
            .values(finished_at=dt.datetime(last_year, 6, 15, 10, 0, tzinfo=dt.UTC))
        )
    try:
        page.goto(base + "/")
        cell = _row(page, cs.id).locator('[col-id="finished"]')
        expect(cell).to_have_text(f"15 Jun {last_year}", timeout=60_000)
        assert cell.evaluate("e => e.scrollWidth <= e.clientWidth"), "the date is cut off"
        cell.hover()
        expect(_grid(page).locator(".ag-tooltip")).to_contain_text(f"{last_year}-06-15 1")
    finally:
        with engine.begin() as conn:
            conn.execute(update(ChatSession).where(ChatSession.id == cs.id).values(finished_at=was))


def test_a_handed_over_session_nobody_took_says_unassigned_whole(page, server):
    """The Responsible column of a session handed over and not yet taken reads "Unassigned",
    not "U…" (the column was as narrow as an avatar)."""
    from playwright.sync_api import expect

    base, _ = server
    page.goto(base + "/?responsible=human")
    nobody = _grid(page).locator(".ag-row .resp-none").first
    expect(nobody).to_have_text("Unassigned", timeout=60_000)
    cell = nobody.locator("xpath=ancestor::div[contains(@class, 'ag-cell')][1]")
    assert cell.evaluate("e => e.scrollWidth <= e.clientWidth"), "Unassigned is cut off"


def test_user_popover_and_finish_time(page, server):
    from playwright.sync_api import expect

    base, engine = server
    page.goto(base + "/")
    cs = _newest(engine, ChatSession.customer_id.is_not(None), ChatSession.finished_at.is_(None))
    row = _row(page, cs.id)
    expect(row).to_be_visible(timeout=60_000)
    assert row.locator('[col-id="finished"]').inner_text() == "---"
    assert row.locator(".dot-active").count() == 1
    # The dot pulses (these tests otherwise ask for reduced motion): its halo grows and fades.
    # Not as a CSS animation: each animated dot was a composited layer of its own, which made
    # every row click build the page's layers anew.
    dot = row.locator(".dot-active")
    halo = "d => getComputedStyle(d).boxShadow"
    assert dot.evaluate(halo) == "none"  # reduced motion: still
    page.emulate_media(reduced_motion="no-preference")
    seen = set()
    for _ in range(12):
        seen.add(dot.evaluate(halo))
        page.wait_for_timeout(60)
    assert len(seen - {"none"}) >= 3, seen
    assert dot.evaluate("d => d.ownerDocument.getAnimations().length") == 0
    page.emulate_media(reduced_motion="reduce")
    page.wait_for_timeout(200)
    assert dot.evaluate(halo) == "none"
    row.locator('[col-id="user"]').hover()
    popover = _grid(page).locator(".user-popover")
    expect(popover).to_contain_text(f"id: {cs.customer_id}", timeout=10_000)
    expect(popover).to_contain_text("External id:")


def test_click_a_row_then_load_more_keeps_the_selection(page, server):
    from playwright.sync_api import expect

    base, engine = server
    outside: list[str] = []  # a self-hosted console asks no third party for anything
    page.on(
        "request",
        lambda r: (
            r.url.startswith(("http:", "https:", "ws:", "wss:"))
            and not r.url.startswith((base, base.replace("http", "ws", 1)))
            and outside.append(r.url)
        ),
    )
    page.goto(base + "/")
    cs = _newest(engine, ChatSession.message_count > 2, ChatSession.customer_id.is_not(None))
    row = _row(page, cs.id)
    expect(row).to_be_visible(timeout=60_000)
    page.wait_for_function(IDLE)
    expect(page).to_have_title("Sessions · Sessionlens")  # the tab names the screen
    # The chat's "View trace" listener comes with the page, before any session is open: a first
    # row click does not wait for its code.
    loaded = page.evaluate("() => performance.getEntriesByType('resource').map(e => e.name)")
    assert [u for u in loaded if "/static/js/BidiComponent." in u], loaded
    row.locator('[col-id="agent"]').click()
    expect(page.get_by_role("heading", name=appdb.chat_title(cs.message_count))).to_be_visible(
        timeout=20_000
    )
    expect(page).to_have_url(re.compile(rf"[?&]session={cs.id}\b"))
    expect(page.get_by_text("Session parameters")).to_be_visible()
    with page.context.expect_page() as opened:  # the panel's link: the customer, in a new tab
        page.get_by_role("link", name="Open in 360").click()
    expect(opened.value).to_have_url(re.compile(rf"/customer\?customer={cs.customer_id}$"))
    expect(opened.value).to_have_title("360 View · Sessionlens")
    opened.value.close()
    viewport = _grid(page).locator(".ag-body-viewport")
    viewport.evaluate("e => { e.scrollTop = 300; }")
    page.get_by_role("button", name="Load More").click()
    expect(page.get_by_text("100 sessions loaded")).to_be_visible(timeout=20_000)
    assert outside == []
    expect(_grid(page).locator(".ag-center-cols-container .ag-row")).not_to_have_count(0)
    assert viewport.evaluate("e => e.scrollTop") == 300  # the grid was updated, not remounted
    viewport.evaluate("e => { e.scrollTop = 0; }")
    expect(_row(page, cs.id)).to_have_class(re.compile(r"\bag-row-selected\b"))
    expect(page.get_by_role("heading", name=appdb.chat_title(cs.message_count))).to_be_visible()
    page.screenshot(path=str(SHOTS / "session-open.png"))


def test_back_and_forward_go_between_the_sessions_opened(page, server):
    """Back after opening two sessions shows the first one again, chat and highlighted row
    alike; Forward the second; Back to the address without a session closes it. (Streamlit reruns
    the page with the older address; the page used to keep the newer session on screen.)"""
    from playwright.sync_api import expect

    base, _ = server
    page.goto(base + "/")
    rows = _grid(page).locator(".ag-center-cols-container .ag-row")
    expect(rows.first).to_be_visible(timeout=60_000)
    page.wait_for_function(IDLE)
    first, second = (rows.nth(i).get_attribute("row-id") for i in (1, 4))
    titles = {}
    for sid in (first, second):
        _row(page, int(sid)).locator('[col-id="agent"]').click()
        expect(page).to_have_url(re.compile(rf"[?&]session={sid}\b"))
        page.wait_for_function(IDLE)
        titles[sid] = page.get_by_role("heading", name=re.compile(r"^Chat · ")).inner_text()

    def shows(sid: str) -> None:
        expect(page).to_have_url(re.compile(rf"[?&]session={sid}\b"))
        expect(page.get_by_role("heading", name=re.compile(r"^Chat · "))).to_have_text(
            titles[sid], timeout=20_000
        )
        # The grid is mounted anew to highlight the row; until the run ends, the old one is still
        # on the page (stale), and a locator would find two grids.
        page.wait_for_function(IDLE)
        expect(_row(page, int(sid))).to_have_class(
            re.compile(r"\bag-row-selected\b"), timeout=20_000
        )
        page.wait_for_function(IDLE)

    page.go_back()
    shows(first)
    page.go_forward()
    shows(second)
    page.go_back()
    shows(first)
    page.go_back()
    expect(page.get_by_role("heading", name="Chat", exact=True)).to_be_visible(timeout=20_000)
    expect(_grid(page).locator(".ag-row-selected")).to_have_count(0, timeout=20_000)


def test_up_and_down_open_the_next_and_previous_session(page, server):
    """After a click, the keyboard moves through the table as clicks do: Down opens the session
    below, Up the one above (the chat, the URL and the highlighted row follow). A click leaves no
    focus frame on its cell; the keyboard's focus is framed."""
    from playwright.sync_api import expect

    base, _ = server
    page.goto(base + "/")
    rows = _grid(page).locator(".ag-center-cols-container .ag-row")
    expect(rows.first).to_be_visible(timeout=60_000)
    page.wait_for_function(IDLE)
    ids = [rows.nth(i).get_attribute("row-id") for i in range(4)]
    rows.nth(1).locator('[col-id="user"]').click()
    expect(page).to_have_url(re.compile(rf"[?&]session={ids[1]}\b"))
    framed = "e => getComputedStyle(e).borderTopColor"
    cell = _row(page, int(ids[1])).locator('[col-id="user"]')
    assert cell.evaluate(framed) == "rgba(0, 0, 0, 0)"
    for key, at in (("ArrowDown", 2), ("ArrowDown", 3), ("ArrowUp", 2)):
        page.keyboard.press(key)
        expect(page).to_have_url(re.compile(rf"[?&]session={ids[at]}\b"), timeout=20_000)
        expect(_row(page, int(ids[at]))).to_have_class(re.compile(r"\bag-row-selected\b"))
        page.wait_for_function(IDLE)
    assert _row(page, int(ids[2])).locator('[col-id="user"]').evaluate(framed) != "rgba(0, 0, 0, 0)"
    with server[1].connect() as conn:
        n = conn.scalar(select(ChatSession.message_count).where(ChatSession.id == int(ids[2])))
    expect(page.get_by_role("heading", name=appdb.chat_title(n))).to_be_visible()


def test_space_or_ctrl_click_on_the_open_row_keeps_it_open_and_highlighted(page, server):
    """AG Grid unselects a selected row on Space or Ctrl+click; the chat still shows that
    session, so its row stays highlighted (it used to lose its highlight while the chat stayed)."""
    from playwright.sync_api import expect

    base, _ = server
    page.goto(base + "/")
    rows = _grid(page).locator(".ag-center-cols-container .ag-row")
    expect(rows.first).to_be_visible(timeout=60_000)
    page.wait_for_function(IDLE)
    sid = int(rows.nth(2).get_attribute("row-id"))
    rows.nth(2).locator('[col-id="user"]').click()
    expect(page).to_have_url(re.compile(rf"[?&]session={sid}\b"))
    page.wait_for_function(IDLE)
    selected = re.compile(r"\bag-row-selected\b")
    page.keyboard.press("Space")
    page.wait_for_timeout(300)
    expect(_row(page, sid)).to_have_class(selected)
    _row(page, sid).locator('[col-id="user"]').click(modifiers=["Control"])
    page.wait_for_timeout(300)
    expect(_row(page, sid)).to_have_class(selected)
    assert _grid(page).locator(".ag-row-selected").count() == 1
    expect(page).to_have_url(re.compile(rf"[?&]session={sid}\b"))


def test_deep_link_opens_the_session(page, server):
    from playwright.sync_api import expect

    base, engine = server
    with engine.connect() as conn:
        old = conn.execute(select(ChatSession).order_by(ChatSession.started_at).limit(1)).first()
    page.goto(f"{base}/?session={old.id}")
    expect(page.get_by_role("heading", name=appdb.chat_title(old.message_count))).to_be_visible(
        timeout=60_000
    )
    expect(page.get_by_text("started the session at").first).to_be_visible()


def test_a_link_to_a_session_down_the_page_shows_its_row(page, server):
    """A link to a session that is on the table's first page but below its fold: the table opens
    scrolled to the session's row, selected, next to its chat."""
    from playwright.sync_api import expect

    base, engine = server
    with engine.connect() as conn:
        tenant = conn.scalar(select(ChatSession.tenant_id).order_by(ChatSession.id).limit(1))
        sid = conn.scalar(
            select(ChatSession.id)
            .where(ChatSession.tenant_id == tenant)
            .order_by(ChatSession.started_at.desc(), ChatSession.id.desc())
            .offset(40)
            .limit(1)
        )
    page.goto(f"{base}/?session={sid}")
    row = _row(page, sid)
    expect(row).to_have_class(re.compile(r"\bag-row-selected\b"), timeout=60_000)
    expect(row).to_be_in_viewport()
    box, view = row.bounding_box(), _grid(page).locator(".ag-body-viewport").bounding_box()
    assert view["y"] <= box["y"] and box["y"] + box["height"] <= view["y"] + view["height"]


def test_filter_by_ip_in_the_dialog_then_reset(page, server):
    from playwright.sync_api import expect

    base, engine = server
    target = _newest(engine, ChatSession.ip.is_not(None), ChatSession.channel == "web")
    with engine.connect() as conn:
        expected = set(
            conn.scalars(
                select(ChatSession.id).where(
                    ChatSession.ip == target.ip, ChatSession.tenant_id == target.tenant_id
                )
            )
        )
    page.goto(base + "/")
    expect(_row(page, target.id)).to_be_visible(timeout=60_000)
    page.get_by_role("button", name="Search", exact=True).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("IP").fill("not an address")
    dialog.get_by_label("IP").press("Escape")  # closed without Apply: nothing changes
    expect(dialog).to_have_count(0, timeout=10_000)
    expect(page).not_to_have_url(re.compile(r"[?&]ip="))
    # A run of the whole page (a widget in the sidebar: "Share with my workspace" of Save current
    # view) does not bring the closed dialog back. The run that closing the dialog started has
    # ended first: a popover opened while the sidebar is still being drawn did not always open
    # (once in a CI run on a busy machine).
    page.wait_for_function(IDLE)
    side = page.get_by_test_id("stSidebar")
    save = side.get_by_role("button", name="Save current view")
    if not save.is_visible():
        side.get_by_text("Saved views", exact=True).click()
    save.click()
    # The click only starts that run (what is checked is the closed dialog): in one CI run of
    # five the first click on the just-opened popover left the box unchecked, so it is tried
    # again until the box is checked.
    share = page.get_by_role("checkbox", name="Share with my workspace")
    for _ in range(3):
        page.get_by_test_id("stPopoverBody").get_by_text("Share with my workspace").click()
        try:
            expect(share).to_be_checked(timeout=5_000)
            break
        except AssertionError:
            page.wait_for_function(IDLE)
    expect(share).to_be_checked()
    page.wait_for_timeout(1_000)  # the run has started; then wait for it to end
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"stApp\"]')"
        "?.getAttribute('data-test-script-state') === 'notRunning'",
        timeout=20_000,
    )
    page.keyboard.press("Escape")  # the popover (a dialog too, to a screen reader)
    expect(dialog).to_have_count(0)
    page.get_by_role("button", name="Search", exact=True).click()
    expect(dialog.get_by_label("IP")).to_have_value("", timeout=10_000)  # filled from the URL
    dialog.get_by_label("IP").fill(target.ip)
    dialog.get_by_label("IP").press("Enter")
    dialog.get_by_role("button", name="Apply").click()
    expect(dialog).to_have_count(0, timeout=20_000)
    expect(page.get_by_text("1 filter active: IP")).to_be_visible(timeout=20_000)
    expect(page).to_have_url(re.compile(r"[?&]ip="))
    rows = _grid(page).locator(".ag-center-cols-container .ag-row")
    expect(rows).to_have_count(len(expected), timeout=20_000)
    assert {int(r.get_attribute("row-id")) for r in rows.all()} == expected
    page.get_by_role("button", name="Search · 1", exact=True).click()
    expect(dialog.get_by_label("IP")).to_have_value(target.ip, timeout=10_000)
    dialog.get_by_role("button", name="Reset").click()
    expect(page.get_by_text("1 filter active: IP")).to_have_count(0, timeout=20_000)
    expect(page.get_by_text(f"{get_settings().page_size} sessions loaded")).to_be_visible()


def test_shared_filter_url_shows_only_matching_rows(page, server):
    from playwright.sync_api import expect

    base, _ = server
    page.goto(base + "/?channel=email&sort=last_message")
    expect(page.get_by_text("1 filter active: Channel")).to_be_visible(timeout=60_000)
    icons = _grid(page).locator(".ag-center-cols-container .channel-icon")
    expect(icons.first).to_be_visible(timeout=20_000)
    assert {i.get_attribute("title") for i in icons.all()} == {"Email"}
    page.screenshot(path=str(SHOTS / "filtered.png"))


def test_a_click_on_a_sortable_header_switches_the_sort(page, server):
    """The spec: click the sort icon next to Start or the last-message column to switch the sort
    key; the active one is highlighted. The server sorts (the table holds one page of many)."""
    from playwright.sync_api import expect

    base, engine = server
    page.goto(base + "/")
    grid = _grid(page)
    start, last = (
        grid.locator(f'.ag-header-cell[col-id="{c}"]') for c in ("started", "last_message")
    )
    opened = _newest(engine, ChatSession.message_count > 2)
    expect(_row(page, opened.id)).to_be_visible(timeout=60_000)
    _row(page, opened.id).locator('[col-id="agent"]').click()
    expect(page).to_have_url(re.compile(rf"[?&]session={opened.id}\b"), timeout=20_000)
    expect(start).to_have_class(re.compile(r"\bsort-active\b"), timeout=60_000)
    expect(start).to_have_attribute("aria-sort", "descending")
    expect(last).to_have_class(re.compile(r"\bsort-other\b"))
    last.locator(".ag-sort-indicator-icon").last.click()  # its sort icon
    expect(page).to_have_url(re.compile(r"[?&]sort=last_message\b"), timeout=20_000)
    expect(last).to_have_class(re.compile(r"\bsort-active\b"), timeout=20_000)
    expect(last).to_have_attribute("aria-sort", "descending")
    expect(start).to_have_class(re.compile(r"\bsort-other\b"))
    switch = page.get_by_role("radio", name="Last message")  # the Sort by switch follows
    expect(switch).to_have_attribute("aria-checked", "true")
    page.wait_for_function(IDLE)
    with engine.connect() as conn:
        newest = conn.scalars(
            select(ChatSession.id)
            .where(ChatSession.tenant_id == 1)
            .order_by(ChatSession.last_message_at.desc(), ChatSession.id.desc())
            .limit(3)
        ).all()
    first = grid.locator(".ag-center-cols-container .ag-row")
    expect(first.first).to_have_attribute("row-id", str(newest[0]))
    # The open session's row is still highlighted in the grid of the new sort.
    expect(_row(page, opened.id)).to_have_class(re.compile(r"\bag-row-selected\b"))
    start.locator(".ag-header-cell-label").click()  # the header itself sorts too
    expect(page).to_have_url(re.compile(r"[?&]sort=started\b"), timeout=20_000)
    expect(start).to_have_class(re.compile(r"\bsort-active\b"), timeout=20_000)
    page.wait_for_function(IDLE)
    expect(_row(page, opened.id)).to_have_class(re.compile(r"\bag-row-selected\b"))


def test_showcase_session_reads_as_it_happened(page, server):
    from playwright.sync_api import expect

    base, engine = server
    cs = appdb.showcase(engine)
    photo = io.BytesIO()  # the customer's photo of the torn sleeve, as a phone sends it: upright
    PILImage.new("RGB", (1170, 2532), "teal").save(photo, "PNG")
    with Session(engine) as db, db.begin():
        db.execute(
            update(Attachment)
            .where(Attachment.session_id == cs.id, Attachment.file_name == "torn-sleeve.png")
            .values(content=photo.getvalue(), size_bytes=len(photo.getvalue()))
        )
    page.set_viewport_size({"width": 1600, "height": 2200})
    page.goto(f"{base}/?session={cs.id}")
    main = page.get_by_test_id("stMain")
    expect(main.get_by_text("Draft from Copilot")).to_be_visible(timeout=60_000)
    expect(main.get_by_text("Private note", exact=True)).to_be_visible()
    expect(main.get_by_text("Grace Kim", exact=True)).to_be_visible()  # bold name on top
    assert main.locator("strong", has_text="Grace Kim").count() >= 1
    expect(main.get_by_text(re.compile(r"^Transfer to human agent at "))).to_be_visible()
    expect(main.get_by_text("Customer reaction: 👍")).to_be_visible()
    expect(main.get_by_role("link", name="returns policy")).to_have_attribute(
        "href", "https://example.com/returns"
    )
    expect(main.get_by_test_id("sl-image").filter(has_text="torn-sleeve.png")).to_be_visible()
    expect(main.get_by_text("invoice-2026-11.pdf")).to_be_visible()
    # What sits under a bubble (a file's card, a picture, "View trace") stays within the chat's
    # column: the customer's line up with their bubbles instead of running past the column's
    # right edge into the panel.
    spill = main.evaluate(
        """m => [...m.querySelectorAll('[class*="st-key-sl-under-"]')].map(e => {
            const col = e.closest('[data-testid="stColumn"]').getBoundingClientRect();
            const r = e.getBoundingClientRect();
            const inner = [...e.querySelectorAll('.sl-file, .sl-img')].map(
                x => x.getBoundingClientRect().right);
            return Math.max(r.right, ...inner) - col.right;
        })"""
    )
    assert len(spill) >= 2 and max(spill) <= 0.5, spill
    dashed = main.locator(".sl-bubble.sl-dashed").first
    assert "dashed" in dashed.evaluate("e => getComputedStyle(e).borderStyle")
    # Every avatar shows its picture (the frame's CSS; the chat's own CSS comes later and must
    # not undo it), one picture per kind of author.
    pictures = main.locator(".sl-avatar").evaluate_all(
        "els => els.map(e => [e.getAttribute('aria-label'), getComputedStyle(e).backgroundImage])"
    )
    assert {"Customer", "AI agent", "Human agent", "Copilot draft", "Private note"} <= {
        who for who, _ in pictures
    }
    assert all(image.startswith('url("data:image/svg+xml,') for _, image in pictures), pictures
    assert len({image for _, image in pictures}) >= 5
    page.screenshot(path=str(SHOTS / "chat-showcase.png"))
    # A click on the image opens the whole picture over the page, loaded from the server (its
    # own pixels, not the preview's); a click closes it, and so does Escape, on a keyboard too.
    image = main.get_by_test_id("sl-image").filter(has_text="torn-sleeve.png").locator("img")
    assert image.evaluate("i => getComputedStyle(i).cursor") == "zoom-in"
    size = [1170, 2532]
    assert image.evaluate("i => [i.naturalWidth, i.naturalHeight]") == [260, 563]  # the preview
    # shown no taller than a few messages, not as tall as the chat's box, and not squashed
    shown_w, shown_h = image.evaluate("i => [i.clientWidth, i.clientHeight]")
    assert shown_h == 320 and abs(shown_w / shown_h - 260 / 563) < 0.01
    # On a slow network (the picture's request held here until released), the preview shows at
    # once in the place and size of the whole picture, then the picture takes its place.
    held = []
    page.route(re.compile(r"/files/\d+\?.*view=1"), lambda route: held.append(route))
    image.click()
    shown = page.get_by_role("dialog", name="torn-sleeve.png")
    expect(shown).to_be_visible(timeout=10_000)
    big = shown.get_by_role("img", name="torn-sleeve.png")
    expect(shown).to_contain_text("loading…")
    got = "i => [i.naturalWidth, +i.getAttribute('width'), +i.getAttribute('height'), i.height]"
    natural, width, height, drawn = big.evaluate(got)
    assert [natural, width, height] == [260, *size] and drawn > 563  # larger than the preview
    assert big.get_attribute("src").startswith("data:image/")
    page.wait_for_timeout(200)  # the route handler has run (Playwright calls it between steps)
    assert len(held) == 1
    held[0].continue_()
    page.unroute(re.compile(r"/files/\d+\?.*view=1"))
    expect(shown).not_to_contain_text("loading…", timeout=10_000)
    big.evaluate("i => i.decode()")
    assert big.evaluate("i => [i.naturalWidth, i.naturalHeight]") == size
    assert shown.evaluate("e => e.offsetWidth") == page.viewport_size["width"]
    expect(shown.get_by_role("button", name="Close torn-sleeve.png")).to_be_focused()
    shown.click(position={"x": 5, "y": 5})
    expect(shown).to_have_count(0, timeout=10_000)
    main.get_by_role("link", name="torn-sleeve.png").focus()
    page.keyboard.press("Enter")
    expect(shown).to_be_visible(timeout=10_000)
    page.keyboard.press("Escape")
    expect(shown).to_have_count(0, timeout=10_000)
    expect(main.get_by_role("link", name="torn-sleeve.png")).to_be_focused()
    # A link that no longer opens the picture (here, its ticket altered) says so in words.
    main.get_by_role("link", name="torn-sleeve.png").evaluate(
        "a => { a.href = a.href.replace('ticket=', 'ticket=x'); }"
    )
    image.click()
    expect(
        shown.get_by_role("alert").filter(has_text="the picture could not be loaded")
    ).to_be_visible(timeout=10_000)
    expect(shown.get_by_role("img")).to_have_count(0)
    page.keyboard.press("Escape")
    expect(shown).to_have_count(0, timeout=10_000)


# The chat's own way of finding the box that scrolls (components/chat.py), then where the box and
# the element are in the window.
_SCROLL_BOX_OF = (
    "e => {"
    + SCROLL_BOX_JS
    + """
  const box = slScrollBox(e.parentElement, true);
  const b = box ? box.getBoundingClientRect() : null, t = e.getBoundingClientRect();
  return b && {x: b.left + b.width / 2, y: b.top + b.height / 2, top: b.top, bottom: b.bottom,
               t: t.top, tb: t.bottom};
}"""
)


def _wheel_chat_to(page, target) -> None:
    """Bring ``target`` into view in the chat's box with the mouse wheel, as a reader does. The
    chat follows its end until the reader scrolls it (``components/chat.py``, ``_FOLLOW_JS``), so
    a scroll the test makes for itself (``scroll_into_view_if_needed``) is undone by the next
    change in the page, and a hover on the element then points at another message."""
    page.wait_for_function(IDLE)
    for _ in range(40):
        at = target.evaluate(_SCROLL_BOX_OF)
        if at is None or (at["t"] >= at["top"] and at["tb"] <= at["bottom"]):
            return
        page.mouse.move(at["x"], at["y"])
        page.mouse.wheel(0, max(-400, min(400, at["t"] - at["y"])))
        page.wait_for_timeout(100)
    raise AssertionError("the chat did not scroll to the element")


def test_delivery_tooltip_shows_utc_time_and_note(page, server):
    from playwright.sync_api import expect

    base, engine = server
    from db.models import Message

    with engine.connect() as conn:
        m = conn.execute(select(Message).where(Message.delivery_status == "failed").limit(1)).one()
    page.goto(f"{base}/?session={m.session_id}")
    main = page.get_by_test_id("stMain")
    expect(main.get_by_text("⚠️ failed").first).to_be_visible(timeout=60_000)
    target = main.locator(".sl-tip", has_text="⚠️ failed").first
    tip = target.locator(".sl-tiptext")
    expect(tip).to_be_hidden()  # shown on hover only
    _wheel_chat_to(page, target)
    target.hover()
    expect(tip).to_be_visible()
    expect(tip).to_contain_text("UTC", timeout=10_000)
    expect(tip).to_contain_text(m.delivery_note)


def test_hostile_messages_run_nothing_and_still_show(page, server):
    from playwright.sync_api import expect

    base, engine = server
    sid = appdb.hostile_session(engine)
    page.goto(f"{base}/?session={sid}")
    main = page.get_by_test_id("stMain")
    expect(main.get_by_text("**unclosed *markdown [link(", exact=False)).to_be_visible(
        timeout=60_000
    )
    expect(main.get_by_text("Hello")).to_be_visible()
    assert main.locator("b", has_text="there").count() == 0  # raw HTML is shown, not rendered
    click = main.get_by_text("click me")
    expect(click).to_be_visible()
    href = click.evaluate("e => e.closest('a') ? e.closest('a').getAttribute('href') : null")
    assert href is None or not href.strip().lower().startswith("javascript")
    if href is not None:
        click.click()
    page.wait_for_timeout(500)
    assert page.evaluate("() => window.__xss") is None
    assert main.locator("script").filter(has_text="__xss").count() == 0
    assert main.locator("img[onerror]").count() == 0


def test_copy_works_where_the_browser_has_no_clipboard_api(page, server):
    """Over plain HTTP on a team's network (not localhost) a browser offers no Clipboard API:
    Copy copies all the same (from a selected, hidden text area), and says so."""
    from playwright.sync_api import expect

    base, engine = server
    cs = appdb.showcase(engine)
    page.add_init_script(
        "Object.defineProperty(Navigator.prototype, 'clipboard', {get: () => undefined});"
        "document.addEventListener('copy', () => {"
        " window.__copied = document.getSelection().toString()"
        " || (document.activeElement && document.activeElement.value); });"
    )
    page.goto(f"{base}/?session={cs.id}")
    main = page.get_by_test_id("stMain")
    main.get_by_role("button", name="Copy", exact=True).click(timeout=60_000)  # the draft
    expect(main.get_by_role("button", name="Copied")).to_be_visible(timeout=5_000)
    assert (page.evaluate("() => window.__copied") or "").startswith("I'm sorry")


def test_logs_drawer_search_step_copy_and_trace_link(page, server, context):
    from playwright.sync_api import expect

    base, engine = server
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    cs = appdb.showcase(engine)
    page.goto(f"{base}/?session={cs.id}")
    main = page.get_by_test_id("stMain")
    main.get_by_role("button", name="Copy", exact=True).click()  # the Copilot draft
    expect(main.get_by_role("button", name="Copied")).to_be_visible(timeout=5_000)
    assert page.evaluate("() => navigator.clipboard.readText()").startswith("I'm sorry")
    main.get_by_role("button", name="Logs").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_text(re.compile(r"^Calls 1–\d+ of \d+$"))).to_be_visible(timeout=20_000)
    dialog.get_by_label("Search").fill("returns")
    dialog.get_by_label("Search").press("Enter")
    counter = dialog.get_by_text(re.compile(r"^1 of \d+$"))
    expect(counter).to_be_visible(timeout=20_000)
    total = int(counter.inner_text().split(" of ")[1])
    expect(dialog.locator("mark.sl-now")).to_have_count(1)
    down = dialog.get_by_role("button").filter(
        has=page.locator('[data-testid="stIconMaterial"]', has_text="keyboard_arrow_down")
    )
    where = down.bounding_box()
    down.click()  # at once: the drawer scrolling to the match must not move the arrow away
    try:
        expect(dialog.get_by_text(f"2 of {total}" if total > 1 else "1 of 1")).to_be_visible(
            timeout=20_000
        )
    except AssertionError as lost:
        raise AssertionError("the step was not taken; " + _server_tail(base)) from lost
    page.wait_for_timeout(1_000)  # the entries' box has scrolled to the match
    assert down.bounding_box() == where  # the arrows stay under the reader's pointer
    box, now = dialog.locator(".st-key-logs_entries"), dialog.locator("mark.sl-now")
    b, m = box.bounding_box(), now.bounding_box()
    assert b["y"] <= m["y"] and m["y"] + m["height"] <= b["y"] + b["height"]  # in sight
    # the copy button is ours (it copies without a rerun) but reads like the Refresh beside it
    look = "e => { const s = getComputedStyle(e); return [s.fontSize, s.borderColor]; }"
    copy = dialog.get_by_role("button", name="Copy to clipboard")
    refresh = dialog.get_by_role("button", name="Refresh")
    assert copy.evaluate(look) == [
        refresh.locator("p").evaluate(look)[0],
        refresh.evaluate(look)[1],
    ]
    copy.click()
    expect(dialog.get_by_role("button", name="Copied")).to_be_visible(timeout=5_000)
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert "Agent: main_agent" in copied and "Action: reply" in copied
    page.screenshot(path=str(SHOTS / "logs.png"))
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0, timeout=10_000)
    main.get_by_role("button", name="View trace").first.click()
    expect(page.get_by_role("dialog").locator(".sl-focus")).to_be_visible(timeout=20_000)


def test_import_a_recording_and_watch_it_fill_in(page, server, tmp_path):
    from playwright.sync_api import expect

    from db.models import Agent
    from tests.test_import import SENTENCE, _espeak

    base, engine = server
    wav = _espeak(SENTENCE, tmp_path / "support-call.wav")
    page.goto(base + "/")
    page.get_by_role("button", name="Import session").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(wav))
    expect(dialog.get_by_text("support-call.wav")).to_be_visible(timeout=20_000)
    # The call belongs to an AI agent the workspace does not have yet: named here, made with it
    dialog.get_by_test_id("stSelectbox").filter(has_text="AI agent").click()
    page.get_by_role("option", name="New AI agent…").click()
    dialog.get_by_label("Name of the new AI agent").fill("Echo (Night shift)")
    # While the call is transcribed its player shows under the chat; when the transcript comes,
    # the page reruns. From the import on, every change of the page is watched: never two
    # players at once (the old one left in place while the new one is drawn one slot higher).
    page.evaluate(
        """() => {
            window.slPlayersSeen = 0;
            const count = () => document.querySelectorAll(
                '[data-testid="stMain"] [data-testid="sl-recording-player"]').length;
            new MutationObserver(() => {
                window.slPlayersSeen = Math.max(window.slPlayersSeen, count());
            }).observe(document.body, {subtree: true, childList: true});
        }"""
    )
    dialog.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_text("Imported support-call.wav: transcription started")).to_be_visible(
        timeout=30_000
    )
    main = page.get_by_test_id("stMain")
    expect(main.get_by_text(re.compile(r"router password", re.IGNORECASE))).to_be_visible(
        timeout=90_000
    )
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"stApp\"]')"
        "?.getAttribute('data-test-script-state') === 'notRunning'",
        timeout=30_000,
    )
    assert page.evaluate("() => window.slPlayersSeen") == 1
    with Session(engine) as db:
        newest = db.scalars(select(ChatSession).order_by(ChatSession.id.desc()).limit(1)).one()
        assert db.get_one(Agent, newest.agent_id).name == "Echo (Night shift)"
    # The recording streams from the server: the player reads how long the call is, and the
    # download link saves the file under its name, byte for byte.
    player = main.get_by_test_id("sl-recording-player")
    expect(player).to_be_visible()
    duration = player.evaluate(
        """a => new Promise((done, fail) => {
            a.addEventListener('loadedmetadata', () => done(a.duration));
            a.addEventListener('error', () => fail(new Error('player: ' + a.error.code)));
            a.preload = 'metadata'; a.load();
        })"""
    )
    with wave.open(str(wav)) as w:
        assert abs(duration - w.getnframes() / w.getframerate()) < 0.1
    with page.expect_download() as got:
        main.get_by_role("link", name="Download recording").click()
    assert got.value.suggested_filename == "support-call.wav"
    assert Path(got.value.path()).read_bytes() == wav.read_bytes()
    page.screenshot(path=str(SHOTS / "imported.png"))


def test_a_deep_link_as_the_first_request_runs_the_whole_frame(page, server, tmp_path):
    """The very first request to a fresh server is a deep link to /sessions: the navigation, the
    wide layout and the location-data credit are there, as when the user starts from /, the session
    opens, and no "Page not found" appears."""
    from playwright.sync_api import expect

    _, engine = server
    url = engine.url.render_as_string(hide_password=False)
    proc, base = _start(url, tmp_path / "blobs")
    try:
        sid = appdb.showcase(engine).id
        page.goto(f"{base}/sessions?session={sid}")
        sidebar = page.get_by_test_id("stSidebar")
        expect(sidebar.get_by_text("location data built")).to_be_visible(timeout=60_000)
        expect(sidebar.get_by_role("link", name="Sessions")).to_be_visible()
        expect(sidebar.get_by_role("link", name="360 View")).to_be_visible()
        expect(page.get_by_text("Draft from Copilot")).to_be_visible(timeout=60_000)
        assert f"session={sid}" in page.url
        page.wait_for_timeout(1000)
        assert page.get_by_text("Page not found").count() == 0  # /sessions is a real address
        page.get_by_test_id("stSidebar").get_by_role("link", name="360 View").click()
        expect(page.get_by_role("heading", name="360 View")).to_be_visible(timeout=30_000)
    finally:
        proc.terminate()
        proc.wait(10)


def test_clicking_through_sessions_leaves_one_listener_of_each_kind(page, server, context):
    """A lead clicks through session after session in one sitting. The page's elements wire
    their listeners again each time their data changes (a row picked), and Streamlit does not
    undo the previous call's: they piled up, one more set per click, the older ones holding the
    older open session. Counted with Chromium's DevTools: after five clicks, the page hears row
    picks and "View trace" clicks once each, and the chat's scroll box has one scroll listener."""
    from playwright.sync_api import expect

    base, engine = server
    page.goto(f"{base}/")
    cdp = context.new_cdp_session(page)

    def listeners(expression: str) -> list[str]:
        target = cdp.send("Runtime.evaluate", {"expression": expression})["result"]
        found = cdp.send("DOMDebugger.getEventListeners", {"objectId": target["objectId"]})
        return sorted(x["type"] for x in found["listeners"])

    rows = _grid(page).locator(".ag-center-cols-container .ag-row")
    expect(rows.first).to_be_visible(timeout=60_000)
    for n in range(5):
        rows.nth(n).locator('[col-id="agent"]').click()
        sid = rows.nth(n).get_attribute("row-id")
        expect(page).to_have_url(re.compile(rf"[?&]session={sid}\b"), timeout=30_000)
        page.wait_for_function(IDLE)
    assert listeners("document").count("sl-row-picked") == 1
    box = "[...document.querySelectorAll('*')].find((e) => e.slFollow)"  # hears the chat's box
    assert listeners(box).count("scroll") == 1


def test_odd_attachments_and_remote_images_break_nothing_and_load_nothing(page, server):
    from playwright.sync_api import expect

    base, engine = server
    sid = appdb.odd_session(engine, "attachments")
    requests, failures = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("response", lambda r: r.status >= 500 and failures.append((r.status, r.url)))
    page.goto(f"{base}/?session={sid}")
    main = page.get_by_test_id("stMain")
    expect(main.get_by_text("Files attached.")).to_be_visible(timeout=60_000)
    expect(main.get_by_role("link", name=re.compile(r"tracker \(127\.0\.0\.1\)"))).to_be_visible()
    for name, _, _ in appdb.ODD_FILES:
        expect(main.get_by_text(name, exact=True).first).to_be_visible()
    expect(main.get_by_role("button", name="Hand over to the operator")).to_be_visible()
    expect(page.get_by_text("Contact info")).to_be_visible()
    assert main.get_by_role("link", name="Verify").count() == 0  # a file name is never a link
    # Download each odd file: the file route answers with its name and bytes, never a 500.
    links = main.get_by_role("link", name="Download", exact=True).all()
    assert len(links) >= len(appdb.ODD_FILES)
    for link in links:
        with page.expect_download() as dl:
            link.click()
        saved = dl.value.suggested_filename  # the browser makes a name safe for the disk
        assert saved and "/" not in saved and Path(dl.value.path()).stat().st_size > 0
    page.wait_for_timeout(500)
    assert not [u for u in requests if "track.png" in u]  # the tracking pixel was never fetched
    assert not failures, failures
    assert page.evaluate("() => window.__xss") is None
    page.screenshot(path=str(SHOTS / "odd-attachments.png"))


def test_sign_in_reload_second_tab_and_sign_out(browser, server):
    """A visitor without the cookie sees the sign-in form and nothing of any session, even on a
    deep link; a wrong password is named; the right one lands on the link; a reload and a second
    tab stay signed in; "Change password" in the sidebar sets one of his own and keeps him
    signed in; Sign out ends both tabs."""
    from playwright.sync_api import expect

    from db.models import User
    from sessionlens import auth
    from sessionlens.auth import DEMO_PASSWORD

    base, engine = server
    cs = appdb.showcase(engine)
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = context.new_page()
    page.goto(f"{base}/?session={cs.id}")
    expect(page.get_by_role("heading", name="Sign in to Sessionlens")).to_be_visible(timeout=60_000)
    assert "Draft from Copilot" not in page.content()
    page.get_by_label("Email").fill(
        "luis.ortega@northwind.example"
    )  # not the shared cookie's admin
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("The email or the password is wrong")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    main = page.get_by_test_id("stMain")
    expect(main.get_by_text("Draft from Copilot")).to_be_visible(timeout=60_000)
    assert f"session={cs.id}" in page.url
    cookie = next(c for c in context.cookies() if c["name"] == "sessionlens_auth")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["expires"] > time.time()
    assert DEMO_PASSWORD not in page.url

    page.reload()
    expect(main.get_by_text("Draft from Copilot")).to_be_visible(timeout=60_000)
    second = context.new_page()
    second.goto(f"{base}/customer?customer={cs.customer_id}")
    expect(second.get_by_role("heading", name="360 View")).to_be_visible(timeout=60_000)
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_text("Signed in as Luis Ortega · Lead")).to_be_visible()
    # A password of his own, from the sidebar; this browser stays signed in
    sidebar.get_by_role("link", name="Change password").click()
    expect(page.get_by_role("heading", name="Change your password")).to_be_visible(timeout=30_000)
    page.get_by_label("Current password").fill(DEMO_PASSWORD)
    page.get_by_label("New password", exact=True).fill("luis has his own")
    page.get_by_label("New password again").fill("luis has his own")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("heading", name="Your password is changed")).to_be_visible()
    page.get_by_role("link", name="Back to Sessionlens").click()
    expect(sidebar.get_by_text("Signed in as Luis Ortega · Lead")).to_be_visible(timeout=60_000)
    with Session(engine) as db, db.begin():  # the demo's password again, for what runs later
        luis = db.scalars(select(User).where(User.email == "luis.ortega@northwind.example")).one()
        luis.password_hash = auth.demo_password_hash()
    sidebar.get_by_role("link", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to Sessionlens")).to_be_visible(timeout=30_000)
    second.reload()
    expect(second.get_by_role("heading", name="Sign in to Sessionlens")).to_be_visible(
        timeout=60_000
    )
    context.close()


def test_a_tampered_or_expired_cookie_signs_out(browser, server, signed_in_cookie):
    import datetime as dt

    from playwright.sync_api import expect
    from sqlalchemy.orm import Session

    from sessionlens import auth, identity

    base, engine = server
    body, mac = signed_in_cookie["value"].split(".")
    with Session(engine) as db:
        url = engine.url.render_as_string(hide_password=False)
        expired = auth.issue_token(
            identity.default_actor(db),
            db,
            secret=auth.secret_key("", url),
            now=dt.datetime.now(dt.UTC) - dt.timedelta(days=2),
            days=1,
        )
    for value in (f"{body}x.{mac}", expired):
        bad = {**signed_in_cookie, "value": value}
        context = browser.new_context(storage_state={"cookies": [bad], "origins": []})
        page = context.new_page()
        page.goto(f"{base}/")
        expect(page.get_by_role("heading", name="Sign in to Sessionlens")).to_be_visible(
            timeout=60_000
        )
        context.close()


def test_a_page_left_open_stops_answering_once_its_user_signed_out(browser, server):
    """Two tabs of one user. Signing out in one ends the other's sign-in too, although what
    runs there next reruns only part of the page, outside the frame's sign-in check: a row click
    (the detail area alone) or the live poll, whichever comes first. Before, the row click
    opened the session for a user who had signed out; now the tab goes to the sign-in form."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import expect

    base, engine = server
    context = _as(browser, server, "kenji.sato@northwind.example")
    left_open = context.new_page()
    left_open.goto(f"{base}/")
    cs = _newest(engine, ChatSession.message_count > 2)
    expect(_row(left_open, cs.id)).to_be_visible(timeout=60_000)
    left_open.wait_for_function(IDLE)
    other = context.new_page()
    other.goto(f"{base}/auth/sign-out")
    expect(other.get_by_role("heading", name="Sign in to Sessionlens")).to_be_visible(
        timeout=30_000
    )
    try:
        _row(left_open, cs.id).locator('[col-id="agent"]').click(timeout=15_000)
    except PlaywrightTimeout:  # the poll came first and took the tab away from the table
        assert "/auth/sign-in" in left_open.url, left_open.url
    expect(left_open.get_by_role("heading", name="Sign in to Sessionlens")).to_be_visible(
        timeout=30_000
    )
    assert left_open.get_by_role("heading", name=appdb.chat_title(cs.message_count)).count() == 0
    context.close()


@pytest.mark.parametrize("proxies, signed_in", [("127.0.0.1", True), ("10.0.0.1", False)])
def test_header_mode_believes_only_the_configured_proxy(
    browser, server, tmp_path, proxies, signed_in
):
    """Behind oauth2-proxy and the like: the proxy's header names the user. Here the browser sends
    the header itself from 127.0.0.1, standing in for the proxy; configured to trust another
    address, the same header signs nobody in."""
    from playwright.sync_api import expect

    _, engine = server
    url = engine.url.render_as_string(hide_password=False)
    proc, base = _start(
        url,
        tmp_path / "blobs",
        {"SESSIONLENS_AUTH": "header", "SESSIONLENS_TRUSTED_PROXIES": proxies},
    )
    try:
        context = browser.new_context(
            extra_http_headers={"X-Forwarded-Email": "grace.kim@northwind.example"}
        )
        page = context.new_page()
        page.goto(base + "/")
        if signed_in:
            expect(page.get_by_text("Signed in as Grace Kim · Operator")).to_be_visible(
                timeout=60_000
            )
            expect(page.get_by_text("Sign out")).to_have_count(0)  # the proxy signs out
        else:
            expect(page.get_by_text("Ask your administrator for access")).to_be_visible(
                timeout=60_000
            )
            assert _grid(page).locator(".ag-row").count() == 0
        assert urllib.request.urlopen(base + "/_stcore/health").status == 200
        try:
            urllib.request.urlopen(base + "/auth/sign-in")
            raise AssertionError("the password form must be off in header mode")
        except urllib.error.HTTPError as err:
            assert err.code == 404
        context.close()
    finally:
        proc.terminate()
        proc.wait(10)


def test_oidc_sign_in_known_and_unknown_people(browser, server, tmp_path):
    """SESSIONLENS_AUTH=oidc against tests/oidc_provider.py, which stands in for the real provider:
    a known email signs in with its role, sign out works, an unknown email gets no account."""
    from playwright.sync_api import expect

    from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider

    _, engine = server
    provider = Provider(appdb.free_port())
    provider.start()
    port = appdb.free_port()
    secrets_file = tmp_path / "secrets.toml"
    secrets_file.write_text(
        "[auth]\n"
        f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        'cookie_secret = "a-test-cookie-secret-of-some-length"\n'
        f'client_id = "{CLIENT_ID}"\n'
        f'client_secret = "{CLIENT_SECRET}"\n'
        f'server_metadata_url = "{provider.base}/.well-known/openid-configuration"\n'
    )
    url = engine.url.render_as_string(hide_password=False)
    proc, base = _start(
        url,
        tmp_path / "blobs",
        {"SESSIONLENS_AUTH": "oidc"},
        ["--secrets.files", str(secrets_file)],
        port=port,
    )
    try:
        context = browser.new_context()
        page = context.new_page()
        page.goto(base + "/")
        page.get_by_role("button", name="Sign in").click(timeout=60_000)
        page.get_by_label("Email").fill("grace.kim@northwind.example")
        page.get_by_role("button", name="Continue").click()
        sidebar = page.get_by_test_id("stSidebar")
        expect(sidebar.get_by_text("Signed in as Grace Kim · Operator")).to_be_visible(
            timeout=60_000
        )
        expect(page.get_by_text("sessions loaded")).to_be_visible(timeout=30_000)
        sidebar.get_by_role("button", name="Sign out").click()
        expect(page.get_by_role("button", name="Sign in")).to_be_visible(timeout=60_000)

        page.get_by_role("button", name="Sign in").click()
        page.get_by_label("Email").fill("stranger@example.com")
        page.get_by_role("button", name="Continue").click()
        expect(page.get_by_text("Ask your administrator for access")).to_be_visible(timeout=60_000)
        assert page.get_by_text("sessions loaded").count() == 0
        context.close()
    finally:
        proc.terminate()
        proc.wait(10)
        provider.stop()


def _as(browser, server, email: str):  # type: ignore[no-untyped-def]
    _, engine = server
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SESSIONLENS_DATABASE_URL", engine.url.render_as_string(hide_password=False))
        get_settings.cache_clear()
        token = appdb.token_for(engine, email)
    get_settings.cache_clear()
    cookie = {"name": "sessionlens_auth", "value": token, "domain": "127.0.0.1", "path": "/"}
    return browser.new_context(
        storage_state={"cookies": [cookie], "origins": []}, viewport={"width": 1600, "height": 1000}
    )


def test_a_viewer_sees_hand_over_disabled_with_the_reason(browser, server):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import expect

    base, engine = server
    cs = appdb.find_session(engine, ChatSession.finished_at.is_(None), ChatSession.mode == "ai")
    context = _as(browser, server, "viewer.vic@northwind.example")
    page = context.new_page()
    page.goto(f"{base}/?session={cs.id}")
    button = page.get_by_role("button", name="Hand over to the operator")
    expect(button).to_be_disabled(timeout=60_000)
    tooltip = page.get_by_test_id("stTooltipContent")
    # A hover while a run redraws the button (the page's own, or the live poll's) can lose its
    # tooltip; as a user would, move away and hover again.
    for _ in range(5):
        page.wait_for_function(IDLE)
        page.mouse.move(0, 0)
        button.hover(force=True)
        try:
            tooltip.wait_for(timeout=4_000)
            break
        except PlaywrightTimeout:
            continue
    expect(tooltip).to_contain_text("You do not have permission to hand over sessions")
    context.close()


def test_a_user_without_a_role_and_an_anonymous_visitor_see_no_sessions(browser, server):
    from playwright.sync_api import expect

    base, engine = server
    cs = appdb.showcase(engine)
    context = _as(browser, server, "uma.newcomer@northwind.example")
    page = context.new_page()
    page.goto(f"{base}/?session={cs.id}")
    expect(page.get_by_text("You have no access to sessions yet")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Ask your administrator (Dana Whitfield)", exact=False)).to_be_visible()
    assert _grid(page).locator(".ag-row").count() == 0
    assert "Draft from Copilot" not in page.content()
    context.close()

    anonymous = browser.new_context()
    page = anonymous.new_page()
    page.goto(f"{base}/customer?customer={cs.customer_id}")
    expect(page.get_by_role("heading", name="Sign in to Sessionlens")).to_be_visible(timeout=60_000)
    assert f"customer%3D{cs.customer_id}" in page.url  # back to the 360 View after signing in
    anonymous.close()


def test_export_sessions_downloads_what_was_picked(page, server):
    """Export sessions: the agent's sessions as JSONL, streamed by the route; an altered ticket
    gets a message, not a file."""
    from playwright.sync_api import expect

    base, engine = server
    page.goto(f"{base}/")
    page.get_by_role("button", name="Export sessions").click(timeout=60_000)
    dialog = page.get_by_role("dialog")
    link = dialog.locator("a.sl-export")
    expect(link).to_be_visible(timeout=20_000)
    first = link.get_attribute("href")
    dialog.get_by_text("JSONL (one session per line)").click()
    page.wait_for_function(
        "h => document.querySelector('a.sl-export')?.getAttribute('href') !== h", arg=first
    )
    with page.expect_download() as got:
        link.click()
    path = got.value.path()
    docs = [json.loads(x) for x in Path(path).read_text(encoding="utf-8").splitlines()]
    agent = docs[0]["agent"]
    assert docs and all(
        d["agent"] == agent and d["format"] == "sessionlens.session/v1" for d in docs
    )
    assert (
        got.value.suggested_filename.endswith(".jsonl")
        and "northwind-outfitters" in got.value.suggested_filename
    )
    href = link.get_attribute("href")
    try:
        urllib.request.urlopen(base + href.replace("ticket=", "ticket=x"))
        raise AssertionError("an altered ticket must not download")
    except urllib.error.HTTPError as err:
        assert err.code == 401


def test_an_open_dialog_keeps_what_was_typed_and_chosen_while_sessions_change(
    page, server, tmp_path
):
    """Streamlit draws an open dialog again on every run of the whole page, and text typed in
    it but not yet entered is lost when it does; and Import and Export were drawn only in their
    button's run, so the live poll's redraw closed them within seconds on a busy tenant. While a
    dialog is open the poll waits; closing the dialog shows what changed meanwhile. The messages
    are written to the database directly, as an agent runtime's would be."""

    from playwright.sync_api import expect

    from tests.test_exchange import doc

    base, engine = server
    page.goto(base + "/")
    rows = _grid(page).locator(".ag-center-cols-container .ag-row")
    expect(rows.first).to_be_visible(timeout=60_000)
    sid = int(rows.nth(1).get_attribute("row-id"))
    count = _row(page, sid).locator('[col-id="messages"]')
    before = int(count.inner_text())

    def a_message_lands_and_two_polls_pass() -> None:
        appdb.message_lands(engine, sid, "Meanwhile, elsewhere")
        page.wait_for_timeout((2 * get_settings().live_seconds + 1) * 1000)

    page.get_by_role("button", name="Search").click()
    dialog = page.get_by_role("dialog")
    words = dialog.get_by_role("textbox").first
    words.fill("refund")  # typed, not entered
    a_message_lands_and_two_polls_pass()
    assert words.input_value() == "refund"
    assert count.inner_text() == str(before)  # the page waits for the dialog
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(count).to_have_text(str(before + 1), timeout=20_000)

    path = tmp_path / "while-busy.jsonl"
    path.write_text(json.dumps(doc(external_id="ui-import-busy", agent="File Agent")) + "\n")
    page.get_by_role("button", name="Import session").click()
    dialog.get_by_text("Sessions file (JSON)").click()
    dialog.locator('[data-testid="stFileUploaderDropzoneInput"][accept*=".jsonl"]').set_input_files(
        str(path)
    )
    valid = dialog.get_by_text("1 session in while-busy.jsonl, all valid.")
    expect(valid).to_be_visible(timeout=20_000)
    a_message_lands_and_two_polls_pass()
    expect(valid).to_be_visible()
    dialog.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_text("while-busy.jsonl: 1 session: created 1")).to_be_visible(timeout=30_000)
    expect(dialog).to_have_count(0)
    expect(count).to_have_text(str(before + 2))


def test_import_a_sessions_file_then_the_same_file_again(page, server, tmp_path):
    from playwright.sync_api import expect

    from tests.test_exchange import doc

    base, _ = server
    good = tmp_path / "runtime-export.jsonl"
    good.write_text(json.dumps(doc(external_id="ui-import-1", agent="File Agent")) + "\n")
    bad = tmp_path / "broken.jsonl"
    bad.write_text(json.dumps(doc(external_id="ui-import-2", channel="pigeon")) + "\n")

    def upload(path: Path):  # type: ignore[no-untyped-def]
        page.goto(base + "/")
        page.get_by_role("button", name="Import session").click(timeout=60_000)
        dialog = page.get_by_role("dialog")
        dialog.get_by_text("Sessions file (JSON)").click()
        expect(dialog.get_by_text("format session-v1", exact=False)).to_be_visible(timeout=20_000)
        # The file input of the JSON uploader (the recording's may still be leaving the page).
        dialog.locator(
            '[data-testid="stFileUploaderDropzoneInput"][accept*=".jsonl"]'
        ).set_input_files(str(path))
        return dialog

    dialog = upload(bad)
    expect(dialog.get_by_text("broken.jsonl: nothing imported, 1 error")).to_be_visible(
        timeout=20_000
    )
    expect(dialog.get_by_text("line 1: $.channel: not one of", exact=False)).to_be_visible()
    dialog = upload(good)
    expect(dialog.get_by_text("1 session in runtime-export.jsonl, all valid.")).to_be_visible(
        timeout=20_000
    )
    dialog.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_text("runtime-export.jsonl: 1 session: created 1")).to_be_visible(
        timeout=30_000
    )
    dialog = upload(good)
    dialog.get_by_role("button", name="Import", exact=True).click(timeout=20_000)
    expect(page.get_by_text("unchanged 1; 0 new messages", exact=False)).to_be_visible(
        timeout=30_000
    )


def test_an_operator_is_told_before_importing_a_file_with_statuses_the_workspace_lacks(
    browser, server, tmp_path
):
    """Only an admin adds statuses to the workspace's list: an operator who picks a file whose
    sessions have statuses the list lacks is told which sessions, before any Import button, and
    nothing is written."""
    from playwright.sync_api import expect

    from tests.test_exchange import doc

    base, engine = server
    path = tmp_path / "their-statuses.jsonl"
    path.write_text(
        "".join(
            json.dumps(doc(external_id=f"ui-status-{i}", status=status)) + "\n"
            for i, status in enumerate(["waiting", "open", "on hold"])
        )
    )
    context = _as(browser, server, "grace.kim@northwind.example")
    page = context.new_page()
    page.goto(base + "/")
    page.get_by_role("button", name="Import session").click(timeout=60_000)
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("Sessions file (JSON)").click()
    dialog.locator('[data-testid="stFileUploaderDropzoneInput"][accept*=".jsonl"]').set_input_files(
        str(path)
    )
    expect(
        dialog.get_by_text("their-statuses.jsonl: nothing can be imported, 2 errors")
    ).to_be_visible(timeout=20_000)
    expect(
        dialog.get_by_text("session 'ui-status-2': $.status: 'on hold' is not one of", exact=False)
    ).to_be_visible()
    expect(dialog.get_by_role("button", name="Import", exact=True)).to_have_count(0)
    with Session(engine) as db:
        assert not db.scalars(
            select(ChatSession.id).where(ChatSession.external_id.like("ui-status-%"))
        ).all()
    context.close()


def test_rows_loaded_with_load_more_stay_loaded_when_a_change_made_elsewhere_shows(page, server):
    """The live poll reads the table's rows again when one of them changes elsewhere: as many as
    the lead loaded, in place. (It used to start again from the first page a few seconds after
    any Load More, and after every change.) The message is written to the database directly, as
    an agent runtime's would be."""

    from playwright.sync_api import expect
    from sqlalchemy.orm import Session

    from sessionlens import identity, sessions
    from sessionlens.filters import SessionFilter

    base, engine = server
    page.goto(base + "/")
    page.get_by_role("button", name="Load More").click(timeout=60_000)
    expect(page.get_by_text("100 sessions loaded")).to_be_visible(timeout=20_000)
    page.wait_for_timeout(2 * get_settings().live_seconds * 1000)  # two polls: nothing changed
    expect(page.get_by_text("100 sessions loaded")).to_be_visible()
    with Session(engine) as db:
        rows = sessions.list_page(
            db, SessionFilter(), actor=identity.default_actor(db), limit=100
        ).rows
    changed, last = rows[12], rows[99]
    viewport = _grid(page).locator(".ag-body-viewport")
    viewport.evaluate("e => { e.scrollTop = 300; }")
    cell = _row(page, changed.id).locator('[col-id="messages"]')
    expect(cell).to_have_text(str(changed.message_count))
    appdb.message_lands(engine, changed.id, "One more thing")
    expect(cell).to_have_text(str(changed.message_count + 1), timeout=20_000)
    expect(page.get_by_text("100 sessions loaded")).to_be_visible()
    assert viewport.evaluate("e => e.scrollTop") == 300  # the rows were updated in place
    viewport.evaluate("e => { e.scrollTop = e.scrollHeight; }")
    expect(_row(page, last.id)).to_be_visible()


def test_a_message_sent_through_the_api_appears_in_the_open_chat_without_a_click(page, server):
    import datetime as dt

    from playwright.sync_api import expect
    from sqlalchemy.orm import Session

    from sessionlens import admin, identity
    from tests.test_exchange import doc

    base, engine = server
    with Session(engine) as db, db.begin():
        key = admin.create_api_key(
            db, actor=identity.default_actor(db), name="live test", now=dt.datetime.now(dt.UTC)
        )

    def call(path: str, body: dict) -> int:
        req = urllib.request.Request(
            base + path,
            data=json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(req) as res:
            return res.status

    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    started = (now - dt.timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    body = doc(
        external_id="live-1",
        started_at=started,
        messages=[
            {
                "external_id": "l1",
                "author": "customer",
                "text": "Hello from the runtime",
                "sent_at": started,
            }
        ],
        logs=[],
    )
    assert call("/api/v1/sessions", body) == 201
    with engine.connect() as conn:
        sid = conn.scalar(select(ChatSession.id).where(ChatSession.external_id == "live-1"))
    page.goto(f"{base}/?session={sid}")
    main = page.get_by_test_id("stMain")
    expect(main.get_by_text("Hello from the runtime")).to_be_visible(timeout=60_000)
    expect(page.get_by_role("heading", name="Chat · 1 message")).to_be_visible()
    page.wait_for_timeout(1000)
    sent = now.isoformat().replace("+00:00", "Z")
    assert (
        call(
            "/api/v1/sessions/live-1/messages",
            {
                "external_id": "l2",
                "author": "ai",
                "text": "A reply written by the agent runtime",
                "sent_at": sent,
            },
        )
        == 200
    )
    expect(main.get_by_text("A reply written by the agent runtime")).to_be_visible(timeout=20_000)
    expect(page.get_by_role("heading", name="Chat · 2 messages")).to_be_visible()
    row = _row(page, sid)
    expect(row.locator('[col-id="messages"]')).to_have_text("2", timeout=20_000)


def test_a_long_parameter_shows_its_start_and_opens_whole(page, server):
    """A runtime's parameter can be a page of text: the panel shows its start and "show all N
    characters", which opens the rest in place ("show less" closes it), instead of a column of
    text that pushed the session's results out of sight."""
    from playwright.sync_api import expect
    from sqlalchemy.orm import Session

    from sessionlens import exchange, identity, ingest
    from tests.test_exchange import LOCATE, doc

    base, engine = server
    pasted = "The customer pasted the whole order page. " * 40 + "END-OF-PASTE"
    with Session(engine) as db, db.begin():
        sid = ingest.upsert_session(
            db,
            exchange.parse(
                exchange.SessionIn,
                doc(external_id="long-param", parameters={"page_text": pasted}, logs=[]),
            ),
            actor=identity.default_actor(db),
            now=dt.datetime.now(dt.UTC),
            locate=LOCATE,
        ).session_id
    page.goto(f"{base}/?session={sid}")
    panel = page.get_by_test_id("sl-panel")
    expect(panel.get_by_text("The customer pasted the whole order page.").first).to_be_visible(
        timeout=60_000
    )
    expect(panel.get_by_text("Session results")).to_be_in_viewport()
    end = panel.get_by_text("END-OF-PASTE")
    expect(end).to_be_hidden()
    panel.get_by_text(f"show all {len(pasted):,} characters").click()
    expect(end).to_be_visible()
    panel.get_by_text("show less").click()
    expect(end).to_be_hidden()


def test_human_agents_hand_over_accept_reply_note_resolve(browser, server):
    """Hand over on Sessions -> the conversation appears in Human Agents without a reload ->
    accept -> reply with Enter -> Copilot on, a draft, Use draft, edit, send -> private note ->
    resolve."""
    import datetime as dt

    from playwright.sync_api import expect

    base, engine = server
    cs = appdb.find_session(
        engine,
        ChatSession.finished_at.is_(None),
        ChatSession.mode == "ai",
        ChatSession.customer_id.is_not(None),
    )
    with engine.connect() as conn:
        from db.models import Customer

        customer = conn.scalar(select(Customer.name).where(Customer.id == cs.customer_id))
    operator = _as(browser, server, "grace.kim@northwind.example")
    work = operator.new_page()
    work.goto(f"{base}/human_agents")
    expect(work.get_by_role("heading", name="Human Agents")).to_be_visible(timeout=60_000)
    work.wait_for_timeout(1500)

    lead = _as(browser, server, "luis.ortega@northwind.example")
    page = lead.new_page()
    page.goto(f"{base}/?session={cs.id}")
    page.get_by_role("button", name="Hand over to the operator").click(timeout=60_000)
    expect(page.get_by_text("Session set to operator")).to_be_visible(timeout=30_000)

    # This conversation's card: the demo has several customers of one name, and the list may
    # already hold a card of another conversation with the same name.
    card = work.locator(f".st-key-ha_card_{cs.id}").get_by_role("button")
    expect(card).to_be_visible(timeout=30_000)  # no reload: the page polls
    expect(card).to_contain_text(customer)
    card.click()
    work.get_by_role("button", name="Accept").click(timeout=30_000)
    expect(work.get_by_text("You have this conversation now")).to_be_visible(timeout=30_000)
    expect(work.get_by_text("Human agent Grace Kim assigned at", exact=False)).to_be_visible()
    box = work.get_by_test_id("stChatInputTextArea")
    # A reply the console refuses goes back into the box, beside why (Enter empties it).
    pasted = "Hello, this is Grace.\u202e I will sort this out for you."
    box.fill(pasted)
    box.press("Enter")
    expect(work.get_by_text("The reply contains a control character (U+202E)")).to_be_visible(
        timeout=30_000
    )
    expect(box).to_have_value(pasted)
    box.fill("Hello, this is Grace. I will sort this out for you.")
    box.press("Enter")
    expect(work.get_by_text("Hello, this is Grace. I will sort this out for you.")).to_be_visible(
        timeout=30_000
    )
    expect(work.get_by_text("🕓 queued").last).to_be_visible()

    work.get_by_text("Copilot", exact=True).last.click()  # the switch
    for _ in range(40):  # the switch's callback writes the mode
        with engine.connect() as conn:
            if conn.scalar(select(ChatSession.mode).where(ChatSession.id == cs.id)) == "copilot":
                break
        work.wait_for_timeout(500)
    draft = "I have issued the refund; it reaches your card in 3 to 5 days."
    from sqlalchemy.orm import Session as OrmSession

    from db.models import ChatSession as CS
    from sessionlens.messages import append_message

    with OrmSession(engine) as db, db.begin():  # the agent runtime posts a draft
        live = db.get_one(CS, cs.id)
        assert live.mode == "copilot"
        append_message(
            db, live, author_kind="copilot_draft", text=draft, sent_at=dt.datetime.now(dt.UTC)
        )
    work.get_by_role("button", name="Use draft").click(timeout=30_000)  # appears without a click
    expect(box).to_have_value(draft, timeout=20_000)
    box.press("End")
    box.type(" Sorry again!")
    box.press("Enter")
    expect(work.get_by_text(draft + " Sorry again!")).to_be_visible(timeout=30_000)
    work.get_by_text("Private note").click()
    note = work.get_by_label("Note for colleagues (never sent to the customer)")
    note.fill("Refund \u202eapproved")  # refused: kept in the box
    work.get_by_role("button", name="Add note").click()
    expect(work.get_by_text("The note contains a control character (U+202E)")).to_be_visible(
        timeout=30_000
    )
    expect(note).to_have_value("Refund \u202eapproved")
    note.fill("Refund approved")
    work.get_by_role("button", name="Add note").click()
    # The note in the chat (a paragraph); the box may still hold the text for a moment, and
    # get_by_text would match it too (strict mode: two elements, once in CI)
    expect(work.locator("p").get_by_text("Refund approved", exact=True)).to_be_visible(
        timeout=30_000
    )
    expect(note).to_have_value("")  # sent: the box is empty again
    work.get_by_role("button", name="Resolve").click()
    work.get_by_role("button", name="Yes, resolve").click(timeout=20_000)
    expect(work.get_by_text("The session was resolved by Grace Kim at", exact=False)).to_be_visible(
        timeout=30_000
    )
    work.screenshot(path=str(SHOTS / "human-agents.png"))
    operator.close()
    lead.close()


def test_a_refused_invite_keeps_what_the_admin_typed(browser, server):
    """Settings' Invite form emptied itself when sent: an address the console refused
    ("dana@northwind", no dot) took the name typed beside it too. It stays to be fixed; once
    the invite goes through, the form is empty for the next one."""
    from playwright.sync_api import expect

    base, _ = server
    admin = _as(browser, server, "dana.whitfield@northwind.example")
    page = admin.new_page()
    page.goto(f"{base}/settings")
    form = page.get_by_test_id("stForm").filter(has_text="Invite")
    email = form.get_by_label("Email", exact=True)
    name = form.get_by_label("Name", exact=True)
    email.fill("nora.quinn@northwind", timeout=60_000)
    name.fill("Nora Quinn")
    form.get_by_role("button", name="Invite").click()
    expect(
        page.get_by_text("The email 'nora.quinn@northwind' is not an email address")
    ).to_be_visible(timeout=30_000)
    expect(email).to_have_value("nora.quinn@northwind")
    expect(name).to_have_value("Nora Quinn")
    email.fill("nora.quinn@northwind.example")
    form.get_by_role("button", name="Invite").click()
    expect(page.get_by_text("Invited nora.quinn@northwind.example as Viewer")).to_be_visible(
        timeout=30_000
    )
    expect(email).to_have_value("")
    expect(name).to_have_value("")
    admin.close()


def test_the_app_server_answers_a_wrong_api_request_in_json_not_with_the_console(server):
    """In the app's own server, Streamlit's page route takes every GET it has no other route for:
    a mistyped API URL got 200 and the console's HTML."""
    import json

    base, _ = server
    for path, status in [("/api/v1/sesions", 404), ("/api/v1/sessions", 405)]:
        try:
            urllib.request.urlopen(base + path)
            raise AssertionError(f"{path} answered 200")
        except urllib.error.HTTPError as err:
            assert err.code == status and err.headers["content-type"] == "application/json"
            assert f"GET {path}" in json.loads(err.read())["error"]


def test_search_opens_the_session_filters_dialog_and_reset_clears_them(page, server):
    from playwright.sync_api import expect

    base, _ = server
    page.goto(f"{base}/?channel=email")
    search = page.get_by_role("button", name="Search · 1", exact=True)
    expect(search).to_be_visible(timeout=60_000)
    search.click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_text("Session Filters")).to_be_visible(timeout=10_000)
    # The dialog's title and buttons come first; its date and multiselect widgets are drawn once
    # the browser has loaded their code, which is their first use on this page (seconds on a busy
    # machine).
    expect(dialog.get_by_text("Agents", exact=True)).to_be_visible(timeout=30_000)
    expect(dialog.get_by_role("textbox", name="Search what was said")).to_be_visible()
    page.screenshot(path=str(SHOTS / "search-dialog.png"))
    dialog.get_by_role("button", name="Reset").click()
    expect(dialog).to_have_count(0, timeout=10_000)
    expect(page.get_by_role("button", name="Search", exact=True)).to_be_visible(timeout=10_000)
    expect(page).not_to_have_url(re.compile(r"channel="))


def test_search_a_phrase_narrows_the_table_and_the_match_is_highlighted(page, server):
    """A lead types words remembered from a complaint; the table keeps the sessions that hold
    them, and the opened chat shows the match marked, in view, with "1 of n"."""
    from playwright.sync_api import expect

    from sessionlens import identity, search, sessions
    from sessionlens.filters import SessionFilter

    base, engine = server
    with Session(engine) as db:
        flt = SessionFilter(text=search.parse('"Rücksendung ist 30 Tage"'))  # German
        rows = sessions.list_page(db, flt, actor=identity.default_actor(db), limit=500).rows
    expected = {r.id for r in rows}
    assert 0 < len(expected) < 50
    page.goto(base + "/")
    page.get_by_role("button", name="Search", exact=True).click()
    dialog = page.get_by_role("dialog")
    box = dialog.get_by_role("textbox", name="Search what was said")
    expect(box).to_be_visible(timeout=60_000)
    box.fill('"rucksendung IST 30 tage"')  # without its accent, in other case
    box.press("Enter")
    dialog.get_by_role("button", name="Apply").click()
    expect(dialog).to_have_count(0, timeout=10_000)
    expect(page.get_by_text("1 filter active: Search")).to_be_visible(timeout=20_000)
    expect(page.get_by_text(f"{len(expected)} sessions loaded")).to_be_visible(timeout=20_000)
    grid_rows = _grid(page).locator(".ag-center-cols-container .ag-row")
    expect(grid_rows.first).to_be_visible(timeout=20_000)
    deadline = time.monotonic() + 20
    while True:  # the grid redraws in its own frame, a moment after the caption
        shown = {int(r.get_attribute("row-id")) for r in grid_rows.all()}  # the rows drawn
        if (shown and shown <= expected) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert shown and shown <= expected
    first = max(shown)
    _row(page, first).click()
    mark = page.locator("mark.sl-hit.sl-now")
    expect(mark).to_be_visible(timeout=20_000)
    assert mark.inner_text() == "Rücksendung ist 30 Tage"
    expect(mark).to_be_in_viewport(timeout=10_000)
    expect(page.get_by_text(re.compile(r"^1 of \d+"))).to_be_visible()
    page.wait_for_timeout(2000)  # images above the match have loaded: it is still in view
    expect(mark).to_be_in_viewport()
    page.screenshot(path=str(SHOTS / "search.png"))


def test_stepping_through_matches_keeps_the_arrows_under_the_pointer(page, server):
    """On a laptop's short window the chat's box runs below the window's edge. Each step to the
    next match scrolls the chat's own box, so the match is in sight and the page stays where it
    is: the arrows do not move between two clicks (the page's scroll moved them up, and the next
    click landed on whatever came under the pointer)."""
    from playwright.sync_api import expect
    from sqlalchemy import func

    from db.models import Message

    base, engine = server
    with Session(engine) as db:
        counts = db.execute(
            select(Message.session_id, func.count())
            .where(Message.text.ilike("%order%"))
            .group_by(Message.session_id)
            .having(func.count() >= 5)
        ).all()
    many = {sid for sid, _ in counts}
    sid = _newest(engine, ChatSession.id.in_(many)).id
    page.set_viewport_size({"width": 1280, "height": 680})
    page.goto(base + f"/?q=order&session={sid}")
    counter = page.get_by_text(re.compile(r"^1 of \d+$"))
    expect(counter).to_be_visible(timeout=60_000)
    total = int(re.search(r"of (\d+)", counter.inner_text()).group(1))
    assert total >= 5
    down = page.locator(f".st-key-hit_next_{sid}").get_by_role("button")  # one of two is hidden
    chat_box = page.locator("mark.sl-hit").first.evaluate_handle(
        f"m => {{ {SCROLL_BOX_JS} return slScrollBox(m.parentElement, true); }}"
    )
    assert chat_box.evaluate("b => b.getBoundingClientRect().bottom") > 680, (
        "the chat's box runs below the window, as on a laptop"
    )
    page.wait_for_timeout(2000)  # the first match's scripts have run
    before = down.bounding_box()
    for n in range(2, 6):
        down.click()
        expect(page.get_by_text(re.compile(rf"^{n} of {total}$"))).to_be_visible(timeout=20_000)
        page.wait_for_timeout(400)  # the step's script has scrolled
        assert down.bounding_box() == before, f"the arrow moved at match {n}"
        expect(page.locator("mark.sl-hit.sl-now")).to_be_in_viewport()
    page.wait_for_timeout(1600)  # the script's last pass, once images above have loaded
    assert down.bounding_box() == before
    expect(page.locator("mark.sl-hit.sl-now")).to_be_in_viewport()


# A button's label is cut (an ellipsis): some part of it is wider than the box that shows it.
CUT = "b => [b, ...b.querySelectorAll('*')].some(e => e.scrollWidth > e.clientWidth + 1)"


@pytest.mark.parametrize("width", [1440, 1100, 420])
def test_the_header_buttons_show_their_whole_labels(page, server, width):
    """On a laptop's 1440 pixels the buttons were cut to "Import sess…" and "Export sessi…"; on a
    narrower window they go under the title together, each still whole, and on a phone they
    take two lines rather than run off the screen. The panel's toggle wraps its label rather
    than show "▸ Paramete…"."""
    from playwright.sync_api import expect

    base, _ = server
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(base + "/")
    main = page.get_by_test_id("stMain")
    for label in ("Search", "Import session", "Export sessions"):
        button = main.get_by_role("button", name=label, exact=True)
        expect(button).to_be_visible(timeout=60_000)
        assert not button.evaluate(CUT), f"{label!r} is cut at {width} pixels"
        box = button.bounding_box()
        assert box["x"] + box["width"] <= width, f"{label!r} runs off a {width}-pixel window"
    toggle = main.get_by_role("button", name="▸ Parameters & results", exact=True)
    assert not toggle.evaluate(CUT), (
        f"the panel's toggle is cut at {width} pixels (it wraps instead)"
    )
    tops = [
        main.get_by_role("button", name=label, exact=True).bounding_box()["y"]
        for label in ("Search", "Import session", "Export sessions")
    ]
    if width >= 1100:
        assert max(tops) - min(tops) < 2, "the three buttons stay on one line"


@pytest.mark.parametrize(("width", "beside"), [(1600, True), (1024, False)])
def test_the_panel_goes_under_the_chat_when_the_chat_would_be_too_narrow(
    page, server, width, beside
):
    """The spec's three areas side by side where the chat has room; at 1,024 pixels with the
    menu open the chat was a word wide beside the panel, and the panel's "Open in 360" was cut
    at the window's edge: there the panel goes under the chat, both as wide as the area."""
    from playwright.sync_api import expect

    base, engine = server
    cs = _newest(engine, ChatSession.customer_id.is_not(None))
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{base}/?session={cs.id}")
    heading = page.get_by_role("heading", name=appdb.chat_title(cs.message_count))
    expect(heading).to_be_visible(timeout=60_000)
    contact = page.get_by_text("Contact info", exact=True)
    column = page.locator("[data-testid='stColumn']", has=heading).filter(has_not=contact)

    def misplaced() -> list[str]:
        """What is wrong with the layout as drawn now (nothing, once it is right)."""
        page.wait_for_function(IDLE)  # the whole detail area is drawn and laid out
        page.evaluate(PAINTED)
        chat, panel = column.last.bounding_box(), contact.bounding_box()
        link = page.get_by_role("link", name="Open in 360").bounding_box()
        wrong = []
        if link["x"] + link["width"] > width:
            wrong.append("the panel's link is cut at the window's edge")
        if beside and not (
            panel["x"] >= chat["x"] + chat["width"] and panel["y"] < chat["y"] + 200
        ):
            wrong.append(f"the panel is not beside the chat: {chat}, {panel}")
        if not beside and panel["y"] < chat["y"] + chat["height"]:
            wrong.append(f"the panel is not under the chat: {chat}, {panel}")
        if not beside and chat["width"] < 224:
            wrong.append(f"the chat is {chat['width']} pixels wide")
        return wrong

    # Measured once the page has settled (on a busy machine a measure can fall between a run's
    # elements and the layout they end in).
    for _ in range(10):
        if not (wrong := misplaced()):
            break
        page.wait_for_timeout(1_000)
    assert not wrong, wrong


def _at_the_top(page, heading, height: int) -> float:
    """Where ``heading`` is once a phone was scrolled to it: below Streamlit's top bar (opaque on
    a narrow window) and in the upper half of a window ``height`` pixels high."""
    bar = page.get_by_test_id("stHeader").bounding_box()
    top = heading.bounding_box()["y"]
    assert bar["y"] + bar["height"] <= top < height / 2, (bar, top)
    return top


@pytest.mark.parametrize(("width", "scrolls"), [(420, True), (1600, False)])
def test_on_a_phone_a_picked_session_is_scrolled_into_view(page, server, width, scrolls):
    """Up to 640 pixels Streamlit stacks the columns, so the chat sits under the table, out of
    sight: a row picked there scrolls the page to the chat's heading, below Streamlit's top bar.
    On a wide window the page stays where it is."""
    from playwright.sync_api import expect

    base, engine = server
    page.set_viewport_size({"width": width, "height": 850})
    page.goto(base + "/")
    grid = _grid(page)
    row = grid.locator(".ag-center-cols-container .ag-row").nth(3)
    expect(row).to_be_visible(timeout=60_000)
    sid = int(row.get_attribute("row-id"))
    with engine.connect() as conn:
        n = conn.scalar(select(ChatSession.message_count).where(ChatSession.id == sid))
    row.click()
    heading = page.get_by_role("heading", name=appdb.chat_title(n))
    expect(heading).to_be_attached(timeout=60_000)
    page.wait_for_function(IDLE)
    page.evaluate(PAINTED)
    main = page.get_by_test_id("stMain")
    if scrolls:
        _at_the_top(page, heading, 850)
    else:
        assert main.evaluate("m => m.scrollTop") == 0


def test_on_a_phone_a_picked_conversation_is_scrolled_into_view(page, server):
    """Human Agents on a phone: the list is above the chat, which starts out of sight; picking
    a conversation scrolls the page to its chat, and the reader can scroll back up freely."""
    import datetime as dt

    from playwright.sync_api import expect

    from db.models import User
    from sessionlens import handover, identity

    base, engine = server
    cs = appdb.find_session(engine, ChatSession.finished_at.is_(None), ChatSession.mode == "ai")
    with Session(engine) as db, db.begin():  # a lead hands one over, so the list holds it
        lead = db.scalar(select(User).where(User.email == "luis.ortega@northwind.example"))
        handover.hand_over(
            db, actor=identity.actor_for(lead), session_id=cs.id, now=dt.datetime.now(dt.UTC)
        )
    height = 420  # a phone held sideways: with one card, the chat starts below this
    page.set_viewport_size({"width": 420, "height": height})
    page.goto(base + "/human_agents")
    card = page.locator(f".st-key-ha_card_{cs.id}").get_by_role("button")
    expect(card).to_be_visible(timeout=60_000)
    page.wait_for_function(IDLE)
    assert page.get_by_role("heading", name="Chat", exact=True).bounding_box()["y"] > height
    card.click()
    heading = page.get_by_role("heading", name=re.compile(r"^Chat · "))
    expect(heading).to_be_attached(timeout=60_000)
    page.wait_for_function(IDLE)
    page.evaluate(PAINTED)
    top = _at_the_top(page, heading, height)
    box = heading.bounding_box()  # over the heading: below it, the chat scrolls on its own
    page.mouse.move(box["x"] + 20, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, -150)  # the page does not pull the reader back
    page.wait_for_timeout(600)
    assert heading.bounding_box()["y"] > top + 100


def test_the_chat_opens_at_its_newest_message_wherever_the_last_one_was_left(page, server):
    """Sessions: a chat opens scrolled to its newest message; a reader who scrolled up is left
    there when a message arrives; the next session opened starts at its own newest message.
    These chats are drawn as one element (``chat.whole_chat``), whose box is drawn anew when a
    message arrives: the reader's place is kept all the same."""
    from playwright.sync_api import expect

    base, engine = server
    a, b = (
        appdb.find_session(
            engine,
            ChatSession.message_count >= 12,
            ChatSession.mode == "ai",  # no Copilot drafts, no files: one element
            ChatSession.has_attachments.is_(False),
            where=lambda r, i=i: r.id % 2 == i,
        )
        for i in (0, 1)
    )
    appdb.message_lands(engine, a.id, "The newest line of the first session")
    appdb.message_lands(engine, b.id, "The newest line of the second session")
    page.goto(f"{base}/?session={a.id}")
    main = page.get_by_test_id("stMain")
    newest = main.get_by_text("The newest line of the first session")
    expect(newest).to_be_in_viewport(timeout=60_000)
    expect(main.locator(".sl-chat-box")).to_have_count(1)
    opening = main.get_by_text(re.compile(r"started the session at")).first
    expect(opening).not_to_be_in_viewport()
    box = newest.bounding_box()  # the reader scrolls up with the wheel, over the chat
    page.mouse.move(box["x"] + 10, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, -20_000)
    expect(opening).to_be_in_viewport()
    page.mouse.wheel(0, 150)  # and a little down again, to read from the middle
    page.wait_for_timeout(300)
    # The first message the reader sees whole, and where it is.
    reading = """() => { const box = document.querySelector('.sl-chat-box').getBoundingClientRect();
        const m = [...document.querySelectorAll('.sl-chat-box .sl-msg[data-msg]')]
          .find(e => e.getBoundingClientRect().top >= box.top);
        return {id: m.dataset.msg, y: Math.round(m.getBoundingClientRect().top)}; }"""
    before = page.evaluate(reading)
    appdb.message_lands(engine, a.id, "Another line while the reader is reading")
    expect(page.get_by_role("heading", name=appdb.chat_title(a.message_count + 2))).to_be_visible(
        timeout=20_000
    )
    page.wait_for_function(IDLE)
    page.evaluate(PAINTED)
    # not pulled down to the new message, nor back to the top: where they were
    assert page.evaluate(reading) == before
    _row(page, b.id).locator('[col-id="agent"]').click()
    expect(main.get_by_text("The newest line of the second session")).to_be_in_viewport(
        timeout=20_000
    )


def _lengthen(engine, session_id: int, words: str, n: int) -> int:
    """``n`` more messages in the session, "{words} 0" to "{words} {n-1}", customer and AI in
    turn, a second apart after its last; its message count then (its start is a marker, not a
    bubble)."""
    from sessionlens.messages import append_message

    with Session(engine) as db, db.begin():
        row = db.get_one(ChatSession, session_id)
        for i in range(n):
            append_message(
                db,
                row,
                author_kind="customer" if i % 2 == 0 else "ai",
                text=f"{words} {i}",
                sent_at=row.last_message_at + dt.timedelta(seconds=1),
            )
        return row.message_count


def test_show_earlier_keeps_the_reader_at_the_message_they_were_reading(page, server):
    """A chat of more than 200 messages opens at its newest 200. A reader who scrolls up to
    "Show earlier" and clicks it still sees the message they were reading, where it was; the
    earlier messages are above it (it used to leave them at the oldest message loaded)."""
    from playwright.sync_api import expect

    from sessionlens import chat

    base, engine = server
    cs = appdb.find_session(engine, ChatSession.channel == "email")
    _lengthen(engine, cs.id, "Thread line", chat.WINDOW + 20)
    page.goto(f"{base}/?session={cs.id}")
    main = page.get_by_test_id("stMain")
    expect(main.get_by_text(f"Thread line {chat.WINDOW + 19}")).to_be_in_viewport(timeout=60_000)
    earlier = main.get_by_role("button", name=re.compile(r"^Show \d+ earlier messages"))
    _wheel_chat_to(page, earlier)
    # The first message the reader sees under the button, and how far down the box it is.
    first_seen = """b => { const box = b.getBoundingClientRect();
        const m = [...document.querySelectorAll('.sl-msg[data-msg]')]
          .find(e => e.getBoundingClientRect().top >= box.bottom);
        return {id: m.dataset.msg, y: Math.round(m.getBoundingClientRect().top)}; }"""
    before = earlier.evaluate(first_seen)
    # Click between two runs (the live poll's every 3 s included), as the other browser tests
    # press their buttons. (This click once seemed unanswered: the poll's run had started just
    # as the click's run ended, and the button stayed; see the next test.)
    page.wait_for_function(IDLE)
    earlier.click()
    expect(earlier).to_have_count(0, timeout=20_000)  # all loaded: the button goes
    page.wait_for_function(IDLE)
    page.evaluate(PAINTED)
    reading = page.locator(f'.sl-msg[data-msg="{before["id"]}"]')
    assert abs(reading.bounding_box()["y"] - before["y"]) <= 2
    expect(main.get_by_text(re.compile(r"started the session at"))).not_to_be_in_viewport()


def test_a_click_answered_as_the_live_poll_runs_leaves_nothing_of_the_chat_before(
    page, server, tmp_path
):
    """The live poll's run starting within milliseconds of the end of a click's run used to
    leave on the page what the click's run no longer drew (``components/fragment_finish.py``):
    "Show earlier" stayed, over the chat drawn twice. A server polling every 0.2 s makes that
    timing likely (before the fix, about one click in three here); every click must leave one
    chat and no button."""
    from playwright.sync_api import expect

    from sessionlens import chat

    _, engine = server
    cs = appdb.find_session(engine, ChatSession.channel == "web", ChatSession.mode == "ai")
    total = _lengthen(engine, cs.id, "Poll line", chat.WINDOW + 10)
    url = engine.url.render_as_string(hide_password=False)
    proc, base = _start(url, tmp_path / "blobs", {"SESSIONLENS_LIVE_SECONDS": "0.2"})
    try:
        for _ in range(5):
            page.goto(f"{base}/?session={cs.id}")
            main = page.get_by_test_id("stMain")
            expect(main.get_by_text(f"Poll line {chat.WINDOW + 9}")).to_be_in_viewport(
                timeout=60_000
            )
            earlier = main.get_by_role("button", name=re.compile(r"^Show \d+ earlier messages"))
            _wheel_chat_to(page, earlier)
            page.wait_for_function(IDLE)
            earlier.click()
            expect(earlier).to_have_count(0, timeout=10_000)
            page.wait_for_function(IDLE)
            ids = page.evaluate(
                "() => [...document.querySelectorAll('.sl-msg[data-msg]')].map(e => e.dataset.msg)"
            )
            assert len(ids) == len(set(ids)) >= total - 1, "one chat, every message in it once"
    finally:
        proc.terminate()
        proc.wait(10)


def test_the_human_agents_chat_opens_at_its_newest_message_and_follows_new_ones(page, server):
    """An operator answers the newest message: the conversation opens scrolled to its end, and a
    message that arrives while they read shows without scrolling."""
    import datetime as dt

    from playwright.sync_api import expect

    from db.models import Message, User
    from sessionlens import handover, identity

    base, engine = server
    cs = appdb.find_session(engine, ChatSession.finished_at.is_(None), ChatSession.mode == "ai")
    for n in range(cs.message_count, 14):  # longer than the chat's box, whatever the demo drew
        appdb.message_lands(engine, cs.id, f"Question {n}: when will it ship?")
        appdb.message_lands(engine, cs.id, f"Answer {n}: tomorrow.", author="ai")
    with Session(engine) as db, db.begin():  # a lead hands it over, so Human Agents holds it
        lead = db.scalar(select(User).where(User.email == "luis.ortega@northwind.example"))
        handover.hand_over(
            db, actor=identity.actor_for(lead), session_id=cs.id, now=dt.datetime.now(dt.UTC)
        )
        first, last = (
            db.scalar(
                select(Message.text)
                .where(Message.session_id == cs.id, Message.author_kind == "customer")
                .order_by(order)
                .limit(1)
            )
            for order in (Message.seq, Message.seq.desc())
        )
    page.goto(f"{base}/human_agents?conversation={cs.id}")
    chat = page.get_by_test_id("stMain")
    expect(chat.get_by_text(last, exact=True).last).to_be_in_viewport(timeout=60_000)
    expect(chat.get_by_text(first, exact=True).first).not_to_be_in_viewport()
    appdb.message_lands(engine, cs.id, "Sorry, one more question about the invoice")
    expect(chat.get_by_text("Sorry, one more question about the invoice")).to_be_in_viewport(
        timeout=20_000
    )


def test_drag_the_divider_between_the_table_and_the_chat(page, server):
    """Dragging the divider gives the table more room; a plain click on it changes nothing; ← and
    → move it by 5 %; the width outlives a visit to another page; a double-click puts it back."""
    from playwright.sync_api import expect

    base, engine = server
    page.goto(base + "/")
    cs = _newest(engine, ChatSession.message_count > 2)
    expect(_row(page, cs.id)).to_be_visible(timeout=60_000)
    _row(page, cs.id).locator('[col-id="agent"]').click()
    chat = page.get_by_role("heading", name=appdb.chat_title(cs.message_count))
    expect(chat).to_be_visible(timeout=20_000)
    bar = page.get_by_role("separator", name="Table width")
    expect(bar).to_have_attribute("aria-valuenow", "60")

    def table() -> float:
        page.wait_for_function(IDLE)
        return page.locator(LIVE_GRID).first.bounding_box()["width"]

    before, chat_x = table(), chat.bounding_box()["x"]
    box = bar.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + 300
    page.mouse.click(x, y)  # a click is not a drag
    page.wait_for_timeout(500)
    assert bar.get_attribute("aria-valuenow") == "60" and table() == before
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 80, y + 40, steps=4)  # over the chat: the cover keeps the pointer
    page.mouse.move(x + 160, y + 40, steps=4)
    page.mouse.up()
    expect(bar).not_to_have_attribute("aria-valuenow", "60", timeout=10_000)
    wider = int(bar.get_attribute("aria-valuenow"))
    assert 65 <= wider <= 75, wider
    assert table() > before + 100
    assert chat.bounding_box()["x"] > chat_x + 100  # the chat moved over, still shown
    bar.focus()
    page.keyboard.press("ArrowLeft")
    expect(bar).to_have_attribute("aria-valuenow", str(wider - 5), timeout=10_000)
    page.get_by_role("link", name="Handoffs").click()
    expect(page.get_by_role("heading", name="Handoffs")).to_be_visible(timeout=20_000)
    page.get_by_role("link", name="Sessions").click()
    expect(bar).to_have_attribute("aria-valuenow", str(wider - 5), timeout=20_000)
    expect(_row(page, cs.id)).to_be_visible(timeout=20_000)
    bar.dblclick()
    expect(bar).to_have_attribute("aria-valuenow", "60", timeout=10_000)
    assert abs(table() - before) < 2


def test_the_360_view_from_the_menu_finds_and_opens_a_customer(page, server):
    from playwright.sync_api import expect

    base, engine = server
    cs = _newest(engine, ChatSession.customer_id.is_not(None))
    with Session(engine) as db:
        from db.models import Customer

        name = db.get_one(Customer, cs.customer_id).name
    page.goto(base + "/")
    page.get_by_role("link", name="360 View").click()
    find = page.get_by_label("Find a customer")
    find.fill(name)
    find.press("Enter")
    page.get_by_role("button", name=re.compile(rf"^{re.escape(name)} · ")).first.click()
    expect(page.get_by_role("heading", name=name)).to_be_visible(timeout=20_000)
    expect(page).to_have_url(re.compile(r"/customer\?customer=\d+$"))  # a reload keeps them
    page.reload()
    expect(page.get_by_role("heading", name=name)).to_be_visible(timeout=20_000)
    expect(page.get_by_text("Contact info", exact=True)).to_be_visible()


@pytest.mark.parametrize("width", [500, 1440])
def test_the_title_is_not_under_streamlits_top_bar(page, server, width):
    """Below 768 pixels Streamlit's top bar is opaque; the title once started under it and a
    phone showed "Outfitters" for "Sessions · Northwind Outfitters"."""
    from playwright.sync_api import expect

    base, _ = server
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(base + "/")
    title = page.get_by_role("heading", name=re.compile(r"^Sessions · "))
    expect(title).to_be_visible(timeout=60_000)
    bar = page.get_by_test_id("stHeader")
    opaque = bar.evaluate("h => getComputedStyle(h).backgroundColor !== 'rgba(0, 0, 0, 0)'")
    if opaque:
        assert title.bounding_box()["y"] >= bar.bounding_box()["height"]
    assert opaque == (width < 768)  # what the fix assumes of Streamlit


def test_the_fonts_of_italics_and_code_are_loaded_before_a_chat_needs_them(page, server):
    """Streamlit's font faces have no font-display, so text in a face not yet loaded stays
    invisible until its file arrives; the first chat with *italics* or code fetched them during
    the click. The page loads both with itself, before any session is open."""
    from playwright.sync_api import expect

    base, _ = server
    page.goto(base + "/")
    expect(page.get_by_role("heading", name=re.compile(r"^Sessions · "))).to_be_visible(
        timeout=60_000
    )
    assert "session=" not in page.url
    for face in ('italic 400 16px "Source Sans"', '400 16px "Source Code Pro"'):
        page.wait_for_function(f"() => document.fonts.check('{face}')", timeout=10_000)


def _contrast_failures(frame) -> list[str]:  # type: ignore[no-untyped-def]
    """What axe-core's color-contrast rule (WCAG 2 AA: 4.5:1 for text, 3:1 for large text) finds
    in ``frame``'s document, one line per element: its text and the ratio axe measured."""
    from axe_playwright_python.base import AXE_SCRIPT

    frame.evaluate(AXE_SCRIPT)
    found = frame.evaluate(
        """async () => (await axe.run(document, {
              runOnly: {type: 'rule', values: ['color-contrast']}, iframes: false}))
            .violations.flatMap(v => v.nodes.map(n =>
              n.target.join(' ') + ': ' + (n.any[0] || {}).message))"""
    )
    return list(found)


def test_text_meets_wcag_aa_contrast_on_every_screen(browser, server, signed_in_cookie):
    """Every text on the screens (sign-in, the table and a chat with every kind of message, a
    file card and a picture, Human Agents, 360 View, Settings, Audit, Change password) is readable against its
    background by WCAG 2 AA, as axe-core measures it. Streamlit's red under white text was 3.3:1
    (the active Search button), its captions 3.8:1, the chat's times on a human agent's bubble
    4.4:1, a file card's size line 3.7:1, "Unassigned" in the table 2.5:1."""
    from playwright.sync_api import expect

    base, engine = server
    anonymous = browser.new_context()
    page = anonymous.new_page()
    page.goto(base + "/auth/sign-in")
    failures = {"sign-in": _contrast_failures(page)}
    anonymous.close()
    context = browser.new_context(
        viewport={"width": 1440, "height": 1000},
        storage_state={"cookies": [signed_in_cookie], "origins": []},
    )
    page = context.new_page()
    cs = appdb.showcase(engine)
    page.goto(f"{base}/?session={cs.id}&responsible=human")  # Search lit; some Unassigned
    main = page.get_by_test_id("stMain")
    expect(main.get_by_text("Draft from Copilot")).to_be_visible(timeout=60_000)
    expect(main.get_by_test_id("sl-image").first).to_be_visible()
    # The grid's frame draws its rows after the chat shows; on a busy machine that took over
    # the default 5 s once in CI, so it gets the same minute as every first look at the table.
    expect(_grid(page).locator(".resp-none").first).to_be_visible(timeout=60_000)  # Unassigned
    page.wait_for_function(IDLE)
    failures["sessions"] = _contrast_failures(page)
    table = page.locator(LIVE_GRID).first.element_handle().content_frame()
    failures["sessions table"] = _contrast_failures(table)
    for path in ("/human_agents", f"/customer?customer={cs.customer_id}", "/settings", "/audit"):
        page.goto(base + path)
        expect(page.get_by_test_id("stMain").locator("h2").first).to_be_visible(timeout=60_000)
        page.wait_for_function(IDLE)
        failures[path] = _contrast_failures(page)
    page.goto(base + "/auth/password")  # a page of its own, like the sign-in form
    expect(page.get_by_role("heading", name="Change your password")).to_be_visible()
    failures["change password"] = _contrast_failures(page)
    context.close()
    assert {k: v for k, v in failures.items() if v} == {}
