"""Every Session Filter alone and in realistic combinations, at a million sessions.

    python bench/sessions_filters.py [--url URL] [--runs 60] [--json FILE] [--explain]

Runs on the database bench/sessions_page.py builds (Postgres by default; any SQLAlchemy URL works,
e.g. a SQLite file with 100,000 sessions). For each case and both sort keys it times the page's
``sessions.list_page`` call (first page, then Load More from its cursor) and the very same SQL
executed raw on the driver connection, alternately, and prints p50/p95 and the ratio of p95s.
Targets (issue 3, Postgres): p95 <= 2x raw, and <= 25 ms where raw p95 < 12 ms; SQLite 100k:
p95 <= 50 ms. Prints EXPLAIN ANALYZE of the slowest row.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from pathlib import Path

from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import measure_pair, print_table  # noqa: E402
from db.engine import make_engine, make_sessionmaker  # noqa: E402
from db.models import Agent, ChatSession  # noqa: E402
from sessionlens import identity, sessions  # noqa: E402
from sessionlens.filters import Compare, Responsible, SessionFilter  # noqa: E402
from sessionlens.sessions import SortKey  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/sessionlens_bench"


def cases(db, actor) -> dict[str, SessionFilter]:
    t = actor.tenant_id
    s = ChatSession
    newest = db.scalar(select(func.max(s.started_at)).where(s.tenant_id == t))
    agents = db.scalars(select(Agent.id).where(Agent.tenant_id == t).order_by(Agent.id)).all()
    human = db.scalar(
        select(s.assigned_user_id).where(s.tenant_id == t, s.assigned_user_id.is_not(None)).limit(1)
    )
    customer = db.scalar(
        select(s.customer_id)
        .where(s.tenant_id == t, s.customer_id.is_not(None))
        .order_by(s.started_at.desc())
        .limit(1)
    )
    rare_ip = db.scalar(
        select(s.ip)
        .where(s.tenant_id == t, s.ip.is_not(None))
        .group_by(s.ip)
        .order_by(func.count())
        .limit(1)
    )
    day = dt.timedelta(days=1)
    yesterday = (newest - day).replace(hour=0, minute=0, second=0, microsecond=0)
    every = SessionFilter(
        agent_ids=(agents[0],),
        channels=("web",),
        responsible=Responsible.AI,
        countries=("DE",),
        statuses=("resolved",),
        started_from=newest - 90 * day,
        last_message_from=newest - 60 * day,
        messages_op=Compare.GE,
        messages_count=5,
        has_attachments=True,
    )
    return {
        "agent": SessionFilter(agent_ids=(agents[1],)),
        "channel": SessionFilter(channels=("telegram",)),
        "responsible human": SessionFilter(responsible=Responsible.HUMAN),
        "human agent": SessionFilter(human_agent_ids=(human,)),
        "user": SessionFilter(customer_ids=(customer,)),
        "status escalated": SessionFilter(statuses=("escalated",)),
        "country": SessionFilter(countries=("SE",)),
        "exact IP (rare)": SessionFilter(ip=rare_ip),
        "start: last 7 days": SessionFilter(started_from=newest - 7 * day),
        "finish: yesterday": SessionFilter(finished_from=yesterday, finished_to=yesterday + day),
        "last message: 1 day": SessionFilter(
            last_message_from=newest - 3 * day, last_message_to=newest - 2 * day
        ),
        "finish: 1 day, 300 days ago": SessionFilter(
            finished_from=yesterday - 300 * day, finished_to=yesterday - 299 * day
        ),
        "last message: 1 day, 300 days ago": SessionFilter(
            last_message_from=yesterday - 300 * day, last_message_to=yesterday - 299 * day
        ),
        "messages >= 30": SessionFilter(messages_op=Compare.GE, messages_count=30),
        "has attachments": SessionFilter(has_attachments=True),
        "agent + channel": SessionFilter(agent_ids=(agents[1],), channels=("whatsapp",)),
        "channel + start 7 days": SessionFilter(channels=("email",), started_from=newest - 7 * day),
        "country + attachments": SessionFilter(countries=("SE",), has_attachments=True),
        "three agents": SessionFilter(agent_ids=tuple(agents[:3])),
        "finished yesterday + human": SessionFilter(
            finished_from=yesterday, finished_to=yesterday + day, responsible=Responsible.HUMAN
        ),
        "channel+country+last msg 30d": SessionFilter(
            channels=("web",), countries=("DE",), last_message_from=newest - 30 * day
        ),
        "all filters at once": every,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", default=DEFAULT_URL)
    ap.add_argument("--runs", type=int, default=60)
    ap.add_argument("--json", dest="json_path")
    args = ap.parse_args()
    engine = make_engine(args.url)
    maker = make_sessionmaker(engine, read_only=True)  # as the page reads
    with maker() as db:
        actor = identity.default_actor(db)
        named = cases(db, actor)
    raw_conn = engine.raw_connection()
    rows, slowest = [], None
    for name, flt in named.items():
        for sort in SortKey:
            for label, row, sql, params in time_pages(
                engine, maker, raw_conn, actor, flt, sort, args.runs
            ):
                row |= {
                    "case": f"{name} | {sort.value[:5]} | {label}",
                    "sessions_access": plan_indexes(engine, raw_conn, sql, params),
                }
                rows.append(row)
                if slowest is None or row["domain_p95_ms"] > slowest[0]["domain_p95_ms"]:
                    slowest = (row, sql, params)
    print_table(rows, args.json_path)
    print("\nHow each case reaches chat_sessions (index used; SEQ SCAN would be a defect):")
    for r in rows:
        print(f"  {r['case']:<48} {r['sessions_access']}")
    if slowest and engine.dialect.name == "postgresql":
        cur = raw_conn.cursor()
        cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + slowest[1], slowest[2])
        print(f"\nEXPLAIN ANALYZE of the slowest row ({slowest[0]['case']}):")
        print("\n".join(r[0] for r in cur.fetchall()))
        raw_conn.rollback()


def time_pages(engine, maker, raw_conn, actor, flt, sort, runs):  # type: ignore[no-untyped-def]
    """Time the first page of ``flt`` and its Load More: p50/p95 of the page's ``list_page`` call
    and of the very same SQL sent raw, alternately. Yields (label, row, sql, params); the row holds
    the timings and the first page's row count."""
    with maker() as db:
        first = sessions.list_page(db, flt, sort, actor=actor)
        flt = sessions.planned(db, flt)  # the raw SQL is the page's (a search names its anchor)
    for label, cursor in (("first", None), ("more", first.next_cursor)):
        if label == "more" and cursor is None:
            continue
        sql, params = _raw(engine, sessions.list_statement(actor, flt, sort, cursor, 51))

        def domain(c=cursor):  # type: ignore[no-untyped-def]
            with maker() as db:
                return sessions.list_page(db, flt, sort, c, actor=actor)

        def raw(q=sql, p=params):  # type: ignore[no-untyped-def]
            cur = raw_conn.cursor()
            cur.execute(q, p)
            cur.fetchall()
            cur.close()
            raw_conn.rollback()

        (d50, d95), (r50, r95) = measure_pair(domain, raw, runs)
        row = {
            "domain_p50_ms": d50,
            "domain_p95_ms": d95,
            "raw_p50_ms": r50,
            "raw_p95_ms": r95,
            "ratio_p95": d95 / r95,
            "rows": len(first.rows),
        }
        yield label, row, sql, params


