"""Scenario: N people at once through the real Application and the loopback stand-in.

    python -m benchmarks.surge [--n 2000]

The timing half of ``tests/test_reliability_load.py`` (the test keeps the properties:
everyone answered, each in order). Each person sends /start, /lang, /help without
waiting, then everyone presses the first menu button at once. Measured: seconds until
every burst is answered, until every press is answered, and how many presses were
acknowledged later than Telegram allows (15 s after delivery; a late answer is refused).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from bot import load_content
from storage import SqliteStore

from .stats import ROOT, emit, maxrss_mib

SECRET = bytes(range(32))
HANG_GUARD = 1800.0


async def _until(predicate: Any, what: str) -> None:
    deadline = time.monotonic() + HANG_GUARD
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"hung waiting for {what}")
        await asyncio.sleep(0.1)


async def run(n: int) -> dict[str, Any]:
    from tests.botapi_stub import BotApiStub, User
    from tests.telegram_fixtures import RunningBot

    content = load_content(ROOT)
    people = [User(920_000_000 + i, f"P{i}", "ja" if i % 2 else "en") for i in range(n)]
    with tempfile.TemporaryDirectory(prefix="kakekomi-bench-surge-") as tmp:
        store = await SqliteStore.open(Path(tmp) / "kakekomi.sqlite3", secret=SECRET)
        async with BotApiStub() as stub:  # Telegram's 15 s window for press answers
            bot = RunningBot(stub, content, store, rate_limiter=False)
            await bot.start(poll_timeout=1)
            try:
                started = time.monotonic()
                for person in people:
                    stub.send_command(person, "start")
                    stub.send_command(person, "lang")
                    stub.send_command(person, "help")
                await _until(lambda: all(len(stub.messages.get(p.id, ())) >= 6 for p in people),
                             "three replies for everyone")
                bursts_s = time.monotonic() - started
                pressed_at = time.monotonic()
                for person in people:
                    stub.press(person, stub.buttons(person.id)[0][1])
                await _until(lambda: all(len(stub.bot_messages(p.id)) >= 4 for p in people),
                             "the reply to every press")
                presses_s = time.monotonic() - pressed_at
                await bot.settle(timeout=HANG_GUARD)
            finally:
                await bot.stop()
            late = sum(1 for c in stub.calls if c.method == "answerCallbackQuery" and not c.ok)
        await store.close()
    return {"people": n, "bursts_s": bursts_s, "presses_s": presses_s,
            "late_press_answers": late, "maxrss_mib": maxrss_mib()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.surge", description=__doc__)
    parser.add_argument("--n", type=int, default=2000)
    args = parser.parse_args(argv)
    emit(asyncio.run(run(args.n)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
