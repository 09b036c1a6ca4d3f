"""Small helpers shared by the scenarios: percentiles, memory, JSON hand-off, profiling."""

from __future__ import annotations

import asyncio
import contextlib
import cProfile
import io
import json
import pstats
import resource
import sys
import time
import tracemalloc
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULT_PREFIX = "BENCH-RESULT "


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list (q in 0..100)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), round(q / 100 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


def latency_summary(latencies: list[float]) -> dict[str, float]:
    """Median, p99 and max in milliseconds."""
    values = sorted(latencies)
    return {
        "median_ms": percentile(values, 50) * 1e3,
        "p99_ms": percentile(values, 99) * 1e3,
        "max_ms": (values[-1] if values else float("nan")) * 1e3,
    }


def maxrss_mib() -> float:
    """Peak resident set size of this process (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextlib.contextmanager
def traced(enabled: bool) -> Iterator[dict[str, float]]:
    """Measure tracemalloc's peak (MiB) over the block when `enabled`."""
    out: dict[str, float] = {}
    if not enabled:
        yield out
        return
    tracemalloc.start()
    try:
        yield out
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        out["tracemalloc_peak_mib"] = peak / 2**20


@contextlib.contextmanager
def profiled(target: str | None, top: int = 30) -> Iterator[None]:
    """cProfile the block; write the top functions (by own time and cumulative) to `target`."""
    if not target:
        yield
        return
    profile = cProfile.Profile()
    profile.enable()
    try:
        yield
    finally:
        profile.disable()
        text = io.StringIO()
        stats = pstats.Stats(profile, stream=text)
        stats.strip_dirs().sort_stats("tottime").print_stats(top)
        stats.sort_stats("cumulative").print_stats(top)
        Path(target).write_text(text.getvalue(), encoding="utf-8")


def emit(result: dict[str, Any]) -> None:
    """Hand a scenario's result to the parent process (one JSON line on stdout)."""
    sys.stdout.write(RESULT_PREFIX + json.dumps(result) + "\n")
    sys.stdout.flush()


def parse_result(stdout: str) -> dict[str, Any]:
    for line in reversed(stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            return json.loads(line[len(RESULT_PREFIX):])
    raise ValueError("the scenario printed no result")


async def all_at_once(person: Callable[[int], Awaitable[None]], n: int,
                      gate: asyncio.Event) -> float:
    """Run people 0..n-1 (each waits for `gate` once set up); seconds from the gate
    opening until the last one is done."""
    tasks = [asyncio.create_task(person(i)) for i in range(n)]
    await asyncio.sleep(0)
    started = time.perf_counter()
    gate.set()
    await asyncio.gather(*tasks)
    return time.perf_counter() - started
