"""What a support lead feels in the browser: the Sessions page against a bare Streamlit page.

    python bench/browser.py [--rounds 5] [--json FILE]

Builds a demo database (2,000 sessions, the embedded default's size), starts Sessionlens and
``shared/bench/floor_app.py`` (one AgGrid of 50 rows and a detail line) side by side with
``streamlit run``, and drives both in headless Chromium, interleaved round by round, so that load
on the machine hits both alike. For each it times:

- first rows, empty browser cache: a new browser context opens the page; until the grid shows rows;
- first rows, warm cache: the same context reloads the page;
- click a row → page idle with the chat shown: until the detail shows the clicked row, the
  script run has ended (``data-test-script-state``) and its last changes are painted;
- next click: the same for a click on another row while a session is open (what a lead does
  all day: the detail area is then updated, not built).

It prints median and p95 for both and the ratio of Sessionlens's median to the bare page's.
Target (issue 10): each ratio within 1.2.

To weigh a change, serve the code before it as well, in the same run and interleaved with the
other two (run to run, the ratios of the same code spread by about 0.1)::

    git worktree add /tmp/before HEAD~1
    python bench/browser.py --rounds 12 --against /tmp/before
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import p50_p95  # noqa: E402

FLOOR = ROOT.parent / "shared" / "bench" / "floor_app.py"
GRID = 'iframe[title="st_aggrid.AgGrid.agGrid"]'
# The script is not running (the attribute Streamlit's own browser tests read). The status widget
# is no sign: it shows only once a run has lasted a while, so a short run never shows it.
IDLE = (
    "() => document.querySelector('[data-testid=\"stApp\"]')"
    "?.getAttribute('data-test-script-state') === 'notRunning'"
)
# Two animation frames: what the last messages of the run changed has been laid out and painted.
PAINTED = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(script: Path, env: dict[str, str], cwd: Path = ROOT) -> tuple[subprocess.Popen, str]:
    port = _port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port)]
        + ["--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=cwd,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if urllib.request.urlopen(base + "/_stcore/health", timeout=2).read() == b"ok":
                return proc, base
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit(f"{script} did not start")


def demo_database(folder: Path, checkout: Path = ROOT) -> tuple[str, dict[str, str]]:
    """A demo database (2,000 sessions, the embedded default's size) in ``folder``, made by the
    code of ``checkout`` (each checkout of an A/B run gets its own, at its own migration): its URL
    and the environment an app server on it gets (no embedded worker, a key of its own)."""
    url = f"sqlite:///{folder / 'bench.db'}"
    subprocess.run(
        [sys.executable, "-m", "sessionlens.cli", "demo", "--database-url", url],
        check=True,
        cwd=checkout,
        stdout=subprocess.DEVNULL,
    )
    env = {
        "SESSIONLENS_DATABASE_URL": url,
        "SESSIONLENS_EMBEDDED_WORKER": "false",
        "SESSIONLENS_SECRET_KEY": "",
    }
    return url, env


# A row of the grid is drawn and visible. Read through the grid's frame (same origin) from the page
# and checked every animation frame: a Playwright locator inside a frame is polled with growing
# pauses (the last ones 500 ms), which added up to half a second to about every other first-rows
# figure, on both pages.
ROWS_SHOWN = f"""() => {{
  const doc = document.querySelector('{GRID}')?.contentDocument;
  const row = doc?.querySelector('.ag-center-cols-container .ag-row');
  return !!row && row.getBoundingClientRect().height > 0
    && doc.defaultView.getComputedStyle(row).visibility === 'visible';
}}"""


def _rows(page) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_function(ROWS_SHOWN, timeout=120_000, polling="raf")


def _signed_in(url: str, checkout: Path = ROOT) -> list[dict[str, object]]:
    """The demo admin's sign-in cookie for the app's database (the bare page ignores it), made
    by the code of ``checkout`` (another checkout's tables may differ from this one's models)."""
    import datetime as dt

    if checkout != ROOT:
        made = subprocess.run(
            [
                sys.executable,
                "-c",
                f"import json; from bench.browser import _signed_in; "
                f"print(json.dumps(_signed_in({url!r})))",
            ],
            check=True,
            cwd=checkout,
            capture_output=True,
            text=True,
        )
        return json.loads(made.stdout.strip().splitlines()[-1])

    from sqlalchemy.orm import Session

    from db.engine import make_engine
    from sessionlens import auth, identity

    with Session(make_engine(url)) as db:
        who = identity.default_actor(db)
        now = dt.datetime.now(dt.UTC)
        token = auth.issue_token(who, db, secret=auth.secret_key("", url), now=now, days=1)
    return [{"name": auth.COOKIE, "value": token, "domain": "127.0.0.1", "path": "/"}]


def _shows(page, name: str, row_id: str):  # type: ignore[no-untyped-def]
    """Wait until the page shows the row ``row_id`` as the open session."""
    if name != "floor":  # the URL names the open session as soon as the run takes it
        page.wait_for_url(re.compile(rf"[?&]session={row_id}(&|$)"), timeout=120_000)
    else:
        page.get_by_role("heading", name=f"Chat {row_id}").wait_for(timeout=120_000)


def _click(page, nth: int, shown) -> float:  # type: ignore[no-untyped-def]
    """Seconds from a click on the ``nth`` row until ``shown(row_id)`` has seen the row open, the
    run has ended and its last changes are painted."""
    row = page.frame_locator(GRID).locator(".ag-center-cols-container .ag-row").nth(nth)
    row_id = row.get_attribute("row-id")
    t0 = time.perf_counter()
    row.click()
    shown(row_id)
    page.wait_for_function(IDLE, timeout=120_000, polling="raf")
    page.evaluate(PAINTED)
    return time.perf_counter() - t0


def _time_app(  # type: ignore[no-untyped-def]
    browser, name: str, base: str, shown: re.Pattern[str], cookies
) -> dict[str, float]:
    context = browser.new_context(
        viewport={"width": 1600, "height": 1000},
        storage_state={"cookies": cookies, "origins": []},
    )
    page = context.new_page()
    t0 = time.perf_counter()
    page.goto(base + "/")
    _rows(page)
    cold = time.perf_counter() - t0
    page.wait_for_function(IDLE, timeout=120_000)
    t0 = time.perf_counter()
    page.reload()
    _rows(page)
    warm = time.perf_counter() - t0
    page.wait_for_function(IDLE, timeout=120_000)
    page.wait_for_timeout(500)
    # The heading of the clicked row arrives during the run; then the run ends and is painted.
    click = _click(
        page, 2, lambda _: page.get_by_role("heading", name=shown).first.wait_for(timeout=120_000)
    )
    page.wait_for_timeout(500)
    again = _click(page, 5, lambda row_id: _shows(page, name, row_id))
    context.close()
    return {"cold": cold, "warm": warm, "click": click, "again": again}


def _table(
    times: dict[str, dict[str, list[float]]],
    name: str,
    labels: dict[str, str],
    title: str,
    *,
    suffix: str = "",
) -> list[dict[str, object]]:
    """Print ``name``'s medians and p95 beside the bare page's, with their ratio; the rows, for
    ``--json``."""
    head = f"{'case':<36}{title + ' p50/p95 ms':>24}{'bare page p50/p95 ms':>24}{'ratio':>8}"
    print(head)
    print("-" * len(head))
    rows: list[dict[str, object]] = []
    for key, label in labels.items():
        s50, s95 = p50_p95(times[name][key])
        f50, f95 = p50_p95(times["floor"][key])
        print(f"{label:<36}{s50:>13.0f}/{s95:<10.0f}{f50:>13.0f}/{f95:<10.0f}{s50 / f50:>8.2f}")
        rows.append(
            {
                "case": label + suffix,
                "sessionlens_p50_ms": s50,
                "sessionlens_p95_ms": s95,
                "floor_p50_ms": f50,
                "floor_p95_ms": f95,
                "ratio_p50": s50 / f50,
            }
        )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--json", dest="json_path")
    ap.add_argument(
        "--against",
        type=Path,
        metavar="CHECKOUT",
        help="another checkout of Sessionlens (the code before a change), timed in the same run",
    )
    args = ap.parse_args()
    if args.against and not (args.against / "app.py").is_file():
        raise SystemExit(f"--against: {args.against} is not a checkout of Sessionlens (no app.py)")
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        url, app_env = demo_database(Path(tmp))
        app, app_base = _serve(ROOT / "app.py", app_env)
        floor, floor_base = _serve(FLOOR, {})
        procs = [app, floor]
        chat = re.compile(r"^Chat · \d+ messages?$")
        targets = [
            ("sessionlens", app_base, chat),
            ("floor", floor_base, re.compile(r"^Chat s\d+$")),
        ]
        if args.against:
            # Its own database, made by its own code: a migration of this checkout's is not one
            # the other knows (the demo generator is seeded, so both hold the same sessions).
            (Path(tmp) / "against").mkdir()
            other_url, other_env = demo_database(Path(tmp) / "against", args.against)
            other, other_base = _serve(args.against / "app.py", other_env, cwd=args.against)
            procs.append(other)
            targets.append(("against", other_base, chat))
        cookies = {name: _signed_in(url) for name, _, _ in targets}  # the bare page ignores it
        if args.against:
            cookies["against"] = _signed_in(other_url, args.against)  # its database, its key
        times: dict[str, dict[str, list[float]]] = {name: {} for name, _, _ in targets}
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path="/usr/bin/chromium", args=["--no-sandbox", "--headless"]
                )
                for r in range(args.rounds + 1):  # round 0 warms the servers and is dropped
                    # Each round starts with another of the servers, so none always goes first.
                    turn = r % len(targets)
                    for name, base, shown in targets[turn:] + targets[:turn]:
                        got = _time_app(browser, name, base, shown, cookies[name])
                        if r:
                            for k, v in got.items():
                                times[name].setdefault(k, []).append(v * 1000)
                browser.close()
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait(10)
    labels = {
        "cold": "first rows, empty browser cache",
        "warm": "first rows, warm cache",
        "click": "click a row -> idle with the chat",
        "again": "next click, a session open",
    }
    rows = _table(times, "sessionlens", labels, "Sessionlens")
    if args.against:
        print(f"\nThe code in {args.against}, in the same run:")
        rows += _table(times, "against", labels, "--against", suffix=" (--against)")
    if args.json_path:
        Path(args.json_path).write_text("\n".join(json.dumps(r) for r in rows) + "\n")


if __name__ == "__main__":
    main()
