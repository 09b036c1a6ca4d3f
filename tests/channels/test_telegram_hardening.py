"""Issue 15 on Telegram: an update PTB cannot read, the logs, and failures at start.

A poison update (here: a message whose ``date`` is a string, which makes PTB's
``Update.de_json`` raise) must be skipped and counted, never fetched again and again;
everyone else is still answered; SIGTERM still stops the bot; and no log line, at any
level, carries the token, a raw id or what the person wrote. Start-up failures are one
line each, without the token or a traceback.
"""

from __future__ import annotations

import asyncio
import logging
import socket

import httpx
import pytest

from bot.channels.telegram._logging import RedactContent
from storage import MemoryStore
from tests.botapi_stub import BotApiStub, User
from tests.telegram_fixtures import (
    ALICE,
    BOB,
    SECRET,
    BotCommand,
    RunningBot,
    engine_content,
    free_port,
    leaks,
)

SECRET_WORDS = "my secret words about the photo"
CAROL = User(731234503, "Carol", "en")


@pytest.fixture(scope="module")
def content(tmp_path_factory):
    return engine_content(tmp_path_factory.mktemp("content"))


@pytest.fixture
async def stub():
    async with BotApiStub() as server:
        yield server


def poison(user: User, text: str = SECRET_WORDS) -> dict:
    """A message PTB cannot parse: its date is a string."""
    return {
        "message": {
            "message_id": 77,
            "from": user.as_json(),
            "chat": {"id": user.id, "type": "private", "first_name": user.first_name},
            "date": "yesterday",
            "text": text,
        }
    }


def fetches_of(stub: BotApiStub, update_id: int) -> int:
    """How many getUpdates answers carried this update."""
    return sum(
        1
        for call in stub.calls_to("getUpdates")
        if isinstance(call.result, list)
        and any(u.get("update_id") == update_id for u in call.result)
    )


