"""Agent-runtime API speed on Postgres at a million sessions.

    python bench/api.py [--url URL] [--runs 2000] [--api-workers 1,2] [--json FILE]

Uses the database of bench/sessions_page.py (built there the first time). Measures, in one run:

- appending one message to an active session at the server: ``ingest.append_messages`` in its
  own transaction (what the route runs), against the same statements sent as raw SQL with psycopg
  (lock the session row, read the highest seq, insert, update the counters), interleaved;
- the same append through HTTP from 4 concurrent clients (4 processes, as 4 runtimes), against
  ``GET /healthz`` from 4 clients in the same run (the HTTP floor): the API server on its own
  (``sessionlens api``), as one process and as ``--workers 2`` (``--api-workers``); each client
  appending to one session that grows to ``runs / 4`` messages, then each client across 25
  conversations of its own (about 20 messages each at 2,000 runs, as a real conversation);
- batch ingest: batches of 1,000 messages through ``ingest.append_messages``, messages per second;
- JSONL import: 200 sessions of 25 messages through ``ingest.read_file`` and ``import_documents``.

Targets (issue 12): append p95 <= 10 ms at the server and through HTTP from 4 clients; batch
ingest and JSONL import >= 5,000 messages/s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import time
import uuid
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import measure_pair, p50_p95, raw_connect  # noqa: E402
from bench.sessions_page import DEFAULT_URL, ensure_data  # noqa: E402
from db.engine import make_engine  # noqa: E402
from sessionlens import admin, exchange, geo, identity, ingest  # noqa: E402

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def _doc(ext: str, messages: int = 0) -> dict:
    t = NOW - dt.timedelta(minutes=5)
    return {
        "external_id": ext,
        "agent": "Bench Runtime",
        "channel": "web",
        "started_at": t.isoformat(),
        "messages": [
            {
                "external_id": f"{ext}-m{i}",
                "author": "customer" if i % 2 == 0 else "ai",
                "text": f"Message {i} of a benchmark conversation about an order.",
                "sent_at": (t + dt.timedelta(seconds=i)).isoformat(),
            }
            for i in range(messages)
        ],
    }


def _message(i: int) -> exchange.MessageIn:
    return exchange.parse(
        exchange.MessageIn,
        {"author": "customer", "text": f"live message {i}", "sent_at": NOW.isoformat()},
    )


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _client(
    port: int, key: str, exts: list[str], n0: int, count: int
) -> tuple[list[float], list[float]]:
    """One runtime: ``count`` appends to its sessions ``exts`` in turn, each followed by a
    ``GET /healthz``, on one kept-alive connection. Latencies in ms."""
    conn = http.client.HTTPConnection("127.0.0.1", port)
    appends, health = [], []
    for i in range(count):
        body = json.dumps(
            {"author": "ai", "text": f"http message {n0 + i}", "sent_at": NOW.isoformat()}
        )
        t0 = time.perf_counter()
        conn.request(
            "POST",
            f"/api/v1/sessions/{exts[i % len(exts)]}/messages",
            body,
            {"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        )
        res = conn.getresponse()
        res.read()
        appends.append((time.perf_counter() - t0) * 1000)
        assert res.status == 200, res.status
        t0 = time.perf_counter()
        conn.request("GET", "/healthz")
        conn.getresponse().read()
        health.append((time.perf_counter() - t0) * 1000)
    return appends, health


def _http(
    port: int, key: str, sessions: list[list[str]], per_client: int, *, threads: bool = False
) -> tuple[list[float], list[float]]:
    """Append latencies (ms) from one client per list of sessions, and /healthz latencies, all at
    once. Each client is a process of its own, as separate agent runtimes are (``threads``:
    threads of this process, which then also wait for one another's turn at the GIL)."""
    args = [(port, key, exts, k * 100_000, per_client) for k, exts in enumerate(sessions)]
    pool: Any = (
        ThreadPoolExecutor(len(args))
        if threads
        else ProcessPoolExecutor(len(args), mp_context=multiprocessing.get_context("fork"))
    )
    with pool:
        results = list(pool.map(_client, *zip(*args, strict=True)))
    return [t for a, _ in results for t in a], [t for _, h in results for t in h]


def _http_case(
    url: str, key: str, live: list[list[str]], procs: int, runs: int, *, threads: bool = False
) -> dict:
    """Appends from 4 clients (each to its list of sessions in turn) against ``sessionlens api
    --workers procs``, and /healthz."""
    port = _port()
    env = {**os.environ, "SESSIONLENS_DATABASE_URL": url, "SESSIONLENS_LOG_LEVEL": "WARNING"}
    server = subprocess.Popen(
        [sys.executable, "-m", "sessionlens.cli", "api", "--port", str(port)]
        + ["--workers", str(procs)],
        cwd=ROOT,
        env=env,
    )
    try:
        for _ in range(200):
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                c.request("GET", "/healthz")
                c.getresponse().read()
                break
            except OSError:
                time.sleep(0.1)
        _http(port, key, live, 20)  # warm-up: every process's pool and caches
        appends, health = _http(port, key, live, max(25, runs // 4), threads=threads)
    finally:
        server.terminate()
        server.wait(20)
    a50, a95 = p50_p95(appends)
    h50, h95 = p50_p95(health)
    return {
        "case": f"append 1 message, HTTP, 4 client {'threads' if threads else 'processes'} "
        f"x {len(live[0])} session{'s' if len(live[0]) > 1 else ''}, "
        f"{procs} server process{'es' if procs > 1 else ''}",
        "p50_ms": a50,
        "p95_ms": a95,
        "ref": "GET /healthz, 4 clients",
        "ref_p50_ms": h50,
        "ref_p95_ms": h95,
        "ratio_p95": a95 / h95,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", default=DEFAULT_URL)
    ap.add_argument("--runs", type=int, default=2000)
    ap.add_argument("--data", type=int, default=1_000_000, help="sessions in the database")
    ap.add_argument(
        "--api-workers",
        default="1,2",
        help="server processes for the HTTP cases (uvicorn --workers)",
    )
    ap.add_argument(
        "--client-threads",
        action="store_true",
        help="the 4 HTTP clients as threads of this process instead of 4 processes",
    )
    ap.add_argument("--json", dest="json_path")
    args = ap.parse_args()
    ensure_data(args.url, args.data)
    engine = make_engine(args.url)
    run_id = uuid.uuid4().hex[:8]
    locate = geo.Locator(None).locate
    with Session(engine) as db, db.begin():
        who = identity.default_actor(db)
        key = admin.create_api_key(db, actor=who, name=f"bench {run_id}", now=NOW)
        api_actor = admin.api_actor(db, key)
        assert api_actor is not None
        live = [f"bench-{run_id}-{k}" for k in range(5)]
        # Each HTTP client also gets 25 conversations of its own, so that each receives about
        # as many messages as a real one (runs / 4 / 25: 20 at 2,000 runs).
        spread = [[f"bench-{run_id}-c{c}-{k}" for k in range(25)] for c in range(4)]
        for ext in live + [e for exts in spread for e in exts]:
            ingest.upsert_session(
                db,
                exchange.parse(exchange.SessionIn, _doc(ext, 2)),
                actor=api_actor,
                now=NOW,
                locate=locate,
            )
    rows = []

    # 1. one append at the server, against the same statements as raw SQL
    counter = [0]

    def domain() -> None:
        counter[0] += 1
        with Session(engine) as db, db.begin():
            ingest.append_messages(db, live[0], [_message(counter[0])], actor=api_actor)

    raw = raw_connect(args.url)
    with raw.cursor() as cur:
        cur.execute("SELECT id, tenant_id FROM chat_sessions WHERE external_id = %s", (live[1],))
        sid, tenant = cur.fetchone()
    raw.commit()

    def raw_append() -> None:
        counter[0] += 1
        with raw.cursor() as cur:
            cur.execute("UPDATE chat_sessions SET id = id WHERE id = %s", (sid,))
            cur.execute("SELECT max(seq) FROM messages WHERE session_id = %s", (sid,))
            seq = (cur.fetchone()[0] or 0) + 1
            cur.execute(
                "INSERT INTO messages (tenant_id, session_id, seq, author_kind, text, sent_at, "
                "is_template) VALUES (%s, %s, %s, 'customer', %s, %s, false)",
                (tenant, sid, seq, f"raw {counter[0]}", NOW),
            )
            cur.execute(
                "UPDATE chat_sessions SET message_count = message_count + 1, "
                "last_message_at = %s WHERE id = %s",
                (NOW, sid),
            )
        raw.commit()

    (d50, d95), (r50, r95) = measure_pair(domain, raw_append, runs=args.runs)
    rows.append(
        {
            "case": "append 1 message, server",
            "p50_ms": d50,
            "p95_ms": d95,
            "ref": "same SQL, raw psycopg",
            "ref_p50_ms": r50,
            "ref_p95_ms": r95,
            "ratio_p95": d95 / r95,
        }
    )

    # 2. through HTTP from 4 concurrent clients, served by 1 process and by N (web/asgi.py):
    # each client appending to one session that grows to runs / 4 messages, each bringing a new
    # word (the session's words are rewritten each time), and each across 25 conversations
    for procs in (int(x) for x in args.api_workers.split(",")):
        for sessions in ([[ext] for ext in live[1:]], spread):
            rows.append(
                _http_case(args.url, key, sessions, procs, args.runs, threads=args.client_threads)
            )

    # 3. batch ingest
    batch_ext = f"bench-{run_id}-batch"
    with Session(engine) as db, db.begin():
        ingest.upsert_session(
            db,
            exchange.parse(exchange.SessionIn, _doc(batch_ext)),
            actor=api_actor,
            now=NOW,
            locate=locate,
        )
    batches = [
        exchange.parse(
            exchange.MessagesIn, {"messages": _doc(f"{batch_ext}-{b}", 1000)["messages"]}
        )
        for b in range(10)
    ]
    t0 = time.perf_counter()
    for body in batches:
        with Session(engine) as db, db.begin():
            ingest.append_messages(db, batch_ext, body.messages, actor=api_actor)
    took = time.perf_counter() - t0
    rows.append({"case": "batch ingest, 10 x 1,000 messages", "messages_per_s": 10_000 / took})

    # 4. JSONL import
    text = "\n".join(json.dumps(_doc(f"bench-{run_id}-file-{s}", 25)) for s in range(200))
    t0 = time.perf_counter()
    docs = ingest.read_file(text.encode(), "bench.jsonl")
    with Session(engine) as db, db.begin():
        ingest.import_documents(db, docs, actor=api_actor, now=NOW, locate=locate)
    took = time.perf_counter() - t0
    rows.append({"case": "JSONL import, 200 x 25 messages", "messages_per_s": 5000 / took})

    print(
        f"{'case':<74}{'p50 ms':>8}{'p95 ms':>8}   {'reference':<26}{'p50':>7}{'p95':>7}{'ratio p95':>10}"
    )
    print("-" * 140)
    for r in rows:
        if "p50_ms" in r:
            print(
                f"{r['case']:<74}{r['p50_ms']:>8.2f}{r['p95_ms']:>8.2f}   {r['ref']:<26}"
                f"{r['ref_p50_ms']:>7.2f}{r['ref_p95_ms']:>7.2f}{r['ratio_p95']:>10.2f}"
            )
        else:
            print(f"{r['case']:<74}{r['messages_per_s']:>16,.0f} messages/s")
    if args.json_path:
        Path(args.json_path).write_text("\n".join(json.dumps(r) for r in rows) + "\n")


if __name__ == "__main__":
    main()
