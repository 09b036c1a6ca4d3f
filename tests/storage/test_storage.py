"""Storage behaviour: what the engine can rely on from any ConversationStore."""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import stat
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from storage import (
    SCHEMA_VERSION,
    ConversationStore,
    MemoryStore,
    SqliteStore,
    StorageError,
    StorageUnavailable,
    load_secret,
)
from storage._crypto import Keyring

SECRET = bytes(range(32))
REPO = Path(__file__).resolve().parents[2]


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2025, 4, 1, 9, 30, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "kakekomi.db"


@pytest.fixture(params=["sqlite", "memory"])
async def store(
    request: pytest.FixtureRequest, db_path: Path, clock: FakeClock
) -> AsyncIterator[SqliteStore | MemoryStore]:
    opened: SqliteStore | MemoryStore
    if request.param == "sqlite":
        opened = await SqliteStore.open(db_path, secret=SECRET, clock=clock)
    else:
        opened = MemoryStore(SECRET, clock=clock)
    yield opened
    await opened.close()


# -- the basics, for every store ---------------------------------------------------


async def test_both_stores_implement_the_protocol(store: ConversationStore) -> None:
    assert isinstance(store, ConversationStore)


async def test_saved_record_loads_back_with_japanese_text(store: ConversationStore) -> None:
    key = store.pseudonym("telegram", "1001")
    record = {"flow": "start", "step": 3, "answers": {"feeling": "こわい", "paid": None}}
    await store.save(key, record)
    assert await store.load(key) == record


async def test_unknown_conversation_loads_as_none(store: ConversationStore) -> None:
    assert await store.load(store.pseudonym("telegram", "never-seen")) is None


async def test_changing_a_loaded_record_does_not_change_the_stored_one(
    store: ConversationStore,
) -> None:
    key = store.pseudonym("telegram", "1002")
    await store.save(key, {"step": 1, "answers": {}})
    loaded = await store.load(key)
    assert loaded is not None
    loaded["answers"]["q"] = "changed"
    assert await store.load(key) == {"step": 1, "answers": {}}


async def test_a_record_must_be_a_dict(store: ConversationStore) -> None:
    with pytest.raises(TypeError):
        await store.save(store.pseudonym("telegram", "1"), ["not", "a", "dict"])  # type: ignore[arg-type]


async def test_pseudonym_is_stable_hex_and_differs_by_channel(store: ConversationStore) -> None:
    key = store.pseudonym("telegram", "987654321")
    assert len(key) == 32 and int(key, 16) >= 0
    assert key == store.pseudonym("telegram", "987654321")
    assert key != store.pseudonym("terminal", "987654321")
    assert "987654321" not in key


async def test_pseudonyms_agree_between_stores_with_the_same_secret(db_path: Path) -> None:
    sqlite_store = await SqliteStore.open(db_path, secret=SECRET)
    try:
        assert sqlite_store.pseudonym("telegram", "42") == MemoryStore(SECRET).pseudonym(
            "telegram", "42"
        )
        assert sqlite_store.pseudonym("telegram", "42") != MemoryStore(b"other").pseudonym(
            "telegram", "42"
        )
    finally:
        await sqlite_store.close()


async def test_deleted_conversation_is_gone(store: ConversationStore) -> None:
    key, other = store.pseudonym("telegram", "1"), store.pseudonym("telegram", "2")
    await store.save(key, {"step": 1})
    await store.save(other, {"step": 2})
    await store.delete(key)
    await store.delete(store.pseudonym("telegram", "never-saved"))
    assert await store.load(key) is None
    assert await store.load(other) == {"step": 2}


async def test_user_who_blocked_the_bot_is_erased(store: ConversationStore) -> None:
    key = store.pseudonym("telegram", "1")
    await store.save(key, {"step": 5})
    await store.mark_blocked(key)
    assert await store.load(key) is None


