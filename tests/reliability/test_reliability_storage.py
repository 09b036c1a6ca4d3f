"""Storage faults end to end, through the engine (Dialogue over SqliteStore) and the CLI.

Locked, read-only and full databases, and a damaged record: the person whose step could
not be saved gets the short apology (engine.storage_error), nothing half-saved is kept,
other people are still served, and sending the same thing again works once the fault is
gone. A damaged database file is refused at start by `python -m bot chat` and
`python -m bot telegram` with a message naming the file, and its bytes are left as they
were. (The store's own fault handling has unit tests in test_storage_faults.py.)
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from bot import Dialogue
from storage import SqliteStore
from tests.helpers import ROOT, content
from tests.reliability_helpers import SECRET, Person, check_reply

NOW = datetime.fromisoformat("2026-11-25T21:00+09:00")
APOLOGY = "engine.storage_error"


def t(lang: str, key: str) -> str:
    return content().locales.text(lang, key)


async def open_store(path: Path, **options) -> SqliteStore:
    options.setdefault("busy_timeout_ms", 50)
    return await SqliteStore.open(path, secret=SECRET, **options)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "kakekomi.sqlite3"


@pytest.fixture
async def store(db_path: Path):
    opened = await open_store(db_path)
    yield opened
    await opened.close()


@pytest.fixture
def dialogue(store: SqliteStore) -> Dialogue:
    return Dialogue(content(), store, clock=lambda: NOW)


def content_button(person: Person) -> str:
    """Data of the first button that moves the conversation (not back/menu/exit)."""
    nav = {t(lang, f"engine.nav.{n}") for lang in ("ja", "en") for n in ("back", "menu", "exit")}
    for label, data in person.buttons:
        if label not in nav:
            return data
    raise AssertionError(f"no content button in {person.buttons}")


def assert_apology(person: Person, lang: str) -> None:
    reply = person.last
    assert reply.keys == [APOLOGY], reply.keys
    assert reply.text == t(lang, APOLOGY)
    assert len(reply.text) <= 200 and not reply.buttons  # short, nothing to press
    check_reply(reply)


async def started(dialogue: Dialogue) -> tuple[Person, Person]:
    alice, bob = Person(dialogue, "alice", "en"), Person(dialogue, "bob", "ja")
    await alice.command("start")
    await alice.press("menu.after_sending")
    await bob.command("start")
    return alice, bob


async def assert_recovers(alice: Person, data: str, before: dict) -> None:
    """The press that failed works when sent again: its button still belongs to this step."""
    await alice.data(data)
    assert alice.keys != [APOLOGY]
    after = await alice.record()
    assert after["step"] == before["step"] + 1
    assert (after["flow"], after["state"]) != (before["flow"], before["state"]) \
        or after["slots"] != before["slots"]


# -- locked ------------------------------------------------------------------------------


async def test_locked_database_apologises_keeps_state_and_recovers(dialogue, db_path):
    alice, bob = await started(dialogue)
    before = await alice.record()
    data = content_button(alice)
    blocker = sqlite3.connect(db_path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
    try:
        await alice.data(data)  # must not raise
        assert_apology(alice, "en")
        assert await alice.record() == before  # WAL readers still see the last commit
        await bob.press("menu.selfcheck")
        assert_apology(bob, "ja")
        newcomer = Person(dialogue, "carol", "en")
        await newcomer.command("start")
        assert_apology(newcomer, "en")
        assert await newcomer.record() is None
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    await assert_recovers(alice, data, before)
    await bob.press("menu.selfcheck")
    assert bob.keys != [APOLOGY] and (await bob.record())["flow"] == "selfcheck"


# -- read-only ---------------------------------------------------------------------------


async def test_read_only_database_apologises_and_recovers(dialogue, store):
    """Read-only is made with PRAGMA query_only (root ignores chmod; see test_storage_faults):
    SQLite then refuses writes with SQLITE_READONLY, as for a read-only file or mount."""
    alice, bob = await started(dialogue)
    before = await alice.record()
    data = content_button(alice)
    await bob.command("forget")  # the confirmation is on screen before the fault
    await store._conn.execute("PRAGMA query_only = ON")  # test hook
    try:
        await alice.data(data)
        assert_apology(alice, "en")
        assert await alice.record() == before
        # Erasing is a write too: bob must not be told "erased" while it is all still there.
        await bob.press("engine.forget.yes")
        assert_apology(bob, "ja")
        assert await bob.record() is not None
    finally:
        await store._conn.execute("PRAGMA query_only = OFF")
    await assert_recovers(alice, data, before)
    await bob.press("engine.forget.yes")  # the same button, once writes work again
    assert "engine.forget.done" in bob.keys
    assert await bob.record() is None


# -- full --------------------------------------------------------------------------------


async def test_full_database_apologises_for_the_big_answer_and_serves_small_steps(db_path):
    store = await open_store(db_path)
    dialogue = Dialogue(content(), store, clock=lambda: NOW)
    alice, bob = await started(dialogue)
    await alice.command("memo")
    await alice.press("memo.btn.start")  # the first memo question takes free text
    memo_at = await alice.record()
    assert memo_at["flow"] == "memo" and content().state("memo", memo_at["state"]).ask
    await store.close()
    with sqlite3.connect(db_path) as db:  # no free pages left to reuse, then no growth
        db.execute("VACUUM")
        (pages,) = db.execute("PRAGMA page_count").fetchone()
    store = await open_store(db_path, max_page_count=pages)
    try:
        dialogue = Dialogue(content(), store, clock=lambda: NOW)
        alice, bob = Person(dialogue, "alice", "en"), Person(dialogue, "bob", "ja")
        answer = "相手のIDと、やりとりの内容のメモ。" * 110  # about 2,000 characters
        assert len(answer) <= 2000
        await alice.type(answer)
        assert_apology(alice, "en")
        assert await alice.record() == memo_at
        await bob.command("help")  # a step that does not grow bob's record much
        assert bob.keys != [APOLOGY] and (await bob.record())["step"] > 0
        await alice.type("short")  # and a short answer from alice still fits
        assert alice.keys != [APOLOGY]
        assert (await alice.record())["slots"]["memo_app"] == "short"
    finally:
        await store.close()


# -- a damaged record --------------------------------------------------------------------


async def test_damaged_record_apologises_to_its_owner_only_and_can_be_erased(dialogue, db_path):
    alice, bob = await started(dialogue)
    with sqlite3.connect(db_path) as db:  # alice's record now holds bob's ciphertext
        db.execute("UPDATE conversations SET blob = (SELECT blob FROM conversations WHERE key = ?)"
                   " WHERE key = ?", (bob.key, alice.key))
    dialogue.store._cache.clear()  # as after a restart (the live process keeps its own copy)
    stale = content_button(alice)
    await alice.data(stale)
    assert alice.keys == ["engine.damaged.text"], alice.keys
    check_reply(alice.last)
    await alice.type("hello?")  # every later message is answered too, never silence
    assert alice.keys == ["engine.damaged.text"]
    await bob.press("menu.selfcheck")
    assert bob.keys != [APOLOGY] and (await bob.record())["flow"] == "selfcheck"
    # The way out: the one button erases the unreadable record and starts afresh.
    [(label, data)] = alice.buttons
    assert label == t("en", "engine.damaged.erase")
    await alice.data(data)
    assert alice.keys[0] == "engine.damaged.erased"
    assert (await alice.record())["flow"] == "menu"
    await alice.press("menu.after_sending")
    assert (await alice.record())["flow"] == "after_sending"


async def test_the_erase_button_does_nothing_to_a_readable_record(dialogue):
    alice, _ = await started(dialogue)
    before = await alice.record()
    await alice.data("x.erase")  # forged, or left over from an erase that was done
    assert "engine.stale_button" in alice.keys
    after = await alice.record()
    assert (after["flow"], after["state"], after["slots"]) == \
        (before["flow"], before["state"], before["slots"])


async def test_crisis_words_get_the_lines_even_when_nothing_can_be_saved(dialogue, db_path):
    alice, _ = await started(dialogue)
    blocker = sqlite3.connect(db_path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        await alice.type("I want to die")
        assert alice.keys[0] == "crisis.danger" and alice.keys[-1] == APOLOGY, alice.keys
        assert "110" in alice.last.text
        check_reply(alice.last)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()


# -- a damaged file at start (CLI) ---------------------------------------------------------


def damaged_database(path: Path, how: str) -> bytes:
    """Write a kakekomi database, then damage it; returns the damaged bytes."""
    import asyncio

    async def fill() -> None:
        store = await SqliteStore.open(path, secret=cli_secret())
        for n in range(300):
            await store.save(store.pseudonym("telegram", str(n)), {"notes": "メモ" * 60})
        await store.close()

    asyncio.run(fill())
    data = bytearray(path.read_bytes())
    if how == "garbage":
        data = bytearray((b"this is not a database \x00\xff" * 10_000)[: len(data)])
    else:  # one page in the middle overwritten
        assert len(data) > 12 * 4096
        data[10 * 4096: 11 * 4096] = b"\xa5" * 4096
    path.write_bytes(bytes(data))
    return bytes(data)


CLI_SECRET = "kakekomi-test-secret-Qx7vR2pL9mZ4wT8n"


def cli_secret() -> bytes:
    from storage import load_secret

    return load_secret(CLI_SECRET, Path("/nonexistent"))


def run_cli(args: list[str], db: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAKEKOMI_", "TELEGRAM_"))}
    env.update(KAKEKOMI_DB=str(db), KAKEKOMI_SECRET=CLI_SECRET,
               KAKEKOMI_DATA=str(tmp_path / "data"), TELEGRAM_BOT_TOKEN="123456:TEST-token",
               PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)


# 127.0.0.1:9 (discard): nothing listens there, and the store is opened before any request.
TELEGRAM = ["telegram", "--api-base-url", "http://127.0.0.1:9"]


@pytest.mark.parametrize("how", ["garbage", "damaged_page"])
@pytest.mark.parametrize("command", [["chat"], TELEGRAM], ids=["chat", "telegram"])
def test_cli_refuses_a_damaged_database_and_leaves_it_alone(tmp_path, how, command):
    db = tmp_path / "kakekomi.sqlite3"
    damaged = damaged_database(db, how)
    result = run_cli(command, db, tmp_path)
    assert result.returncode != 0, result.stdout[-500:]
    assert str(db) in result.stderr
    assert "damaged" in result.stderr
    assert db.read_bytes() == damaged  # never repaired, replaced or truncated
    assert not Path(f"{db}-wal").exists() or Path(f"{db}-wal").stat().st_size == 0


@pytest.mark.parametrize("command", [
    pytest.param(["chat"], id="chat"),
    pytest.param(TELEGRAM, id="telegram"),
])
def test_cli_says_what_is_wrong_without_a_traceback(tmp_path, command):
    db = tmp_path / "kakekomi.sqlite3"
    damaged_database(db, "garbage")
    result = run_cli(command, db, tmp_path)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr[-1500:]
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("kakekomi:") and str(db) in last


def test_cli_starts_on_a_healthy_database(tmp_path):
    """The control for the test above: the same command on a good file exits 0 at EOF."""
    import asyncio

    db = tmp_path / "kakekomi.sqlite3"

    async def make() -> None:
        store = await SqliteStore.open(db, secret=cli_secret())
        await store.close()

    asyncio.run(make())
    result = run_cli(["chat"], db, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