class Everything(logging.Handler):
    """Every record at every level, formatted with its traceback (as a log file would)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@pytest.fixture
def all_logs():
    """Root at DEBUG and every library logger at DEBUG: nothing is filtered by level."""
    handler = Everything()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def open_the_floodgates() -> None:
    """After build_application (which raises the chatty loggers to WARNING): all to DEBUG."""
    for name in ("telegram", "telegram.ext", "httpx", "httpcore", "tornado"):
        logging.getLogger(name).setLevel(logging.DEBUG)


def assert_clean(text: str, stub: BotApiStub, *users: User) -> None:
    secrets = [stub.token, stub.token.split(":", 1)[1], SECRET_WORDS, "yesterday"]
    secrets += [str(u.id) for u in users]
    assert leaks(text, *secrets) == []


# ---- polling ---------------------------------------------------------------------------------


async def test_poison_update_in_polling_is_skipped_counted_and_others_answered(
    stub, content, all_logs
):
    running = RunningBot(stub, content, MemoryStore(secret=SECRET))
    open_the_floodgates()
    bad = stub.enqueue(poison(ALICE))
    stub.send_command(BOB, "start")  # in the same batch, after the poison
    await running.start()
    try:
        await stub.wait_for(lambda: stub.texts(BOB.id), what="Bob answered")
        stub.send_command(ALICE, "start")  # the person whose update was poison can go on
        await stub.wait_for(lambda: stub.texts(ALICE.id), what="Alice answered")
        stub.send_command(CAROL, "start")
        await running.settle()
        assert stub.texts(CAROL.id)
        assert fetches_of(stub, bad["update_id"]) == 1  # never fetched again
        assert running.app.bot.updates.skipped == 1
    finally:
        await running.stop()
    assert ("skipped an update that could not be read (TypeError, polling); 1 skipped"
            in all_logs.text)
    assert_clean(all_logs.text, stub, ALICE, BOB, CAROL)


async def test_a_batch_of_only_poison_moves_the_offset_past_it(stub, content):
    running = RunningBot(stub, content, MemoryStore(secret=SECRET))
    first = stub.enqueue(poison(ALICE))
    last = stub.enqueue(poison(BOB))
    await running.start()
    try:
        await stub.wait_for(lambda: running.app.bot.updates.skipped == 2, what="both skipped")
        stub.send_command(BOB, "start")
        await stub.wait_for(lambda: stub.texts(BOB.id), what="Bob answered")
        assert fetches_of(stub, first["update_id"]) == fetches_of(stub, last["update_id"]) == 1
    finally:
        await running.stop()


# ---- webhook ---------------------------------------------------------------------------------


async def test_poison_update_by_webhook_is_acknowledged_counted_and_never_logged(
    stub, content, all_logs
):
    port = free_port()
    running = RunningBot(stub, content, MemoryStore(secret=SECRET))
    open_the_floodgates()
    await running.start(
        webhook_url=f"http://127.0.0.1:{port}/hook", listen="127.0.0.1", port=port,
        secret_token="hook-secret_1",
    )
    url = f"http://127.0.0.1:{port}/hook"
    headers = {"X-Telegram-Bot-Api-Secret-Token": "hook-secret_1"}
    try:
        async with httpx.AsyncClient() as client:
            bad = await client.post(url, json=dict(poison(ALICE), update_id=5001), headers=headers)
            # 200: Telegram would otherwise send it again and again
            assert bad.status_code == 200
            malformed = await client.post(
                url, content=b'{"update_id": 5002, "message": ', headers=headers
            )
            assert malformed.status_code == 400
            not_object = await client.post(url, content=b"[1, 2, 3]", headers=headers)
            assert not_object.status_code == 400
            stub.send_command(BOB, "start")
            good = await client.post(url, json=stub._queue.pop(), headers=headers)
            assert good.status_code == 200
        await stub.wait_for(lambda: stub.texts(BOB.id), what="Bob answered via the webhook")
        assert running.app.bot.updates.skipped == 1
    finally:
        await running.stop()
    assert "skipped an update that could not be read (TypeError, webhook)" in all_logs.text
    assert_clean(all_logs.text, stub, ALICE, BOB)


# ---- the filter itself -----------------------------------------------------------------------


def test_filter_redacts_payload_args_ids_tokens_and_exception_messages(stub):
    handler = Everything()
    handler.addFilter(RedactContent())
    logger = logging.getLogger("telegram.ext.SomethingNew")  # made after configure_logging
    logger.addHandler(handler)
    logger.propagate = False
    try:
        try:
            int(SECRET_WORDS)
        except ValueError:
            logger.critical(
                "Error while parsing updates! Received data was %r; bot%s; chat %d",
                [poison(ALICE)],
                stub.token,
                ALICE.id,
                exc_info=True,
                stack_info=True,
            )
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    text = handler.text
    assert "ValueError" in text and "Error while parsing updates" in text
    assert_clean(text, stub, ALICE)


# ---- real processes: SIGTERM with poison pending, one-line start-up failures ---------------


async def test_sigterm_stops_a_polling_bot_with_a_poison_update_pending(stub, tmp_path):
    stub.enqueue(poison(ALICE))
    bot = BotCommand(tmp_path, stub.token, "--api-base-url", stub.url, "--lang", "en")
    try:
        stub.send_command(BOB, "start")
        await stub.wait_for(lambda: stub.texts(BOB.id), timeout=60, what="Bob answered")
        late = stub.enqueue(poison(CAROL))  # pending when the signal comes
        await stub.wait_for(lambda: fetches_of(stub, late["update_id"]), timeout=30,
                            what="the second poison fetched")
        code = await bot.terminate(limit=60)
    finally:
        bot.kill()
    out = bot.output()
    assert code == 0, out[-2000:]
    assert fetches_of(stub, late["update_id"]) == 1
    assert "skipped an update that could not be read" in out
    assert "Traceback" not in out
    assert_clean(out, stub, ALICE, BOB, CAROL)


async def _one_line_failure(bot: BotCommand, *expected: str) -> str:
    code = await bot.wait(limit=60)
    out = bot.output()
    assert code == 2, out[-2000:]
    assert "Traceback" not in out
    lines = [line for line in out.splitlines() if line.startswith("kakekomi: ")]
    assert len(lines) == 1, out[-2000:]
    for words in expected:
        assert words.lower() in lines[0].lower(), lines[0]
    return out


async def test_rejected_token_is_one_line_without_the_token(stub, tmp_path):
    wrong = "654321:WRONG-token-nobody-should-ever-see_42"
    bot = BotCommand(tmp_path, wrong, "--api-base-url", stub.url)
    out = await _one_line_failure(bot, "refused the bot token", "TELEGRAM_BOT_TOKEN")
    assert leaks(out, wrong, wrong.split(":")[1]) == []


async def test_unreachable_api_is_one_line(tmp_path):
    closed = free_port()  # nothing listens there
    token = "123456:TEST-unreachable-token-0000000000"
    bot = BotCommand(tmp_path, token, "--api-base-url", f"http://127.0.0.1:{closed}")
    out = await _one_line_failure(bot, "cannot reach", f"127.0.0.1:{closed}")
    assert leaks(out, token, token.split(":")[1]) == []


async def test_webhook_port_in_use_is_one_line(stub, tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        bot = BotCommand(
            tmp_path, stub.token, "--api-base-url", stub.url,
            "--webhook-url", f"http://127.0.0.1:{port}/hook", "--listen", "127.0.0.1",
            "--port", str(port), "--secret-token", "hook-secret_2",
        )
        out = await _one_line_failure(bot, f"127.0.0.1:{port}", "another process")
    assert leaks(out, stub.token, stub.token.split(":")[1], "hook-secret_2") == []


async def test_webhook_refused_by_telegram_is_one_line(stub, tmp_path):
    stub.fail("setWebhook", "bad_request", description="bad webhook: IP address is not allowed")
    port = free_port()
    bot = BotCommand(
        tmp_path, stub.token, "--api-base-url", stub.url,
        "--webhook-url", f"http://127.0.0.1:{port}/hook", "--listen", "127.0.0.1",
        "--port", str(port), "--secret-token", "hook-secret_3",
    )
    out = await _one_line_failure(bot, "refused setWebhook", "IP address is not allowed")
    assert leaks(out, stub.token, stub.token.split(":")[1], "hook-secret_3") == []
    await asyncio.sleep(0)  # the port is free again: the bot closed its server
    with socket.socket() as again:
        again.bind(("127.0.0.1", port))
