"""Crashes: kill -9 the bot at random moments; no acknowledged answer is lost.

The main test runs ``python -m bot telegram`` as a separate process against the loopback
Bot API stand-in (in this process), drives 100 scripted conversations through it, and
kills the bot with SIGKILL several times at random moments, restarting it each time.
An answer is acknowledged once the bot's reply to it reached the stand-in. Polling is
at-most-once after confirmation (PTB confirms a batch with the next getUpdates), so the
stand-in redelivers what was not confirmed and the scripted people tap again when no
reply comes (as a person would): the step-tied button data makes a repeated tap safe.

Every conversation must end exactly where, and with exactly the answers that, the same
script gives when run straight through the engine with no crash (the oracle): so no
acknowledged answer is lost, none is applied twice (ticks would flip back), none is stuck.

The engine-level tests below pin the two crash windows deterministically.
"""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path

import pytest

from bot import Dialogue
from storage import SqliteStore, load_secret
from tests.botapi_stub import BotApiStub, User
from tests.helpers import content
from tests.reliability_helpers import SECRET, Person
from tests.reliability_telegram import (
    SECRET_TEXT,
    TOKEN,
    BotProcess,
    Progress,
    ScriptedPerson,
    ScriptPolicy,
    oracle_records,
    scripts,
)

CONVERSATIONS = 100
AT_ONCE = 25  # people talking at the same moment (the rest start as others finish)
KILLS = 4
TIME_LIMIT = 900.0  # a hang guard for all conversations, restarts included; not a speed limit
RESEND_AFTER = 4.0  # seconds without a reply before a person taps (or types) again


def lang_of(user: User) -> str:
    return "ja" if (user.language_code or "").startswith("ja") else "en"


