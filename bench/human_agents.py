"""The Human Agents queue at scale: 10,000 waiting conversations among a million sessions.

    python bench/human_agents.py [--url URL] [--waiting 10000] [--runs 200] [--json FILE]

Uses the database of bench/sessions_page.py (built there the first time) and tops it up to
``--waiting`` open, unassigned human-mode sessions in the first tenant. Prints p50/p95 of the
list the page shows (``human_agents.conversations``, the first 200 cards with unread counts), of
its group counts, and of the refresh poll (``human_agents.signature``), each beside the same SQL
sent raw with psycopg in the same run (interleaved). Targets (issue 13): list p95 <= 25 ms, poll
p95 <= 5 ms.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import measure_pair, print_table, raw_connect  # noqa: E402
from bench.sessions_page import DEFAULT_URL, ensure_data  # noqa: E402
from db.engine import make_engine, make_sessionmaker  # noqa: E402
from db.models import ChatSession  # noqa: E402
from sessionlens import human_agents, identity  # noqa: E402
from sessionlens.kinds import Mode  # noqa: E402


def top_up(engine, tenant_id: int, want: int) -> int:  # type: ignore[no-untyped-def]
    with Session(engine) as db, db.begin():
        have = (
            db.scalar(
                select(func.count()).where(
                    ChatSession.tenant_id == tenant_id,
                    ChatSession.mode != Mode.AI,
                    ChatSession.finished_at.is_(None),
                    ChatSession.assigned_user_id.is_(None),
                )
            )
            or 0
        )
        if have < want:
            ids = (
                select(ChatSession.id)
                .where(ChatSession.tenant_id == tenant_id, ChatSession.finished_at.is_not(None))
                .order_by(ChatSession.id.desc())
                .limit(want - have)
                .scalar_subquery()
            )
            db.execute(
                update(ChatSession)
                .where(ChatSession.id.in_(ids))
                .values(mode=Mode.HUMAN, finished_at=None, assigned_user_id=None)
                .execution_options(synchronize_session=False)
            )
            have = want
    # VACUUM as well: the conversations just written are not all-visible until it runs, so each
    # index-only scan over them also reads their table pages (the poll measured 5.5-7.4 ms p95
    # against 4.6 ms after it). Autovacuum gets there on its own only after 20 % of the table
    # has changed, far more than these 10,000 rows.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE chat_sessions"))
    return have


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", default=DEFAULT_URL)
    ap.add_argument("--waiting", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--data", type=int, default=1_000_000, help="sessions in the database")
    ap.add_argument("--json", dest="json_path")
    args = ap.parse_args()
    ensure_data(args.url, args.data)
    engine = make_engine(args.url)
    with Session(engine) as db:
        who = identity.default_actor(db)
    waiting = top_up(engine, who.tenant_id, args.waiting)
    print(f"{waiting:,} conversations waiting in tenant {who.tenant_id}")
    raw = raw_connect(args.url)
    raw.autocommit = True

    def sql_of(fn):  # type: ignore[no-untyped-def]
        """The statement and parameters the domain call sends, to send the same raw."""
        captured: list[tuple[str, object]] = []

        from sqlalchemy import event

        def grab(conn, cursor, statement, params, context, many):  # type: ignore[no-untyped-def]
            captured.append((statement, params))

        event.listen(engine, "before_cursor_execute", grab)
        try:
            with Session(engine) as db:
                fn(db)
        finally:
            event.remove(engine, "before_cursor_execute", grab)
        return captured[-1]

    cases = {
        "list: first 200 waiting, unread counts": lambda db: human_agents.conversations(
            db, actor=who, show="unassigned"
        ),
        "group counts by AI agent": lambda db: human_agents.group_counts(
            db, actor=who, by="agent", show="all"
        ),
        "refresh poll (signature)": lambda db: human_agents.signature(db, actor=who),
        "navigation count (waiting)": lambda db: human_agents.waiting(db, actor=who),
    }
    rows = []
    # As the page reads (components/data.run_read): a read-only session per call, in autocommit,
    # so no BEGIN and ROLLBACK around the statement (the raw side sends none either).
    read = make_sessionmaker(engine, read_only=True)
    for name, fn in cases.items():
        statement = sql_of(fn)

        def domain(fn=fn) -> None:  # type: ignore[no-untyped-def]
            with read() as db:
                fn(db)

        def direct(statement=statement) -> None:  # type: ignore[no-untyped-def]
            with raw.cursor() as cur:
                cur.execute(statement[0], statement[1])
                cur.fetchall()

        (d50, d95), (r50, r95) = measure_pair(domain, direct, runs=args.runs)
        rows.append(
            {
                "case": name,
                "domain_p50_ms": d50,
                "domain_p95_ms": d95,
                "raw_p50_ms": r50,
                "raw_p95_ms": r95,
                "ratio_p95": d95 / r95,
            }
        )
    print_table(rows, args.json_path)


if __name__ == "__main__":
    main()
