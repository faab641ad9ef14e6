"""Sessions list speed at a million sessions on Postgres: the page's domain call vs raw SQL.

    python bench/sessions_page.py [--url URL] [--sessions 1000000] [--json FILE]

Builds the database with the demo bulk path the first time (minutes) and reuses it afterwards.
For the first page and for Load More at depths 10k and 200k, in both sort orders, prints p50/p95 of
``sessions.list_page`` (what the page calls) and of the same deferred-join query sent as raw SQL with
psycopg in the same run, and their ratio; plus OFFSET at 200k as the approach it replaces.
Targets (issue 2): p95 <= 25 ms, ratio <= 2, depth 200k within 1.5x of the first page.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from sqlalchemy import func, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import measure, measure_pair, print_table, raw_connect  # noqa: E402
from db.engine import create_database_if_missing, make_engine, make_sessionmaker  # noqa: E402
from db.migrate import upgrade  # noqa: E402
from db.models import ChatSession  # noqa: E402
from sessionlens import demo, geo, identity, sessions  # noqa: E402
from sessionlens.filters import SessionFilter  # noqa: E402
from sessionlens.sessions import SortKey, encode_cursor  # noqa: E402
from sessionlens.settings import get_settings  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/sessionlens_bench"
RAW = """
SELECT s.*, a.name, u.name, u.avatar, c.name, c.external_id
FROM chat_sessions s
JOIN (SELECT id FROM chat_sessions WHERE tenant_id = %(t)s::int {after}
      ORDER BY {col} DESC, id DESC LIMIT 51) p ON p.id = s.id
JOIN agents a ON a.id = s.agent_id
LEFT JOIN users u ON u.id = s.assigned_user_id
LEFT JOIN customers c ON c.id = s.customer_id
ORDER BY s.{col} DESC, s.id DESC"""
OFFSET = """SELECT id FROM chat_sessions WHERE tenant_id = %(t)s::int
ORDER BY started_at DESC, id DESC OFFSET %(o)s LIMIT 51"""


def ensure_data(url: str, n: int) -> None:
    create_database_if_missing(url)
    engine = make_engine(url)
    upgrade(engine)
    with engine.begin() as conn:
        have = conn.scalar(select(func.count()).select_from(ChatSession))
        if have >= n:
            print(f"reusing {have:,} sessions at {url}")
            return
        if have:
            sys.exit(f"{url} holds {have:,} sessions, fewer than {n:,}: use an empty database")
        print(f"building {n:,} sessions (one-off, minutes)...", flush=True)
        t0 = dt.datetime.now()
        loc = geo.get_locator(str(get_settings().geoip_path))
        done = [0]

        def progress(k: int) -> None:
            done[0] += k
            if done[0] % 50_000 == 0:
                print(f"  {done[0]:,} sessions", flush=True)

        demo.generate(conn, locator=loc, sessions=n, seed=11, progress=progress)
        print(f"built in {(dt.datetime.now() - t0).total_seconds():.0f} s")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", default=DEFAULT_URL)
    ap.add_argument("--sessions", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--json", dest="json_path")
    args = ap.parse_args()
    ensure_data(args.url, args.sessions)

    maker = make_sessionmaker(make_engine(args.url), read_only=True)  # as the page reads
    with maker() as db:
        actor = identity.default_actor(db)
    raw = raw_connect(args.url, prepare_threshold=None, autocommit=True)
    rows = []
    for sort in SortKey:
        col = "started_at" if sort is SortKey.STARTED else "last_message_at"
        for depth in (0, 10_000, 200_000):
            cursor = after = None
            params: dict = {"t": actor.tenant_id}
            if depth:
                val, rid = raw.execute(
                    f"SELECT {col}, id FROM chat_sessions WHERE tenant_id = %(t)s "
                    f"ORDER BY {col} DESC, id DESC OFFSET %(o)s LIMIT 1",
                    {"t": actor.tenant_id, "o": depth - 1},
                ).fetchone()
                cursor = encode_cursor(sort, val, rid)
                after = f"AND ({col}, id) < (%(v)s, %(i)s::bigint)"
                params |= {"v": val, "i": rid}
            sql = RAW.format(col=col, after=after or "")

            def domain(c=cursor, s=sort):
                with maker() as db:
                    return sessions.list_page(db, SessionFilter(), s, c, actor=actor)

            (d50, d95), (r50, r95) = measure_pair(
                domain, lambda q=sql, p=params: raw.execute(q, p).fetchall(), args.runs
            )
            rows.append(
                {
                    "case": f"{sort.value}, depth {depth:,}",
                    "domain_p50_ms": d50,
                    "domain_p95_ms": d95,
                    "raw_p50_ms": r50,
                    "raw_p95_ms": r95,
                    "ratio_p95": d95 / r95,
                }
            )
    o50, o95 = measure(
        lambda: raw.execute(OFFSET, {"t": actor.tenant_id, "o": 200_000}).fetchall(),
        max(10, args.runs // 4),
    )
    rows.append(
        {
            "case": "reference: OFFSET 200,000 (ids only)",
            "domain_p50_ms": float("nan"),
            "domain_p95_ms": float("nan"),
            "raw_p50_ms": o50,
            "raw_p95_ms": o95,
            "ratio_p95": float("nan"),
        }
    )
    print_table(rows, args.json_path)
    first = next(r for r in rows if r["case"] == "started, depth 0")["domain_p95_ms"]
    deep = next(r for r in rows if r["case"] == "started, depth 200,000")["domain_p95_ms"]
    print(f"\ndepth 200k / first page (domain p95): {deep / first:.2f}")
    plan = raw.execute(
        "EXPLAIN (ANALYZE, BUFFERS) " + RAW.format(col="started_at", after=""),
        {"t": actor.tenant_id},
    ).fetchall()
    print("\nEXPLAIN first page, sorted by Start:")
    print("\n".join(r[0] for r in plan))


if __name__ == "__main__":
    main()
