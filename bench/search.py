"""Full-text search at a million sessions: each query form alone, with an agent, with 7 days.

    python bench/search.py [--url URL] [--runs 40] [--json FILE] [--sessions N] [--index-build]

Runs on the database bench/sessions_page.py builds (Postgres, 1,000,000 sessions and ~13 M messages
by default; a SQLite URL works too, e.g. ``sqlite:///bench-100k.db --sessions 100000``). The demo's
conversations are drawn from a few dozen scripts, so every word in them is common; the benchmark
adds a handful of "needle" messages once (a rare word, in 40 sessions spread over the year, in four
languages) so that a rare word can be timed too.

For each case it times the page's ``sessions.list_page`` (first page, then Load More from its
cursor) and the very same SQL executed raw on the driver connection, alternately, and prints p50/p95
and the ratio of the p95s, how many sessions match, and how the plan reaches messages (the index
used; "SEQ SCAN" would be a defect). Targets (issue 14): p95 <= 50 ms on Postgres at a million
sessions, <= 100 ms on SQLite at 100,000. ``--index-build`` also times building the GIN index again
and prints the index sizes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

from sqlalchemy import func, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import print_table  # noqa: E402
from bench.sessions_filters import plan_indexes, time_pages  # noqa: E402
from bench.sessions_page import DEFAULT_URL, ensure_data  # noqa: E402
from db.engine import make_engine, make_sessionmaker  # noqa: E402
from db.models import Agent, ChatSession, Message  # noqa: E402
from sessionlens import identity, search  # noqa: E402
from sessionlens.filters import SessionFilter  # noqa: E402
from sessionlens.sessions import SortKey  # noqa: E402

NEEDLES = [
    "The parcel was left at the Zanzibar kiosk, reference QX-93127",
    "Das Paket liegt am Kiosk Zanzibar, Referenz QX-93127",
    "Посылка осталась в киоске Занзибар, номер QX-93127",
    "荷物はザンジバル売店に置かれました、参照番号 QX-93127",
]
TABLES = ("chat_sessions", "messages", "sm")  # a whole read of any of these is a defect
QUERIES = {
    "rare word": "zanzibar",
    "rare, Russian": "занзибар",
    "common word": "order",
    "phrase": '"started a refund"',
    "prefix": "refun*",
    "two words + exclusion": "password reset -spam",
}


def plant_needles(engine, count: int = 40) -> None:
    """Add the rare messages once: one to each of ``count`` sessions spread over the data."""
    maker = make_sessionmaker(engine)
    with maker() as db, db.begin():
        if db.scalar(select(func.count()).select_from(Message).where(Message.text == NEEDLES[0])):
            return
        actor = identity.default_actor(db)
        total = db.scalar(
            select(func.count())
            .select_from(ChatSession)
            .where(ChatSession.tenant_id == actor.tenant_id)
        )
        step = max(1, total // count)
        ids = db.scalars(
            select(ChatSession.id)
            .where(ChatSession.tenant_id == actor.tenant_id)
            .order_by(ChatSession.id)
            .offset(step // 2)
        ).all()[::step][:count]
        for i, sid in enumerate(ids):
            seq = db.scalar(select(func.max(Message.seq)).where(Message.session_id == sid)) or 0
            db.add(
                Message(
                    tenant_id=actor.tenant_id,
                    session_id=sid,
                    seq=seq + 1,
                    author_kind="customer",
                    text=NEEDLES[i % len(NEEDLES)],
                    sent_at=db.get_one(ChatSession, sid).last_message_at,
                )
            )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE messages" if engine.dialect.name == "postgresql" else "ANALYZE"))


def cases(db, actor) -> dict[str, SessionFilter]:
    t = actor.tenant_id
    newest = db.scalar(select(func.max(ChatSession.started_at)).where(ChatSession.tenant_id == t))
    agent = db.scalars(select(Agent.id).where(Agent.tenant_id == t).order_by(Agent.id)).all()[1]
    week = dict(started_from=newest - dt.timedelta(days=7))
    out = {}
    for name, q in QUERIES.items():
        query = search.parse(q)
        out[name] = SessionFilter(text=query)
        out[f"{name} + agent"] = SessionFilter(text=query, agent_ids=(agent,))
        out[f"{name} + 7 days"] = SessionFilter(text=query, **week)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", default=DEFAULT_URL)
    ap.add_argument("--sessions", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=40)
    ap.add_argument("--json", dest="json_path")
    ap.add_argument("--index-build", action="store_true")
    args = ap.parse_args()
    ensure_data(args.url, args.sessions)
    engine = make_engine(args.url)
    plant_needles(engine)
    maker = make_sessionmaker(engine, read_only=True)  # as the page reads
    with maker() as db:
        actor = identity.default_actor(db)
        named = cases(db, actor)
    raw_conn = engine.raw_connection()
    rows = []
    for name, flt in named.items():
        for label, row, sql, params in time_pages(
            engine, maker, raw_conn, actor, flt, SortKey.STARTED, args.runs
        ):
            row |= {
                "case": f"{name} | {label}",
                # sm: the messages of the phrase check
                "access": plan_indexes(engine, raw_conn, sql, params, TABLES),
            }
            rows.append(row)
    print_table(rows, args.json_path)
    print("\nRows on the first page, and the indexes each plan uses (SEQ SCAN is a defect):")
    for r in rows:
        print(f"  {r['case']:<40} {r['rows']:>3} rows  {r['access']}")
    if engine.dialect.name == "postgresql":
        _sizes(engine, rebuild=args.index_build)


def _sizes(engine, *, rebuild: bool) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for name in ("ix_chat_sessions_search", "ix_customers_search", "chat_sessions", "messages"):
            size = conn.scalar(text("SELECT pg_size_pretty(pg_relation_size(:n))"), {"n": name})
            print(f"size of {name}: {size}")
        if rebuild:
            conn.execute(text("SET maintenance_work_mem = '1GB'"))
            t0 = time.perf_counter()
            conn.execute(text("REINDEX INDEX ix_chat_sessions_search"))
            print(f"building ix_chat_sessions_search: {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