@pytest.mark.slow
async def test_kill_9_at_random_moments_loses_no_acknowledged_answer(tmp_path: Path):
    c = content()
    users = [User(810_000_000 + n, f"P{n}", "ja" if n % 2 else "en")
             for n in range(CONVERSATIONS)]
    plans = scripts(CONVERSATIONS)
    expected = await oracle_records(c, list(zip(users, plans, strict=True)))
    seed = random.randrange(10**6)
    rng = random.Random(seed)
    db, log = tmp_path / "kakekomi.sqlite3", tmp_path / "bot.log"
    progress = Progress()
    kills_at: list[int] = []
    async with BotApiStub(token=TOKEN) as stub:
        bot = BotProcess(stub.url, db, log)
        bot.start()
        deadline = time.monotonic() + TIME_LIMIT
        people = [ScriptedPerson(stub, user, ScriptPolicy(c, lang_of(user), plan), progress,
                                 resend_after=RESEND_AFTER)
                  for user, plan in zip(users, plans, strict=True)]
        gate = asyncio.Semaphore(AT_ONCE)
        tasks = [asyncio.create_task(p.run(deadline, gate)) for p in people]
        try:
            # Spread the kills over the run: after a random amount of acknowledged
            # steps each time, plus a random fraction of a second.
            total = sum(r["decisions"] + 1 for r in expected.values())
            for _ in range(KILLS):
                target = progress.acked + rng.randint(total // (KILLS * 4), total // (KILLS + 1))
                while progress.acked < target and progress.done < CONVERSATIONS:
                    await asyncio.sleep(0.02)
                await asyncio.sleep(rng.uniform(0.0, 0.4))
                if progress.done == CONVERSATIONS:
                    break
                kills_at.append(progress.acked)
                await bot.kill()
                await asyncio.sleep(rng.uniform(0.0, 0.5))
                bot.start()
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await bot.stop()
    info = (f"seed={seed} kills at acknowledged steps {kills_at}, acknowledged="
            f"{progress.acked} resends={progress.resends} starts={bot.starts}")
    assert len(kills_at) == KILLS, f"the run ended before every kill; {info}"
    print(info)
    stuck = [p for p in people if not p.finished]
    assert not stuck, (f"{len(stuck)} conversations did not finish; {info}; the first one's "
                       f"last moves: {list(stuck[0].moves)}")
    # As many decisions as without crashes: no screen came back after it was answered
    # (an acknowledged answer that was lost would have to be given again).
    redone = [(p.user.id, p.steps, expected[p.user.id]["decisions"]) for p in people
              if p.steps != expected[p.user.id]["decisions"]]
    assert not redone, f"answered again after acknowledgement: {redone[:5]}; {info}"
    text = log.read_text(errors="replace")
    assert "Traceback" not in text, text[-3000:]

    store = await SqliteStore.open(db, secret=load_secret(SECRET_TEXT, tmp_path / "none"))
    try:
        wrong = []
        for user in users:
            record = await store.load(store.pseudonym("telegram", str(user.id)))
            want = expected[user.id]
            got = None if record is None else (record["flow"], record["state"], record["slots"])
            if got != (want["flow"], want["state"], want["slots"]):
                wrong.append((user.id, got, (want["flow"], want["state"], want["slots"])))
    finally:
        await store.close()
    assert not wrong, f"{len(wrong)} conversations differ from the crash-free run; {info}; " \
                      f"first: {wrong[0]}"


# -- the two crash windows, deterministically ---------------------------------------------


class Killed(BaseException):
    """Stands for SIGKILL at this exact point: nothing after it runs."""


class CrashingStore:
    """A store whose next save dies before it commits (then behaves)."""

    def __init__(self, inner: SqliteStore):
        self.inner = inner
        self.crash_next_save = False

    def __getattr__(self, name: str):
        return getattr(self.inner, name)

    async def save(self, key: str, record: dict) -> None:
        if self.crash_next_save:
            self.crash_next_save = False
            raise Killed
        await self.inner.save(key, record)


async def at_happening(dialogue: Dialogue) -> Person:
    person = Person(dialogue, "alice", "en")
    await person.command("start")
    for key in ("menu.after_sending", "after.danger.no", "after.age.adult"):
        await person.press(key)
    assert (await person.record())["state"] == "happening"
    return person


async def restarted(path: Path, old: SqliteStore) -> tuple[Dialogue, SqliteStore]:
    """A new process: a new store connection and a new engine (no memory of the old)."""
    await old.close()
    store = await SqliteStore.open(path, secret=SECRET)
    return Dialogue(content(), store), store


async def test_killed_after_commit_before_reply_the_tap_again_changes_nothing(tmp_path):
    path = tmp_path / "kakekomi.sqlite3"
    store = await SqliteStore.open(path, secret=SECRET)
    person = await at_happening(Dialogue(content(), store))
    tick = dict(person.buttons)[content().locales.text("en", "after.happening.threat")]

    async def dies(reply):  # committed, but the reply never leaves
        raise Killed

    person._send = dies  # type: ignore[method-assign]
    with pytest.raises(Killed):
        await person.data(tick)
    assert (await person.record())["slots"]["happening"] == ["threat"]  # committed

    dialogue, store = await restarted(path, store)
    try:
        again = Person(dialogue, "alice", "en")
        await again.data(tick)  # the person saw nothing, taps again
        assert "engine.stale_button" in again.keys
        assert (await again.record())["slots"]["happening"] == ["threat"]  # not unticked
        assert any(label == "✅ " + content().locales.text("en", "after.happening.threat")
                   for label, _ in again.buttons)
    finally:
        await store.close()


async def test_killed_before_commit_the_tap_again_counts_once(tmp_path):
    path = tmp_path / "kakekomi.sqlite3"
    inner = await SqliteStore.open(path, secret=SECRET)
    store = CrashingStore(inner)
    person = await at_happening(Dialogue(content(), store))  # type: ignore[arg-type]
    before = await person.record()
    tick = dict(person.buttons)[content().locales.text("en", "after.happening.threat")]
    store.crash_next_save = True
    with pytest.raises(Killed):
        await person.data(tick)
    assert await person.record() == before  # nothing half-written

    dialogue, fresh = await restarted(path, inner)
    try:
        again = Person(dialogue, "alice", "en")
        await again.data(tick)
        assert "engine.stale_button" not in again.keys
        assert (await again.record())["slots"]["happening"] == ["threat"]
    finally:
        await fresh.close()


async def test_killed_after_commit_a_retyped_answer_does_not_fill_the_next_question(tmp_path):
    path = tmp_path / "kakekomi.sqlite3"
    store = await SqliteStore.open(path, secret=SECRET)
    person = Person(Dialogue(content(), store), "alice", "en")
    await person.command("memo")
    await person.press("memo.btn.start")
    first = (await person.record())["state"]
    assert content().state("memo", first).ask

    async def dies(reply):
        raise Killed

    person._send = dies  # type: ignore[method-assign]
    with pytest.raises(Killed):
        await person.type("instagram @someone")
    dialogue, store = await restarted(path, store)
    try:
        again = Person(dialogue, "alice", "en")
        await again.type("instagram @someone")  # no reply came: the person types it again
        slots = (await again.record())["slots"]
        answered = [k for k, v in slots.items() if v == "instagram @someone"]
        assert answered == [content().state("memo", first).ask.slot], answered
        assert "engine.already_saved" in again.keys
        await again.type("instagram @someone")  # now it is meant for this question
        slots = (await again.record())["slots"]
        assert len([k for k, v in slots.items() if v == "instagram @someone"]) == 2
    finally:
        await store.close()


async def test_without_a_restart_the_same_text_answers_two_questions(tmp_path):
    store = await SqliteStore.open(tmp_path / "kakekomi.sqlite3", secret=SECRET)
    try:
        person = Person(Dialogue(content(), store), "alice", "en")
        await person.command("memo")
        await person.press("memo.btn.start")
        await person.type("I don't know")
        await person.type("I don't know")
        assert "engine.already_saved" not in person.keys
        slots = (await person.record())["slots"]
        assert len([k for k, v in slots.items() if v == "I don't know"]) == 2
    finally:
        await store.close()
