"""Timing, table printing and the raw database connection shared by the benchmarks."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg


def measure(fn: Callable[[], object], runs: int = 40, warmup: int = 3) -> tuple[float, float]:
    """(p50, p95) in milliseconds of ``fn`` over ``runs`` calls after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return p50_p95(times)


def measure_pair(
    a: Callable[[], object], b: Callable[[], object], runs: int = 200, warmup: int = 5
) -> tuple[tuple[float, float], tuple[float, float]]:
    """(p50, p95) of ``a`` and of ``b``, called alternately so that load bursts hit both alike."""
    for _ in range(warmup):
        a()
        b()
    ta, tb = [], []
    for _ in range(runs):
        for fn, out in ((a, ta), (b, tb)):
            t0 = time.perf_counter()
            fn()
            out.append((time.perf_counter() - t0) * 1000)
    return p50_p95(ta), p50_p95(tb)


def p50_p95(times: list[float]) -> tuple[float, float]:
    times = sorted(times)
    return statistics.median(times), times[max(0, int(round(0.95 * len(times))) - 1)]


def print_table(rows: list[dict], json_path: str | None) -> None:
    head = f"{'case':<34} {'domain p50':>10} {'domain p95':>10} {'raw p50':>8} {'raw p95':>8} {'ratio p95':>9}"
    print(head)
    print("-" * len(head))
    for r in rows:
        print(
            f"{r['case']:<34} {r['domain_p50_ms']:>10.2f} {r['domain_p95_ms']:>10.2f} "
            f"{r['raw_p50_ms']:>8.2f} {r['raw_p95_ms']:>8.2f} {r['ratio_p95']:>9.2f}"
        )
    if json_path:
        Path(json_path).write_text("\n".join(json.dumps(r) for r in rows) + "\n")


def raw_connect(url: str, **options: Any) -> psycopg.Connection:
    """A plain psycopg connection to the database of the SQLAlchemy URL ``url`` (for the raw SQL
    a benchmark compares the app with, and for its own set-up)."""
    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), **options)
