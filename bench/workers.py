"""Transcription workers on one Postgres: draining a queue with 1, 2 and 4 worker processes.

    python bench/workers.py [--calls 50] [--seconds 60] [--workers 1,2,4] [--json FILE]

Fifty 60-second calls (espeak-ng speech, 16 kHz mono) are imported at once through the domain's
import (probe, database blob store, session, job), then N `sessionlens worker` processes are started
and the wall time until the last job is done is measured, for each N, each on a fresh batch. On
this 2-core machine each worker gets 2/N transcription threads, so the cores are shared, not
multiplied. Workers use tiny.en, beam 1 (the fastest shipped model; the choice does not change the
overhead, which is what this measures), with SESSIONLENS_WHISPER_* overriding.

Printed beside it:

- the per-job overhead: a job's run time in the database (claimed to finished) with one worker,
  against bare faster-whisper on the same file (same model, threads, beam, VAD filter) and against
  the worker's own engine alone (decode, VAD, chunked transcription), each in a fresh process with
  the model loaded beforehand, the median of three; and the parts of the overhead measured alone
  (a claim, reading the recording from the database store, decoding);
- the database store's read throughput against reading the same file from disk (100 MB, the
  median of five reads each; the disk file is in the page cache, so this is the cost of the
  database path, not of the disk).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import p50_p95  # noqa: E402
from bench.transcribe import make_call  # noqa: E402

BENCH_PG = os.environ.get(
    "SESSIONLENS_BENCH_WORKERS_URL",
    "postgresql+psycopg://postgres@127.0.0.1:5432/sessionlens_bench_workers",
)
MODEL = {
    "SESSIONLENS_WHISPER_MODEL": os.environ.get("SESSIONLENS_WHISPER_MODEL", "tiny.en"),
    "SESSIONLENS_WHISPER_BEAM_SIZE": os.environ.get("SESSIONLENS_WHISPER_BEAM_SIZE", "1"),
}


def _database():  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    from db.engine import make_engine, make_sessionmaker
    from db.migrate import upgrade
    from sessionlens import demo, geo

    admin = make_engine(BENCH_PG.rsplit("/", 1)[0] + "/postgres")
    name = BENCH_PG.rsplit("/", 1)[1]
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    engine = make_engine(BENCH_PG)
    upgrade(engine)
    with engine.begin() as conn:
        demo.generate(conn, locator=geo.Locator(None), sessions=5, seed=1)
    return engine, make_sessionmaker(engine)


def _import_batch(maker, store, data: bytes, n: int) -> tuple[list[int], float]:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from db.models import Agent
    from sessionlens import identity
    from sessionlens.importer import import_recording
    from sessionlens.settings import Settings

    settings = Settings(database_url=BENCH_PG)
    with maker() as db:
        actor = identity.default_actor(db)
        agent = db.scalar(select(Agent.id).where(Agent.tenant_id == actor.tenant_id).limit(1))
    ids, t0 = [], time.perf_counter()
    for i in range(n):
        with maker.begin() as db:
            done = import_recording(
                db,
                actor=actor,
                data=data,
                filename=f"call-{i}.wav",
                agent_id=agent,
                channel="sip",
                store=store,
                settings=settings,
                now=dt.datetime.now(dt.UTC),
            )
        ids.append(done.job_id)
    return ids, time.perf_counter() - t0


def _drain(maker, job_ids: list[int], workers: int, tmp: Path) -> dict:  # type: ignore[no-untyped-def]
    from sqlalchemy import func, select

    from db.models import Job, JobStatus

    env = {
        **os.environ,
        **MODEL,
        "SESSIONLENS_DATABASE_URL": BENCH_PG,
        "SESSIONLENS_WHISPER_THREADS": str(max(1, 2 // workers)),
        "SESSIONLENS_LOG_LEVEL": "WARNING",
    }
    t0 = time.perf_counter()
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "sessionlens.cli", "worker"],
            cwd=tmp,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(workers)
    ]
    try:
        while True:
            with maker() as db:
                left = db.scalar(
                    select(func.count()).where(
                        Job.id.in_(job_ids), Job.status.in_([JobStatus.QUEUED, JobStatus.RUNNING])
                    )
                )
            if not left:
                break
            time.sleep(0.25)
        wall = time.perf_counter() - t0
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(30)
    with maker() as db:
        rows = db.execute(
            select(Job.status, Job.claimed_at, Job.finished_at, Job.created_at).where(
                Job.id.in_(job_ids)
            )
        ).all()
    failed = sum(1 for r in rows if r.status != JobStatus.DONE)
    runs = [(r.finished_at - r.claimed_at).total_seconds() for r in rows]
    first = min(r.claimed_at for r in rows)
    return {"wall_s": wall, "runs_s": runs, "failed": failed, "first_claim": first}


def _seconds_from(code: str) -> float:
    """Run ``code`` in a fresh process with the benchmark's model settings; the number it prints."""
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **MODEL},
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def _bare(path: Path, threads: int) -> float:
    """Bare faster-whisper on ``path`` in a fresh process: median seconds of three runs."""
    code = f"""
import json, statistics, sys, time
sys.path.insert(0, {str(ROOT)!r})
from faster_whisper import WhisperModel
from sessionlens.settings import Settings
from sessionlens.transcription.engine import resolve_model
s = Settings()
m = WhisperModel(resolve_model(s.whisper_model, s.model_dir), device="cpu", compute_type="int8",
                 cpu_threads={threads}, local_files_only=True)
times = []
for _ in range(3):
    t0 = time.perf_counter()
    segs, _ = m.transcribe({str(path)!r}, language="en", beam_size=s.whisper_beam_size,
                           vad_filter=s.whisper_vad)
    list(segs)
    times.append(time.perf_counter() - t0)
print(json.dumps(statistics.median(times)))
"""
    return _seconds_from(code)


