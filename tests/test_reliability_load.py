"""Load: 2,000 people at once through the stand-in; all are answered, each in order.

The bot is the real Application from bot.channels.telegram.build_application, in this
process, long polling the loopback stand-in over HTTP (not process_update: the whole
path, getUpdates batches and the per-person update processor included), over a real
SqliteStore. Its AIORateLimiter is left out: it caps every bot at Telegram's 30
messages per second, which would make this a test of the limiter (2,000 people would
take minutes); the limiter has its own tests.

Each person sends a burst without waiting: /start, /lang, /help. The replies only make
sense in that order (the help must come in the language switched to), so a reordering
shows in the texts. Then every person presses the first menu button at once.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from storage import SqliteStore
from tests.botapi_stub import BotApiStub, User
from tests.helpers import content
from tests.reliability_helpers import SECRET
from tests.telegram_fixtures import RunningBot

PEOPLE = 2_000
TIME_LIMIT = 120.0  # generous: the stand-in shares this process's one event loop


def t(lang: str, key: str) -> str:
    return content().locales.text(lang, key)


async def until(predicate, timeout: float, what: str, every: float = 0.25) -> None:
    """Poll a (costly) predicate; cheaper than re-checking on every stand-in call."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(every)


@pytest.mark.slow
async def test_two_thousand_people_at_once_are_all_answered_in_order(tmp_path):
    c = content()
    store = await SqliteStore.open(tmp_path / "kakekomi.sqlite3", secret=SECRET)
    people = [User(920_000_000 + n, f"P{n}", "ja" if n % 2 else "en") for n in range(PEOPLE)]
    started = time.monotonic()
    async with BotApiStub() as stub:
        bot = RunningBot(stub, c, store, rate_limiter=False)
        await bot.start(poll_timeout=1)
        try:
            for person in people:  # all bursts queued before the bot sees the first
                stub.send_command(person, "start")
                stub.send_command(person, "lang")
                stub.send_command(person, "help")

            def answered(count: int) -> bool:
                return all(len(stub.messages.get(p.id, ())) >= 3 + count for p in people)

            await until(lambda: answered(3), TIME_LIMIT, "three replies for everyone")
            burst_s = time.monotonic() - started
            for person in people:
                first = stub.buttons(person.id)[0][1]
                stub.press(person, first)

            def pressed() -> bool:
                return all(len(stub.bot_messages(p.id)) >= 4 for p in people)

            await until(pressed, TIME_LIMIT - burst_s, "the reply to every press")
            await bot.settle(timeout=10)
        finally:
            await bot.stop()
    elapsed = time.monotonic() - started
    print(f"{PEOPLE} people: bursts answered in {burst_s:.1f}s, all done in {elapsed:.1f}s")

    late = [c for c in stub.calls if c.method == "answerCallbackQuery" and not c.ok]
    refused = [(call.method, call.result) for call in stub.calls
               if not call.ok and call.method != "answerCallbackQuery"]
    assert not refused, refused[:5]
    wrong = []
    for person in people:
        lang = "ja" if person.language_code == "ja" else "en"
        other = "en" if lang == "ja" else "ja"
        texts = stub.texts(person.id)
        expected = [t(lang, "engine.welcome"), t(other, "engine.lang_changed"),
                    t(other, "engine.help")]
        got_order = [next((i for i, x in enumerate(texts) if want in x), None)
                     for want in expected]
        if None in got_order or got_order != sorted(got_order) or len(texts) != 4:
            wrong.append((person.id, got_order, len(texts)))
        elif t(other, "after.danger.q").split("\n")[0] not in texts[-1]:
            wrong.append((person.id, "press", texts[-1][:60]))
    assert not wrong, f"{len(wrong)} people got replies missing or out of order: {wrong[:3]}"
    # Every press answered within Telegram's time (the stand-in: 15 s from delivery),
    # although 2,000 updates queue for the handling slots behind it.
    assert not late, f"{len(late)} of {PEOPLE} button presses were answered too late"
    assert stub.unanswered_callbacks() == []


async def test_one_person_flooding_does_not_stall_everyone_else():
    """250 quick messages from one person; another person's /start is answered at once."""
    from storage import MemoryStore

    c = content()
    store = MemoryStore(secret=SECRET)
    async with BotApiStub() as stub:
        bot = RunningBot(stub, c, store, rate_limiter=False)
        await bot.start(poll_timeout=1)
        try:
            flooder, other = User(930_000_001, "F", "en"), User(930_000_002, "O", "ja")
            stub.fail("sendMessage", "slow", times=10**6, seconds=0.02)  # Telegram is not local
            for n in range(250):
                stub.send_text(flooder, f"hello {n}")
            stub.send_command(other, "start")
            started = time.monotonic()
            await stub.wait_for(lambda: stub.bot_messages(other.id), timeout=60,
                                what="the other person's reply")
            waited = time.monotonic() - started
            backlog = 250 - len(stub.bot_messages(flooder.id))
        finally:
            await bot.stop()
    assert waited < 1.0, f"answered after {waited:.1f}s, behind {backlog} of the flood"
