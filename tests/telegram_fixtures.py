"""The real kakekomi Telegram bot against the loopback stand-in (tests and benchmarks).

async with BotApiStub() as stub:
    bot = RunningBot(stub, content, MemoryStore(secret=SECRET))
    await bot.start()
    stub.send_command(ALICE, "start")
    await bot.settle()
    await bot.stop()
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot import Content, Dialogue, load_content
from bot.channels.telegram import build_application, start_application, stop_application
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
        return (
            self.app.update_queue.qsize() > 0
            or self.app.update_processor.current_concurrent_updates > 0
        )

    async def settle(self, timeout: float = 10.0) -> None:
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