async def test_update_is_new_once_then_a_duplicate(store: ConversationStore) -> None:
    assert await store.seen_update("telegram", 5001) is True
    assert await store.seen_update("telegram", 5001) is False
    assert await store.seen_update("telegram", 5002) is True
    assert await store.seen_update("line", 5001) is True


async def test_seen_updates_are_forgotten_after_48_hours(
    store: ConversationStore, clock: FakeClock
) -> None:
    await store.seen_update("telegram", 7)
    clock.advance(hours=47)
    await store.expire()
    assert await store.seen_update("telegram", 7) is False
    clock.advance(hours=2)
    await store.expire()
    assert await store.seen_update("telegram", 7) is True


async def test_idle_conversations_expire_after_retention(
    store: ConversationStore, clock: FakeClock
) -> None:
    old, recent = store.pseudonym("telegram", "old"), store.pseudonym("telegram", "recent")
    await store.save(old, {"step": 1})
    clock.advance(days=20)
    await store.save(recent, {"step": 1})
    clock.advance(days=10)
    assert await store.expire() == 0  # exactly 30 days idle is not yet "longer than"
    clock.advance(minutes=1)
    assert await store.expire() == 1
    assert await store.load(old) is None
    assert await store.load(recent) == {"step": 1}


async def test_saving_keeps_a_conversation_alive(
    store: ConversationStore, clock: FakeClock
) -> None:
    key = store.pseudonym("telegram", "1")
    for _ in range(4):
        await store.save(key, {"step": 1})
        clock.advance(days=25)
        assert await store.expire() == 0
    assert await store.load(key) == {"step": 1}


async def test_periodic_expiry_erases_idle_conversations_until_cancelled(
    store: SqliteStore | MemoryStore, clock: FakeClock
) -> None:
    key = store.pseudonym("telegram", "1")
    await store.save(key, {"step": 1})
    clock.advance(days=31)
    task = asyncio.create_task(store.run_expiry(timedelta(milliseconds=5)))
    for _ in range(12_000):  # up to a minute: a hang guard, not a speed limit
        if await store.load(key) is None:
            break
        await asyncio.sleep(0.005)
    assert await store.load(key) is None
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_concurrent_steps_on_one_conversation_all_count(store: ConversationStore) -> None:
    key = store.pseudonym("telegram", "1")
    await store.save(key, {"step": 0})
    lock = asyncio.Lock()  # the engine holds one lock per conversation

    async def step() -> None:
        async with lock:
            record = await store.load(key)
            assert record is not None
            record["step"] += 1
            await store.save(key, record)

    await asyncio.gather(*(step() for _ in range(50)))
    assert await store.load(key) == {"step": 50}


async def test_hundred_conversations_saved_concurrently_all_load_back(
    store: ConversationStore,
) -> None:
    keys = [store.pseudonym("telegram", str(n)) for n in range(100)]
    await asyncio.gather(
        *(store.save(key, {"n": n, "text": "相談" * n}) for n, key in enumerate(keys)),
        *(store.seen_update("telegram", n) for n in range(100)),
    )
    loaded = await asyncio.gather(*(store.load(key) for key in keys))
    assert loaded == [{"n": n, "text": "相談" * n} for n in range(100)]


async def test_closed_store_refuses_use(store: ConversationStore) -> None:
    await store.close()
    with pytest.raises(StorageError, match="closed"):
        await store.load(store.pseudonym("telegram", "1"))
    await store.close()  # closing twice is harmless


# -- SQLite: what survives ---------------------------------------------------------


async def test_conversation_resumes_after_reopening(db_path: Path) -> None:
    store = await SqliteStore.open(db_path, secret=SECRET)
    key = store.pseudonym("telegram", "1")
    await store.save(key, {"flow": "threat", "step": 4})
    await store.close()

    reopened = await SqliteStore.open(db_path, secret=SECRET)
    try:
        assert await reopened.load(reopened.pseudonym("telegram", "1")) == {
            "flow": "threat",
            "step": 4,
        }
    finally:
        await reopened.close()


