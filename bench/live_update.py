"""What one write of a long conversation's session row costs Postgres, live against not live.

    python bench/live_update.py [--url URL] [--runs 300] [--words 3000]

The counter update of a live append (message_count, last_message_at) on a session holding
``--words`` distinct words, committed each time, with the session live (``search_live``: outside
the GIN index, migration 0014) and not live (inside it: every write puts all its words in the GIN
index's pending list again), alternately on the same row. Prints p50/p95 in ms and the WAL bytes
each write made. Uses the database of bench/sessions_page.py; the row is put back as it was.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import p50_p95, raw_connect  # noqa: E402
from bench.sessions_page import DEFAULT_URL  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", default=DEFAULT_URL)
    ap.add_argument("--runs", type=int, default=300)
    ap.add_argument("--words", type=int, default=3000)
    args = ap.parse_args()
    conn = raw_connect(args.url)
    with conn.cursor() as cur:
        cur.execute(
            "SELECT id, search, search_live, message_count FROM chat_sessions ORDER BY id LIMIT 1"
        )
        sid, words, live, count = cur.fetchone()
        cur.execute(
            "UPDATE chat_sessions SET search = array_to_tsvector(ARRAY(SELECT 'w' || g "
            "FROM generate_series(1, %s) g)) WHERE id = %s",
            (args.words, sid),
        )
    conn.commit()
    times: dict[bool, list[float]] = {True: [], False: []}
    wal: dict[bool, list[int]] = {True: [], False: []}
    try:
        for i in range(args.runs * 2):
            flag = i % 2 == 0
            with conn.cursor() as cur:
                cur.execute("UPDATE chat_sessions SET search_live = %s WHERE id = %s", (flag, sid))
                conn.commit()
                cur.execute("SELECT pg_current_wal_insert_lsn()")
                lsn0 = cur.fetchone()[0]
                conn.commit()
                t0 = time.perf_counter()
                cur.execute(
                    "UPDATE chat_sessions SET message_count = message_count + 1, "
                    "last_message_at = last_message_at WHERE id = %s",
                    (sid,),
                )
                conn.commit()
                times[flag].append((time.perf_counter() - t0) * 1000)
                cur.execute("SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), %s)", (lsn0,))
                wal[flag].append(int(cur.fetchone()[0]))
                conn.commit()
    finally:  # the session as it was, however far the runs got (Ctrl-C included)
        conn.rollback()
        with conn.cursor() as cur:
            cur.execute(
                "UPDATE chat_sessions SET search = %s::tsvector, search_live = %s, "
                "message_count = %s WHERE id = %s",
                (words, live, count, sid),
            )
        conn.commit()
    print(f"counter update of a session of {args.words:,} words, {args.runs} runs each")
    print(f"{'session':<34}{'p50 ms':>8}{'p95 ms':>8}{'WAL bytes (median)':>20}")
    for flag, name in ((True, "live (outside the GIN index)"), (False, "not live (inside it)")):
        p50, p95 = p50_p95(times[flag])
        print(f"{name:<34}{p50:>8.2f}{p95:>8.2f}{statistics.median(wal[flag]):>20,.0f}")
    ratio = p50_p95(times[False])[1] / p50_p95(times[True])[1]
    print(f"p95 not live / live: {ratio:.1f}")


if __name__ == "__main__":
    main()
