"""Export speed and memory on Postgres: 20,000 sessions with their messages and logs.

    python bench/export.py [--url URL] [--sessions 20000] [--runs 3] [--json FILE]

Uses the million-session database of bench/sessions_page.py (built there the first time). Picks
the newest ``--sessions`` sessions of the first tenant with the same start-time filter a user would
set, and exports them as JSONL through ``export.stream`` (what the route and the CLI run), each run
in a fresh process so that its peak RSS is the export's own. The reference, in the same run, is a
bare psycopg read of the same messages (one streamed query, no JSON): the floor of reading them.
Targets (issue 12): >= 15 MB/s and peak RSS <= 150 MB.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import p50_p95  # noqa: E402
from bench.sessions_page import DEFAULT_URL, ensure_data  # noqa: E402

CHILD = r"""
import datetime as dt, json, resource, sys, time
sys.path.insert(0, {root!r})
import psycopg
from sqlalchemy import select
from sqlalchemy.orm import Session
from db.engine import make_engine
from db.models import ChatSession
from sessionlens import export, identity
from sessionlens.filters import SessionFilter

url, n, mode = {url!r}, {n}, {mode!r}
engine = make_engine(url)
with Session(engine) as db:
    who = identity.default_actor(db)
    since = db.scalar(
        select(ChatSession.started_at).where(ChatSession.tenant_id == who.tenant_id)
        .order_by(ChatSession.started_at.desc()).offset(n - 1).limit(1)
    )
    t0 = time.perf_counter()
    size = count = 0
    if mode == "export":
        flt = SessionFilter(started_from=since)
        for chunk in export.stream(db, "jsonl", actor=who, flt=flt, now=dt.datetime.now(dt.UTC)):
            size += len(chunk)
            count += chunk.count(b"\n")
        db.rollback()
    else:
        raw = url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(raw) as conn, conn.cursor(name="floor") as cur:
            cur.itersize = 5000
            cur.execute(
                "SELECT m.* FROM messages m JOIN chat_sessions s ON s.id = m.session_id "
                "WHERE s.tenant_id = %s AND s.started_at >= %s ORDER BY m.session_id, m.seq",
                (who.tenant_id, since),
            )
            for row in cur:
                size += sum(len(str(v)) for v in row)
                count += 1
    took = time.perf_counter() - t0
print(json.dumps({{"seconds": took, "bytes": size, "items": count,
                   "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def run(url: str, n: int, mode: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD.format(root=str(ROOT), url=url, n=n, mode=mode)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", default=DEFAULT_URL)
    ap.add_argument("--sessions", type=int, default=20_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--data", type=int, default=1_000_000, help="sessions in the database")
    ap.add_argument("--json", dest="json_path")
    args = ap.parse_args()
    ensure_data(args.url, args.data)
    exp, floor = [], []
    for _ in range(args.runs):  # interleaved, so that load on the machine hits both alike
        exp.append(run(args.url, args.sessions, "export"))
        floor.append(run(args.url, args.sessions, "floor"))
    rate = [r["bytes"] / r["seconds"] / 1e6 for r in exp]
    floor_rate = [r["bytes"] / r["seconds"] / 1e6 for r in floor]
    e50, e95 = p50_p95([r["seconds"] for r in exp])
    f50, f95 = p50_p95([r["seconds"] for r in floor])
    rows = [
        {
            "case": f"export {exp[0]['items']:,} sessions as JSONL",
            "mb": exp[0]["bytes"] / 1e6,
            "seconds_p50": e50,
            "seconds_p95": e95,
            "mb_per_s_p50": sorted(rate)[len(rate) // 2],
            "peak_rss_mb": max(r["rss_mb"] for r in exp),
        },
        {
            "case": f"floor: read their {floor[0]['items']:,} messages",
            "mb": floor[0]["bytes"] / 1e6,
            "seconds_p50": f50,
            "seconds_p95": f95,
            "mb_per_s_p50": sorted(floor_rate)[len(floor_rate) // 2],
            "peak_rss_mb": max(r["rss_mb"] for r in floor),
        },
    ]
    head = f"{'case':<44}{'MB':>8}{'s p50':>8}{'s p95':>8}{'MB/s':>8}{'peak RSS MB':>13}"
    print(head)
    print("-" * len(head))
    for r in rows:
        print(
            f"{r['case']:<44}{r['mb']:>8.1f}{r['seconds_p50']:>8.2f}{r['seconds_p95']:>8.2f}"
            f"{r['mb_per_s_p50']:>8.1f}{r['peak_rss_mb']:>13.0f}"
        )
    print(f"ratio of export time to the floor's (p50): {e50 / f50:.2f}")
    if args.json_path:
        Path(args.json_path).write_text("\n".join(json.dumps(r) for r in rows) + "\n")


if __name__ == "__main__":
    main()
