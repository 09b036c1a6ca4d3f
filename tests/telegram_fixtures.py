"""The real kakekomi Telegram bot against the loopback stand-in (tests and benchmarks).

async with BotApiStub() as stub:
    bot = RunningBot(stub, content, MemoryStore(secret=SECRET))
    await bot.start()
    stub.send_command(ALICE, "start")
    await bot.settle()
    await bot.stop()
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from bot import Content, Dialogue, load_content
from bot.channels.telegram._channel import build_application, start_application, stop_application
from storage import ConversationStore
from tests.botapi_stub import BotApiStub, User

SECRET = b"telegram-tests-secret-32-bytes!!"
# Raw ids with many digits, so a leak into a log line would be easy to spot.
ALICE = User(731234501, "Alice", "en")
BOB = User(731234502, "Bob", "ja")


def engine_content(root: Path) -> Content:
    """The engine fixture flows with the real engine, safety and contact texts."""
    from tests.conftest import build_engine_content

    return load_content(build_engine_content(root))


class RunningBot:
    """One Application over real HTTP, polling the stand-in; stop() is idempotent."""

    def __init__(
        self,
        stub: BotApiStub,
        content: Content,
        store: ConversationStore,
        *,
        dialogue: Dialogue | None = None,
        rate_limiter: bool = True,
    ):
        """`rate_limiter=False` leaves out the AIORateLimiter (Telegram's 30 messages a
        second), for tests of many people at once that are not about the limiter."""
        self.stub = stub
        self.store = store
        self.dialogue = dialogue or Dialogue(content, store)
        self.app = build_application(stub.token, self.dialogue, store, api_base_url=stub.url,
                                     rate_limiter=rate_limiter)
        self.running = False

    async def start(self, **options: Any) -> RunningBot:
        options.setdefault("poll_timeout", 1)
        await start_application(self.app, **options)
        self.running = True
        return self

    async def stop(self) -> None:
        if self.running:
            self.running = False
            await stop_application(self.app)

    def key(self, user: User) -> str:
        return self.store.pseudonym("telegram", str(user.id))

    async def record(self, user: User) -> dict[str, Any] | None:
        return await self.store.load(self.key(user))

    async def position(self, user: User) -> tuple[str, str]:
        record = await self.record(user)
        assert record is not None, "no conversation stored"
        return record["flow"], record["state"]

    def busy(self) -> bool:
        """Updates queued or being handled (including retry pauses inside a handler)."""
        processor = self.app.update_processor
        return (
            self.app.update_queue.qsize() > 0
            or processor.current_concurrent_updates > 0
            # arrived but not done: a press still being answered counts too
            or getattr(processor, "in_flight", 0) > 0
        )

    async def settle(self, timeout: float = 60.0) -> None:
        """Until every update was fetched and handled, and the stand-in saw no call for a
        moment (covers the gap between a getUpdates answer and the bot's queue)."""
        stub = self.stub
        await stub.wait_for(
            lambda: not stub._queue_unfetched() and not self.busy(),
            timeout=timeout,
            what="the bot to handle every update",
        )
        await stub.wait_idle(quiet=0.1, timeout=timeout)
        await stub.wait_for(lambda: not self.busy(), timeout=timeout, what="the bot to settle")


# ---- the bot as a separate process (start-up failures, signals, memory) --------------------


ROOT = Path(__file__).resolve().parent.parent
# A master secret with enough entropy for any check (64 hex digits = 256 bits).
PROCESS_SECRET = "9f3c1e7a5b2d4f6081a3c5e7092b4d6f8a1c3e5079b2d4f6a8c0e2134567890a"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class BotCommand:
    """``python -m bot telegram ARGS`` with a clean environment; stderr goes to a file."""

    def __init__(self, tmp: Path, token: str, *args: str, env: dict[str, str] | None = None):
        self.log = tmp / "bot.log"
        base = {k: v for k, v in os.environ.items() if not k.startswith(("KAKEKOMI_", "TELEGRAM_"))}
        base.update(
            TELEGRAM_BOT_TOKEN=token,
            KAKEKOMI_DATA=str(tmp / "data"),
            KAKEKOMI_SECRET=PROCESS_SECRET,
            PYTHONPATH=str(ROOT),
            **(env or {}),
        )
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bot", "telegram", *args],
                cwd=ROOT, env=base, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
            )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    async def wait(self, limit: float = 60.0) -> int:
        """The exit code; `limit` is only a guard against a hang (then kill -9 and fail)."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(None, lambda: self.proc.wait(limit))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            tail = self.output()[-3000:]
            raise AssertionError(f"the bot did not exit within {limit}s:\n{tail}") from None

    async def terminate(self, limit: float = 60.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return await self.wait(limit)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def rss_kib(self) -> int:
        """Resident memory now (VmRSS), in KiB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS")

    def open_fds(self) -> int:
        return len(os.listdir(f"/proc/{self.pid}/fd"))


def leaks(text: str, *secrets: str) -> list[str]:
    """Which of `secrets` appear in `text` (empty: none)."""
    return [s for s in secrets if s and s in text]
