"""The Logs drawer on a busy session: 5 MB of trace text in 400 calls.

    python bench/logs.py [--pg-url URL] [--sqlite PATH] [--runs 30] [--json FILE]

Builds one session with 400 trace calls of about 12.5 KB each (5 MB) in which a term occurs 200
times, on Postgres and on SQLite, then times the drawer's domain calls: opening it (entry ids, the
first page of 20 calls, the copy-size check), searching the term, and stepping to a match (each
step reruns the search and fetches the page holding the match). The reference row is fetching the
whole log to Python, the approach the drawer avoids. Targets (issue 5): open < 300 ms, search or
step < 100 ms (p95).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench.common import measure, print_table  # noqa: E402
from db.engine import create_database_if_missing, make_engine, make_sessionmaker  # noqa: E402
from db.migrate import upgrade  # noqa: E402
from db.models import ChatSession, LogKind, SessionLog  # noqa: E402
from sessionlens import demo, geo, identity, logs  # noqa: E402

TERM = "gateway timeout"
FILLER = (
    "The customer asked about the delivery window for order NW-48213; the carrier API "
    "returned a normal status and the agent replied politely. "
)


def build(url: str) -> None:
    create_database_if_missing(url)
    engine = make_engine(url)
    upgrade(engine)
    with Session(engine) as db, db.begin():
        if db.scalar(
            select(SessionLog.id).where(SessionLog.action_input.like("%bench-marker%")).limit(1)
        ):
            return
    with engine.begin() as conn:
        demo.generate(conn, locator=geo.Locator(None), sessions=20, seed=1)
    with Session(engine) as db, db.begin():
        actor = identity.default_actor(db)
        cs = db.scalars(
            select(ChatSession).where(ChatSession.tenant_id == actor.tenant_id).limit(1)
        ).one()
        body = FILLER * (12_400 // len(FILLER))
        for i in range(400):
            prompt = body + (f" upstream {TERM} at hop {i}." if i % 2 == 0 else "")
            db.add(
                SessionLog(
                    tenant_id=cs.tenant_id,
                    session_id=cs.id,
                    kind=LogKind.TRACE,
                    at=cs.started_at + dt.timedelta(seconds=i),
                    text="",
                    agent_name="main_agent",
                    prompt=prompt,
                    action="reply",
                    action_input=f"Reply {i} (bench-marker)",
                )
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/sessionlens_logs_bench"
    )
    ap.add_argument("--sqlite", default="data/bench-logs.db")
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--json", dest="json_path")
    args = ap.parse_args()
    rows = []
    for url in (args.pg_url, f"sqlite:///{args.sqlite}"):
        build(url)
        maker = make_sessionmaker(make_engine(url), read_only=True)
        with maker() as db:
            actor = identity.default_actor(db)
            sid = db.scalar(
                select(SessionLog.session_id)
                .where(SessionLog.action_input.like("%bench-marker%"))
                .limit(1)
            )
        backend = url.split(":")[0].split("+")[0]

        def open_drawer():
            with maker() as db:
                ids = logs.entry_ids(db, sid, LogKind.TRACE, actor=actor)
                logs.entries(db, sid, LogKind.TRACE, ids[:20], actor=actor, numbers={})
                logs.full_text(db, sid, LogKind.TRACE, actor=actor, max_chars=2_000_000)
                return ids

        def search():
            with maker() as db:
                return logs.search(db, sid, LogKind.TRACE, TERM, actor=actor)

        with maker() as db:
            found = logs.search(db, sid, LogKind.TRACE, TERM, actor=actor)
            ids = logs.entry_ids(db, sid, LogKind.TRACE, actor=actor)
        assert sum(m.count for m in found) == 200 and len(ids) >= 400

        def step():
            with maker() as db:
                hits = logs.search(db, sid, LogKind.TRACE, TERM, actor=actor)
                page = ids.index(hits[150].entry_id) // 20  # deep in the log
                logs.entries(
                    db, sid, LogKind.TRACE, ids[page * 20 : page * 20 + 20], actor=actor, numbers={}
                )

        def fetch_all():
            with maker() as db:
                return logs.list_logs(db, sid, LogKind.TRACE, actor=actor)

        ref50, ref95 = measure(fetch_all, max(5, args.runs // 3))
        for name, fn in (
            ("open drawer (first 20 calls)", open_drawer),
            ("search, 200 matches", search),
            ("step to a match", step),
        ):
            p50, p95 = measure(fn, args.runs)
            rows.append(
                {
                    "case": f"{backend}: {name}",
                    "domain_p50_ms": p50,
                    "domain_p95_ms": p95,
                    "raw_p50_ms": ref50,
                    "raw_p95_ms": ref95,
                    "ratio_p95": p95 / ref95,
                }
            )
    print_table(rows, args.json_path)
    print("\n('raw' columns: fetching the whole 5 MB log to Python, which the drawer never does)")


if __name__ == "__main__":
    main()