CRASHING_BOT = """
import asyncio, os, sys
from storage import SqliteStore

async def main():
    store = await SqliteStore.open(sys.argv[1], secret=bytes.fromhex(sys.argv[2]))
    await store.save(store.pseudonym("telegram", "42"), {"step": 7})
    os._exit(0)  # die at once: no close, no checkpoint, nothing but what save() committed

asyncio.run(main())
"""


async def test_record_saved_just_before_a_crash_still_loads(db_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CRASHING_BOT, str(db_path), SECRET.hex(), cwd=REPO, env=env
    )
    assert await asyncio.wait_for(process.wait(), timeout=60) == 0
    assert Path(f"{db_path}-wal").stat().st_size > 0  # the record is still only in the WAL

    store = await SqliteStore.open(db_path, secret=SECRET)
    try:
        assert await store.load(store.pseudonym("telegram", "42")) == {"step": 7}
    finally:
        await store.close()


async def test_open_creates_missing_directories_and_a_private_file(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "kakekomi.db"
    store = await SqliteStore.open(path, secret=SECRET)
    await store.close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


async def test_open_erases_conversations_that_went_idle_while_stopped(
    db_path: Path, clock: FakeClock
) -> None:
    store = await SqliteStore.open(db_path, secret=SECRET, clock=clock)
    await store.save(store.pseudonym("telegram", "1"), {"step": 1})
    await store.close()
    clock.advance(days=31)
    store = await SqliteStore.open(db_path, secret=SECRET, clock=clock)
    try:
        assert await store.load(store.pseudonym("telegram", "1")) is None
    finally:
        await store.close()


async def test_a_short_secret_is_refused(db_path: Path) -> None:
    with pytest.raises(ValueError, match="load_secret"):
        await SqliteStore.open(db_path, secret=b"password")


async def test_secret_never_reaches_the_logs(
    db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    store = await SqliteStore.open(db_path, secret=SECRET)
    key = store.pseudonym("telegram", "1")
    await store.save(key, {"step": 1})
    await store.delete(key)
    await store.close()
    assert SECRET.hex() not in caplog.text and repr(SECRET) not in caplog.text


# -- SQLite: schema migrations -----------------------------------------------------


def make_v1_database(path: Path, records: dict[str, dict[str, Any]]) -> None:
    """A database as the first release wrote it (schema 1), by hand, with its own DDL."""
    keyring = Keyring(SECRET)
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE meta (name TEXT PRIMARY KEY, value BLOB NOT NULL)")
    db.execute("CREATE TABLE sessions (user_key TEXT PRIMARY KEY, data BLOB NOT NULL)")
    db.execute("INSERT INTO meta VALUES ('key_check', ?)", (keyring.key_check,))
    for key, record in records.items():
        db.execute("INSERT INTO sessions VALUES (?, ?)", (key, keyring.seal(key, record, 1)))
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()


def describe(path: Path) -> tuple[int, set[str]]:
    db = sqlite3.connect(path)
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        db.close()
    return version, tables


async def test_v1_database_is_upgraded_and_keeps_its_conversations(
    db_path: Path, clock: FakeClock
) -> None:
    key = Keyring(SECRET).pseudonym("telegram", "555")
    make_v1_database(db_path, {key: {"flow": "leak", "step": 2, "answers": {"when": "昨日"}}})

    store = await SqliteStore.open(db_path, secret=SECRET, clock=clock)
    try:
        assert await store.load(key) == {"flow": "leak", "step": 2, "answers": {"when": "昨日"}}
        assert await store.seen_update("telegram", 1) is True
        await store.save(store.pseudonym("telegram", "556"), {"step": 1})
        assert describe(db_path) == (SCHEMA_VERSION, {"meta", "conversations", "seen_updates"})
        clock.advance(days=31)  # upgraded conversations count as active from the upgrade
        assert await store.expire() == 2
    finally:
        await store.close()


async def test_interrupted_upgrade_leaves_the_v1_database_as_it_was(db_path: Path) -> None:
    key = Keyring(SECRET).pseudonym("telegram", "555")
    make_v1_database(db_path, {key: {"step": 2}})
    pages = db_path.stat().st_size // 4096

    # No room for the new tables: the upgrade fails half way and must roll back.
    with pytest.raises(StorageUnavailable, match="full"):
        await SqliteStore.open(db_path, secret=SECRET, max_page_count=pages)
    assert describe(db_path) == (1, {"meta", "sessions"})

    store = await SqliteStore.open(db_path, secret=SECRET)
    try:
        assert await store.load(key) == {"step": 2}
    finally:
        await store.close()


async def test_database_from_a_newer_version_is_refused(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    db = sqlite3.connect(db_path)
    db.execute("PRAGMA user_version = 99")
    db.close()
    with pytest.raises(StorageError, match="newer kakekomi"):
        await SqliteStore.open(db_path, secret=SECRET)
    assert describe(db_path) == (99, set())


async def test_someone_elses_sqlite_database_is_refused(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    db = sqlite3.connect(db_path)
    db.execute("CREATE TABLE invoices (id INTEGER)")
    db.close()
    with pytest.raises(StorageError, match="not a kakekomi one"):
        await SqliteStore.open(db_path, secret=SECRET)
    assert describe(db_path) == (0, {"invoices"})


# -- the master secret -------------------------------------------------------------


def test_key_file_is_created_private_on_first_use_and_reused(tmp_path: Path) -> None:
    key_file = tmp_path / "state" / "secret.key"
    secret = load_secret(None, key_file)
    assert len(secret) >= 32
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
    assert load_secret(None, key_file) == secret
    assert list(key_file.parent.iterdir()) == [key_file]  # no temporary file left behind


def test_environment_secret_is_used_instead_of_the_key_file(tmp_path: Path) -> None:
    key_file = tmp_path / "secret.key"
    secret = load_secret("a long passphrase from the environment", key_file)
    assert len(secret) >= 32
    assert not key_file.exists()
    assert secret != load_secret(None, key_file)


def test_empty_environment_value_falls_back_to_the_key_file(tmp_path: Path) -> None:
    key_file = tmp_path / "secret.key"
    assert load_secret("  ", key_file) == load_secret(None, key_file)


def test_same_text_gives_same_secret_from_environment_or_key_file(tmp_path: Path) -> None:
    key_file = tmp_path / "secret.key"
    from_file = load_secret(None, key_file)
    assert load_secret(key_file.read_text(), tmp_path / "unused.key") == from_file


def test_empty_key_file_is_refused_not_replaced(tmp_path: Path) -> None:
    key_file = tmp_path / "secret.key"
    key_file.write_text("")
    with pytest.raises(StorageError, match="empty"):
        load_secret(None, key_file)
    assert key_file.read_text() == ""


async def test_saves_from_many_people_at_once_share_commits_and_all_persist(tmp_path) -> None:
    import asyncio

    from storage import SqliteStore

    path = tmp_path / "group.sqlite3"
    store = await SqliteStore.open(path, secret=b"s" * 32)
    keys = [store.pseudonym("t", str(n)) for n in range(200)]
    await asyncio.gather(*(store.save(k, {"step": n}) for n, k in enumerate(keys)))
    await store.close()
    again = await SqliteStore.open(path, secret=b"s" * 32)
    assert [(await again.load(k))["step"] for k in keys] == list(range(200))
    await again.close()


async def test_a_loaded_record_is_a_copy_the_caller_may_change(tmp_path) -> None:
    from storage import SqliteStore

    store = await SqliteStore.open(tmp_path / "c.sqlite3", secret=b"s" * 32)
    key = store.pseudonym("t", "1")
    await store.save(key, {"slots": {"a": [1]}})
    first = await store.load(key)
    first["slots"]["a"].append(2)
    assert (await store.load(key)) == {"slots": {"a": [1]}}
    await store.close()
