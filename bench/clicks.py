"""Steady row clicks, many of them: Sessionlens against the bare page, or against other code.

    python bench/clicks.py [--clicks 60] [--against CHECKOUT]

``bench/browser.py`` times one steady click per round, and a click ends on an animation frame,
so its times fall on a 16.7 ms grid and a median of a few rounds jumps between steps: a change of
5 ms to a click does not show there. This benchmark keeps one page of each server open (the
demo database, 2,000 sessions; ``shared/bench/floor_app.py``; with ``--against``, another
checkout of Sessionlens on the same database) and clicks the table's first rows on each in
turn, alternating which goes first. For each it prints the wall time of a click (until the run
has ended and its changes are painted: median, p95 and the mean of the middle 80 %) and the
page's main-thread time per click as Chromium counts it (``Performance.getMetrics``: all tasks,
JavaScript, layout, style), which has no such grid.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.browser import (  # noqa: E402
    FLOOR,
    GRID,
    IDLE,
    PAINTED,
    _rows,
    _serve,
    _signed_in,
    demo_database,
)
from bench.common import p50_p95  # noqa: E402

METRICS = ("TaskDuration", "ScriptDuration", "LayoutDuration", "RecalcStyleDuration")
LABELS = ("tasks", "script", "layout", "style")


def _open(browser, base: str, cookies):  # type: ignore[no-untyped-def]
    context = browser.new_context(
        viewport={"width": 1600, "height": 1000},
        storage_state={"cookies": cookies, "origins": []},
    )
    page = context.new_page()
    page.goto(base + "/")
    _rows(page)
    page.wait_for_function(IDLE, timeout=120_000)
    cdp = context.new_cdp_session(page)
    cdp.send("Performance.enable")
    return page, cdp


def _metrics(cdp) -> dict[str, float]:  # type: ignore[no-untyped-def]
    return {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}


def _click(page, cdp, nth: int, floor: bool) -> tuple[float, dict[str, float]]:  # type: ignore[no-untyped-def]
    row = page.frame_locator(GRID).locator(".ag-center-cols-container .ag-row").nth(nth)
    row_id = row.get_attribute("row-id")
    before = _metrics(cdp)
    t0 = time.perf_counter()
    row.click()
    if floor:
        page.get_by_role("heading", name=f"Chat {row_id}").wait_for(timeout=30_000)
    else:
        page.wait_for_url(re.compile(rf"[?&]session={row_id}(&|$)"), timeout=30_000)
    page.wait_for_function(IDLE, timeout=30_000, polling="raf")
    page.evaluate(PAINTED)
    wall = (time.perf_counter() - t0) * 1000
    page.wait_for_timeout(250)  # what the click left running (a scroll, a tooltip) is counted
    after = _metrics(cdp)
    return wall, {k: (after[k] - before[k]) * 1000 for k in METRICS}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clicks", type=int, default=60, help="clicks on each page")
    ap.add_argument("--against", type=Path, metavar="CHECKOUT")
    args = ap.parse_args()
    if args.against and not (args.against / "app.py").is_file():
        raise SystemExit(f"--against: {args.against} is not a checkout of Sessionlens (no app.py)")
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        url, env = demo_database(Path(tmp))
        servers = [
            ("Sessionlens", *_serve(ROOT / "app.py", env)),
            ("bare page", *_serve(FLOOR, {})),
        ]
        cookies = {name: _signed_in(url) for name, _, _ in servers}  # the bare page ignores it
        if args.against:
            # Its own database, made by its own code (a migration of this checkout's is not one
            # the other knows); the demo generator is seeded, so both hold the same sessions.
            (Path(tmp) / "against").mkdir()
            other_url, other_env = demo_database(Path(tmp) / "against", args.against)
            servers.append(
                ("--against", *_serve(args.against / "app.py", other_env, cwd=args.against))
            )
            cookies["--against"] = _signed_in(other_url, args.against)
        walls: dict[str, list[float]] = {name: [] for name, _, _ in servers}
        busy: dict[str, list[dict[str, float]]] = {name: [] for name, _, _ in servers}
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path="/usr/bin/chromium", args=["--no-sandbox", "--headless"]
                )
                pages = [(name, *_open(browser, base, cookies[name])) for name, _, base in servers]
                for i in range(args.clicks + 1):  # click 0 opens a session; it is dropped
                    turn = i % len(pages)
                    for name, page, cdp in pages[turn:] + pages[:turn]:
                        wall, used = _click(page, cdp, 1 + i % 6, floor=name == "bare page")
                        if i:
                            walls[name].append(wall)
                            busy[name].append(used)
                browser.close()
        finally:
            for _, proc, _ in servers:
                proc.terminate()
                proc.wait(10)
    head = f"{'page':<14}{'wall p50/p95 ms':>18}{'middle mean':>13}{'ratio':>7}"
    head += "".join(f"{label:>9}" for label in LABELS)
    print(f"{args.clicks} steady clicks each; main-thread ms per click (medians) on the right")
    print(head)
    print("-" * len(head))
    floor_mean = _middle_mean(walls["bare page"])
    for name, times in walls.items():
        p50, p95 = p50_p95(times)
        mean = _middle_mean(times)
        cells = "".join(f"{statistics.median(b[k] for b in busy[name]):>9.1f}" for k in METRICS)
        print(f"{name:<14}{p50:>10.0f}/{p95:<7.0f}{mean:>13.1f}{mean / floor_mean:>7.2f}{cells}")


def _middle_mean(values: list[float]) -> float:
    """The mean of the middle 80 %: what the 16.7 ms steps of single clicks average out to."""
    s = sorted(values)
    cut = len(s) // 10
    return statistics.mean(s[cut : len(s) - cut])


if __name__ == "__main__":
    main()
