"""Scenario: N simulated people at once, straight through Dialogue.handle over SqliteStore.

    python -m benchmarks.engine --n 1000 --steps 20 [--think 0] [--trace] [--profile FILE]

Every step is one `Dialogue.handle`: load, decrypt, apply, encrypt, commit (WAL,
synchronous=FULL, so fsynced) and send. Latency is measured around `handle`, so at high
concurrency it includes waiting for the single database connection (queueing). With
`--think S` each person pauses a random time (mean S seconds) between steps: an open
load, closer to real people than the closed, saturating loop without it.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

from bot import Dialogue, Event, Reply, load_content
from storage import SqliteStore

from .stats import ROOT, all_at_once, emit, latency_summary, maxrss_mib, profiled, traced
from .walker import Action, policy_for

SECRET = bytes(range(32))


def event_for(action: Action, lang: str, message_id: int) -> Event:
    if action.kind == "press":
        return Event.button(action.value, lang_hint=lang)
    if action.kind == "command":
        return Event.command(action.value, message_id=message_id, lang_hint=lang)
    return Event.text(action.value, message_id=message_id, lang_hint=lang)


def steady_rate(done_at: list[float]) -> float:
    """Steps per second between the 10th and the 90th percentile of completion times
    (the bulk of a paced run, without the ramp-up and the long tail of late walkers)."""
    times = sorted(done_at)
    if len(times) < 10:
        return float("nan")
    low, high = times[len(times) // 10], times[len(times) * 9 // 10]
    return (len(times) * 8 // 10) / (high - low) if high > low else float("nan")


def db_footprint(path: Path) -> dict[str, Any]:
    """Size on disk (file + WAL + shm) and the stored records (after the store closed)."""
    files = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
    size = sum(f.stat().st_size for f in files if f.exists())
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        count, avg, biggest = db.execute(
            "SELECT count(*), avg(length(blob)), max(length(blob)) FROM conversations").fetchone()
        seen = db.execute("SELECT count(*) FROM seen_updates").fetchone()[0]
    finally:
        db.close()
    return {"db_bytes": size, "wal_bytes": files[1].stat().st_size if files[1].exists() else 0,
            "conversations": count, "record_avg_bytes": avg or 0, "record_max_bytes": biggest or 0,
            "seen_updates": seen}


async def run(n: int, steps: int, *, think: float = 0.0, seed: str = "bench",
              db_dir: Path | None = None, trace: bool = False) -> dict[str, Any]:
    with traced(trace) as memory:
        content = load_content(ROOT)
        with tempfile.TemporaryDirectory(prefix="kakekomi-bench-", dir=db_dir) as tmp:
            path = Path(tmp) / "bench.sqlite3"
            store = await SqliteStore.open(path, secret=SECRET)
            visited: set[tuple[str, str]] = set()
            dialogue = Dialogue(content, store, on_visit=lambda f, s: visited.add((f, s)))
            latencies: list[float] = []
            done_at: list[float] = []
            kinds = {"press": 0, "text": 0, "command": 0}
            gate = asyncio.Event()

            async def person(i: int) -> None:
                rng = random.Random(f"{seed}-{i}")
                policy = policy_for(content, rng)
                lang = "ja" if i % 2 == 0 else "en"
                key = store.pseudonym("bench", str(i))
                shown: list[tuple[str, str]] = []
                counter = [0]

                async def send(reply: Reply) -> list[int]:
                    nonlocal shown
                    shown = [(b.label, b.data) for b in reply.buttons]
                    ids = []
                    for _ in reply.messages:
                        counter[0] += 1
                        ids.append(counter[0])
                    return ids

                action = Action("command", "start")
                await gate.wait()
                if think:  # people arrive spread out, not all in the same millisecond
                    await asyncio.sleep(rng.uniform(0, 2 * think))
                for _ in range(steps):
                    counter[0] += 1
                    event = event_for(action, lang, counter[0])
                    kinds[action.kind] += 1
                    started = time.perf_counter()
                    await dialogue.handle(key, event, send)
                    finished = time.perf_counter()
                    latencies.append(finished - started)
                    done_at.append(finished)
                    action = policy.next(shown)
                    if think:
                        await asyncio.sleep(rng.expovariate(1 / think))

            wall = await all_at_once(person, n, gate)
            await store.close()  # checkpoints the WAL into the file
            footprint = db_footprint(path)
    total = len(latencies)
    states = sum(len(f.states) for f in content.flows.values())
    return {
        "scenario": "engine", "conversations": n, "steps": total, "think_s": think,
        "wall_s": wall, "steps_per_s": total / wall,
        "steady_steps_per_s": steady_rate(done_at), **latency_summary(latencies),
        "maxrss_mib": maxrss_mib(), **memory, **footprint,
        "db_bytes_per_10k": footprint["db_bytes"] / n * 10_000,
        "states_visited": len(visited), "states_total": states, "actions": kinds,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.engine")
    parser.add_argument("--n", type=int, default=100, help="conversations at once")
    parser.add_argument("--steps", type=int, default=20, help="steps per conversation")
    parser.add_argument("--think", type=float, default=0.0, help="mean pause between steps (s)")
    parser.add_argument("--trace", action="store_true", help="measure tracemalloc's peak")
    parser.add_argument("--profile", help="write a cProfile summary to this file")
    parser.add_argument("--db-dir", type=Path, help="where the temporary database goes")
    args = parser.parse_args(argv)
    with profiled(args.profile):
        result = asyncio.run(run(args.n, args.steps, think=args.think, trace=args.trace,
                                 db_dir=args.db_dir))
    emit(result)


if __name__ == "__main__":
    main()