def plan_indexes(engine, raw_conn, sql, params, tables=("chat_sessions",)) -> str:  # type: ignore[no-untyped-def]
    """The indexes the plan of ``sql`` uses, or SEQ SCAN when it reads one of ``tables`` whole
    (which would be a defect)."""
    cur = raw_conn.cursor()
    pg = engine.dialect.name == "postgresql"
    cur.execute(("EXPLAIN " if pg else "EXPLAIN QUERY PLAN ") + sql, params)
    plan = "\n".join(str(r[0] if pg else r[-1]) for r in cur.fetchall())
    cur.close()
    raw_conn.rollback()
    names = "|".join(tables)
    if re.search(rf"Seq Scan on ({names})\b|SCAN ({names})\b(?! USING)", plan):
        return "SEQ SCAN"
    return ",".join(dict.fromkeys(re.findall(r"(ix_\w+|\w+_fts|pk_\w+)", plan))) or "-"


def _raw(engine, stmt):
    compiled = stmt.compile(dialect=engine.dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.params
    if engine.dialect.name == "sqlite":  # positional "?" parameters, processed like the ORM does
        params = tuple(
            compiled.construct_params(escape_names=False)[k] for k in compiled.positiontup
        )
        processors = compiled._bind_processors
        params = tuple(
            processors[k](v) if k in processors else v
            for k, v in zip(compiled.positiontup, params, strict=True)
        )
    return str(compiled), params


if __name__ == "__main__":
    main()
