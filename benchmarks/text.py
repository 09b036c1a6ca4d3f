"""Scenario: hostile text through Dialogue.handle over SqliteStore (issue 15, item 8).

    python -m benchmarks.text [--repeat 20] [--flood 20]

Each kind of text (4,096 and 5,000 digits, 100,000 characters, digit-comma runs, ``፩``,
lone surrogates, ...) is sent `--repeat` times by fresh people at the menu and at a date
question; the time of each `handle` is recorded. Then `--flood` people send a 4,096-digit
message at the same moment as one more person sends /start: how long that person waits
(before the fix, twenty such messages delayed a /start by 17 s).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from bot import Dialogue, Event, Reply, load_content
from storage import SqliteStore

from .stats import ROOT, emit, latency_summary

SECRET = bytes(range(32))
NOW = datetime.fromisoformat("2026-11-29T02:00+09:00")
CASES = {
    "4,096 digits": "1" * 4096,
    "5,000 digits": "9" * 5000,
    "100,000 characters": "x" * 100_000,
    "2,048 × '1,'": "1," * 2048,
    "4,096 kanji digits": "一" * 4096,
    "1,365 × '12:'": "12:" * 1365,
    "፩ (Ethiopic one)": "፩",
    "lone surrogates": "\ud800" * 4096,
    "control characters": "\x00\x07\x1b" * 1365,
}


async def _noop(reply: Reply) -> list[int]:
    return [1] * len(reply.messages)


async def _person_at(dialogue: Dialogue, key: str, where: str) -> None:
    await dialogue.handle(key, Event.command("start", lang_hint="en"), _noop)
    if where == "date":  # the memo's first date question
        await dialogue.handle(key, Event.command("memo", lang_hint="en"), _noop)
        for _ in range(4):  # start, then skip app, other person's id, room
            record = await dialogue.store.load(key)
            await dialogue.handle(key, Event.button(f"{record['step']}.0"), _noop)


async def run(repeat: int, flood: int) -> dict[str, Any]:
    content = load_content(ROOT)
    with tempfile.TemporaryDirectory(prefix="kakekomi-bench-text-") as tmp:
        store = await SqliteStore.open(Path(tmp) / "kakekomi.sqlite3", secret=SECRET)
        try:
            dialogue = Dialogue(content, store, clock=lambda: NOW)
            cases: dict[str, Any] = {}
            person = 0
            for name, text in CASES.items():
                for where in ("menu", "date"):
                    times = []
                    for _ in range(repeat):
                        person += 1
                        key = store.pseudonym("bench", str(person))
                        await _person_at(dialogue, key, where)
                        started = time.perf_counter()
                        reply = await dialogue.handle(key, Event.text(text, lang_hint="en"), _noop)
                        times.append(time.perf_counter() - started)
                        if not reply.messages:
                            raise SystemExit(f"no reply to {name} at the {where}")
                    cases[f"{name} @ {where}"] = latency_summary(times)

            keys = [store.pseudonym("bench-flood", str(n)) for n in range(flood)]
            for key in keys:
                await _person_at(dialogue, key, "menu")
            other = store.pseudonym("bench-flood", "other")
            started = time.perf_counter()

            async def the_other() -> float:
                await asyncio.sleep(0)  # the flood's handling has started
                await dialogue.handle(other, Event.command("start", lang_hint="ja"), _noop)
                return time.perf_counter() - started

            results = await asyncio.gather(
                *(dialogue.handle(k, Event.text("1" * 4096, lang_hint="en"), _noop)
                  for k in keys), the_other())
            waited = results[-1]
            flood_s = time.perf_counter() - started
        finally:
            await store.close()
    return {"repeat": repeat, "cases": cases, "flood": flood,
            "flood_other_start_ms": waited * 1e3, "flood_all_ms": flood_s * 1e3}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.text", description=__doc__)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--flood", type=int, default=20)
    args = parser.parse_args(argv)
    emit(asyncio.run(run(args.repeat, args.flood)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