def _engine(path: Path, threads: int) -> float:
    """The worker's own engine (VAD, chunking) on the decoded file in a fresh process, as the job
    runs it, without the queue, the store or the writes: median seconds of three runs."""
    code = f"""
import json, statistics, sys, time
sys.path.insert(0, {str(ROOT)!r})
from pathlib import Path
from sessionlens.settings import Settings
from sessionlens.transcription.audio import decode
from sessionlens.transcription.engine import WhisperEngine
e = WhisperEngine(Settings(whisper_threads={threads}))
times = []
for _ in range(3):
    t0 = time.perf_counter()
    audio = decode(Path({str(path)!r}), stereo=False)
    list(e.transcribe(audio.channels[0]))
    times.append(time.perf_counter() - t0)
print(json.dumps(statistics.median(times)))
"""
    return _seconds_from(code)


def _parts(maker, store, key: str, path: Path) -> dict:  # type: ignore[no-untyped-def]
    """The pieces of a job's overhead, each alone (milliseconds, median of 20)."""
    from sessionlens import jobs
    from sessionlens.transcription.audio import decode

    def claim() -> None:
        with maker.begin() as db:  # an empty queue: the claim's own cost
            jobs.claim(db, worker="bench", now=dt.datetime.now(dt.UTC))

    def timed(fn) -> float:  # type: ignore[no-untyped-def]
        times = []
        for _ in range(20):
            t0 = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t0) * 1000)
        return statistics.median(times)

    out = Path(tempfile.mkdtemp()) / "audio.wav"
    return {
        "claim_ms": timed(claim),
        "blob_read_ms": timed(lambda: store.download(key, out)),
        "decode_ms": timed(lambda: decode(path, stereo=False)),
    }


