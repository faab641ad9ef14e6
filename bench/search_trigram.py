"""Words (tsvector) against trigrams (pg_trgm) for message search, on the same messages.

    python bench/search_trigram.py [--url URL] [--sessions 100000] [--runs 20]

Copies the messages of the newest ``--sessions`` sessions of the benchmark database (about 13 per
session) into a scratch table, builds a GIN index over their search words (what Sessionlens keeps)
and a GIN trigram index over their text, and prints each index's build time and size, then the time
to find the messages holding a rare word, a common word and a phrase both ways. Trigrams find any
substring, but not accent- or case-folded words the way the tokenizer does, and they need three
characters. The scratch table is dropped at the end.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import measure  # noqa: E402
from bench.sessions_page import DEFAULT_URL  # noqa: E402
from db.engine import make_engine  # noqa: E402

CASES = [  # (what, tsquery, ILIKE pattern)
    ("rare word", "'zanzibar'", "%zanzibar%"),
    ("common word", "'order'", "%order%"),
    ("phrase", "'started' <-> 'a' <-> 'refund'", "%started a refund%"),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", default=DEFAULT_URL)
    ap.add_argument("--sessions", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    engine = make_engine(args.url)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
        conn.execute(text("DROP TABLE IF EXISTS bench_trgm"))
        conn.execute(text("SET maintenance_work_mem = '512MB'"))
        conn.execute(
            text(
                "CREATE TABLE bench_trgm AS SELECT m.id, m.text, m.search FROM messages m "
                "WHERE m.session_id > (SELECT max(id) FROM chat_sessions) - :n"
            ),
            {"n": args.sessions},
        )
        rows = conn.scalar(text("SELECT count(*) FROM bench_trgm"))
        print(f"{rows:,} messages of the newest {args.sessions:,} sessions\n")
        print(f"{'index':<28} {'build s':>8} {'size':>10}")
        for name, ddl in (
            (
                "words (tsvector GIN)",
                "CREATE INDEX bench_trgm_words ON bench_trgm USING gin (search)",
            ),
            (
                "trigrams (pg_trgm GIN)",
                "CREATE INDEX bench_trgm_trgm ON bench_trgm USING gin (text gin_trgm_ops)",
            ),
        ):
            t0 = time.perf_counter()
            conn.execute(text(ddl))
            took = time.perf_counter() - t0
            index = ddl.split()[2]
            size = conn.scalar(text("SELECT pg_size_pretty(pg_relation_size(:i))"), {"i": index})
            print(f"{name:<28} {took:>8.1f} {size:>10}")
        conn.execute(text("ANALYZE bench_trgm"))
        print(
            f"\n{'query':<14} {'found':>8} {'words p50':>10} {'p95':>7} {'trigram p50':>12} {'p95':>7}"
        )
        for what, tsq, like in CASES:
            words_sql = text("SELECT count(*) FROM bench_trgm WHERE search @@ CAST(:q AS tsquery)")
            trgm_sql = text("SELECT count(*) FROM bench_trgm WHERE text ILIKE :p")
            found = conn.scalar(words_sql, {"q": tsq})
            w50, w95 = measure(lambda: conn.scalar(words_sql, {"q": tsq}), args.runs, 2)
            t50, t95 = measure(lambda: conn.scalar(trgm_sql, {"p": like}), args.runs, 2)
            print(f"{what:<14} {found:>8,} {w50:>10.1f} {w95:>7.1f} {t50:>12.1f} {t95:>7.1f}")
        conn.execute(text("DROP TABLE bench_trgm"))


if __name__ == "__main__":
    main()