def _throughput(store, tmp: Path) -> dict:
    size = 100 * 1024 * 1024
    src = tmp / "big.bin"
    src.write_bytes(os.urandom(size))
    key = store.put_file(open(src, "rb"), suffix=".bin")  # noqa: SIM115 - read to the end
    out = tmp / "out.bin"

    def rate(fn) -> tuple[float, float]:  # type: ignore[no-untyped-def]
        speeds = []
        for _ in range(5):
            t0 = time.perf_counter()
            fn()
            speeds.append(size / 1e6 / (time.perf_counter() - t0))
        return statistics.median(speeds), min(speeds)

    def from_disk() -> None:
        with open(src, "rb") as f, open(out, "wb") as o:
            while chunk := f.read(1024 * 1024):
                o.write(chunk)

    db_med, db_low = rate(lambda: store.download(key, out))
    disk_med, disk_low = rate(from_disk)
    store.delete(key)
    return {"db_mb_s": db_med, "db_low_mb_s": db_low, "disk_mb_s": disk_med, "disk_low": disk_low}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--calls", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--workers", default="1,2,4")
    ap.add_argument("--json", dest="json_path")
    args = ap.parse_args()
    os.environ.update(MODEL)
    from sessionlens.blobs import DatabaseBlobStore

    tmp = Path(tempfile.mkdtemp(prefix="bench-workers-"))
    mono, _, _ = make_call(args.seconds, tmp)
    data = mono.read_bytes()
    engine, maker = _database()
    store = DatabaseBlobStore(engine)
    print(
        f"{args.calls} calls of {args.seconds:.0f} s ({len(data) / 1e6:.1f} MB each), "
        f"model {MODEL['SESSIONLENS_WHISPER_MODEL']}, beam {MODEL['SESSIONLENS_WHISPER_BEAM_SIZE']}"
        f", {os.cpu_count()} cores, Postgres, database blob store"
    )
    rows: list[dict] = []
    print(
        f"{'workers':>7} {'threads':>7} {'import s':>8} {'drain s':>8} {'calls/min':>9} "
        f"{'job p50 s':>9} {'job p95 s':>9} {'failed':>6}"
    )
    for n in (int(x) for x in args.workers.split(",")):
        job_ids, imported = _import_batch(maker, store, data, args.calls)
        got = _drain(maker, job_ids, n, tmp)
        p50, p95 = p50_p95(got["runs_s"])
        row = {
            "case": f"{n} workers",
            "workers": n,
            "threads_each": max(1, 2 // n),
            "import_s": imported,
            "drain_s": got["wall_s"],
            "calls_per_min": args.calls / got["wall_s"] * 60,
            "job_p50_s": p50,
            "job_p95_s": p95,
            "failed": got["failed"],
        }
        rows.append(row)
        print(
            f"{n:>7} {row['threads_each']:>7} {imported:>8.1f} {got['wall_s']:>8.1f} "
            f"{row['calls_per_min']:>9.1f} {p50:>9.2f} {p95:>9.2f} {got['failed']:>6}"
        )
    bare, own = _bare(mono, threads=2), _engine(mono, threads=2)
    one = next((r for r in rows if r["workers"] == 1), rows[0])
    key = store.put(data, suffix=".wav")
    parts = _parts(maker, store, key, mono)
    overhead = {
        "case": "per-job overhead (1 worker, 2 threads)",
        "bare_faster_whisper_s": bare,
        "engine_s": own,
        "job_p50_s": one["job_p50_s"],
        "overhead_s": one["job_p50_s"] - own,
        "overhead_pct": 100 * (one["job_p50_s"] - own) / own,
        "vs_bare_s": one["job_p50_s"] - bare,
        **parts,
    }
    rows.append(overhead)
    print()
    print(
        f"{'one 60 s call, 2 threads':<50} {'seconds':>8}\n"
        f"{'bare faster-whisper (transcribe, VAD filter)':<50} {bare:>8.2f}\n"
        f"{'the worker engine alone (decode + VAD + chunks)':<50} {own:>8.2f}\n"
        f"{'a job (claim to done, 1 worker, p50)':<50} {one['job_p50_s']:>8.2f}\n"
        f"overhead of the job beyond the engine: {overhead['overhead_s']:.2f} s "
        f"({overhead['overhead_pct']:.0f} %), beyond bare faster-whisper: "
        f"{overhead['vs_bare_s']:+.2f} s; alone: claim {parts['claim_ms']:.1f} ms, blob read "
        f"{parts['blob_read_ms']:.1f} ms, decode {parts['decode_ms']:.1f} ms"
    )
    tp = _throughput(store, tmp)
    rows.append({"case": "blob read throughput (100 MB)", **tp})
    print(
        f"reading 100 MB: database store {tp['db_mb_s']:.0f} MB/s (slowest {tp['db_low_mb_s']:.0f}),"
        f" disk {tp['disk_mb_s']:.0f} MB/s: ratio {tp['disk_mb_s'] / tp['db_mb_s']:.1f}x"
    )
    if args.json_path:
        Path(args.json_path).write_text("\n".join(json.dumps(r, default=str) for r in rows) + "\n")


if __name__ == "__main__":
    main()
