"""Storage under fault: erasure, wrong secret, damaged files, locks, read-only and full disks."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sqlite3
import stat
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage import (
    CorruptDatabaseError,
    DatabaseInUse,
    SqliteStore,
    StorageError,
    StorageUnavailable,
    WrongKeyError,
    load_secret,
)

SECRET = bytes(range(32))
REPO = Path(__file__).resolve().parents[2]


@contextlib.contextmanager
def another_process_holding_the_lock(db_path: Path) -> Iterator[None]:
    other = sqlite3.connect(db_path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()
OTHER_SECRET = bytes(range(1, 33))
ANSWER = "秘密の答え-XYZ123"
USER_ID = "987654321"


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "kakekomi.db"


@pytest.fixture
async def store(db_path: Path) -> AsyncIterator[SqliteStore]:
    opened = await SqliteStore.open(db_path, secret=SECRET, busy_timeout_ms=50)
    yield opened
    await opened.close()


def raw_bytes(path: Path) -> bytes:
    """Everything on disk for the database: the file, its WAL and its shared-memory index."""
    files = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
    return b"".join(file.read_bytes() for file in files if file.exists())


def stored_blob(path: Path, key: str) -> bytes:
    db = sqlite3.connect(path)
    try:
        row = db.execute("SELECT blob FROM conversations WHERE key = ?", (key,)).fetchone()
        return bytes(row[0])
    finally:
        db.close()


async def fill_neighbours(store: SqliteStore, count: int = 30) -> None:
    for n in range(count):
        await store.save(store.pseudonym("telegram", f"neighbour-{n}"), {"step": n})


# -- erasure -----------------------------------------------------------------------


async def test_erased_answer_leaves_no_trace_in_file_or_wal(
    store: SqliteStore, db_path: Path
) -> None:
    await fill_neighbours(store)
    key = store.pseudonym("telegram", USER_ID)
    await store.save(key, {"answers": {"what_happened": ANSWER}})
    first = stored_blob(db_path, key)
    # A long record spills onto overflow pages, which must be wiped too.
    await store.save(key, {"answers": {"what_happened": ANSWER}, "notes": ANSWER * 800})
    second = stored_blob(db_path, key)

    before = raw_bytes(db_path)
    assert ANSWER.encode() not in before  # records are encrypted from the start
    assert USER_ID.encode() not in before  # only the pseudonym is stored
    # Controls: the checks below can see these, so their absence later means something.
    assert key.encode() in before and second[100:164] in before

    traces = [ANSWER.encode(), USER_ID.encode(), key.encode(), first[13:45], second[100:164]]
    await store.delete(key)
    after_delete = raw_bytes(db_path)
    assert [trace for trace in traces if trace in after_delete] == []
    await store.close()
    after_close = raw_bytes(db_path)
    assert [trace for trace in traces if trace in after_close] == []

    reopened = await SqliteStore.open(db_path, secret=SECRET)
    try:
        assert await reopened.load(reopened.pseudonym("telegram", "neighbour-3")) == {"step": 3}
    finally:
        await reopened.close()


async def test_expired_conversation_leaves_no_trace_in_file_or_wal(
    db_path: Path,
) -> None:
    now = [datetime(2025, 4, 1, tzinfo=UTC)]
    store = await SqliteStore.open(db_path, secret=SECRET, clock=lambda: now[0])
    try:
        key = store.pseudonym("telegram", USER_ID)
        await store.save(key, {"answers": {"what_happened": ANSWER}})
        blob = stored_blob(db_path, key)
        now[0] += timedelta(days=31)
        await fill_neighbours(store)
        assert await store.expire() == 1
        on_disk = raw_bytes(db_path)
        assert key.encode() not in on_disk and blob[13:45] not in on_disk
    finally:
        await store.close()


# -- the wrong secret --------------------------------------------------------------


async def test_wrong_secret_is_refused_at_open_with_advice(db_path: Path) -> None:
    store = await SqliteStore.open(db_path, secret=SECRET)
    await store.save(store.pseudonym("telegram", "1"), {"step": 1})
    await store.close()
    before = db_path.read_bytes()

    with pytest.raises(WrongKeyError) as refused:
        await SqliteStore.open(db_path, secret=OTHER_SECRET)
    message = str(refused.value)
    assert str(db_path) in message
    assert "KAKEKOMI_SECRET" in message and "key file" in message and "move" in message
    assert db_path.read_bytes() == before

    store = await SqliteStore.open(db_path, secret=SECRET)  # the right secret still works
    try:
        assert await store.load(store.pseudonym("telegram", "1")) == {"step": 1}
    finally:
        await store.close()


async def test_wrong_secret_is_caught_by_the_records_when_the_key_check_is_missing(
    db_path: Path,
) -> None:
    store = await SqliteStore.open(db_path, secret=SECRET)
    await store.save(store.pseudonym("telegram", "1"), {"step": 1})
    await store.close()
    db = sqlite3.connect(db_path)
    db.execute("DELETE FROM meta")
    db.commit()
    db.close()
    with pytest.raises(WrongKeyError):
        await SqliteStore.open(db_path, secret=OTHER_SECRET)


async def test_record_moved_to_another_conversation_is_reported_as_damaged(
    store: SqliteStore, db_path: Path
) -> None:
    mine, theirs = store.pseudonym("telegram", "1"), store.pseudonym("telegram", "2")
    await store.save(mine, {"step": 1})
    await store.save(theirs, {"step": 2})
    db = sqlite3.connect(db_path)
    db.execute(
        "UPDATE conversations SET blob = (SELECT blob FROM conversations WHERE key = ?) "
        "WHERE key = ?",
        (theirs, mine),
    )
    db.commit()
    db.close()
    store._cache.clear()  # as after a restart: this process would keep using its own copy
    with pytest.raises(CorruptDatabaseError, match="cannot be decrypted"):
        await store.load(mine)
    assert await store.load(theirs) == {"step": 2}


# -- damaged files -----------------------------------------------------------------


async def test_garbage_file_is_reported_and_left_untouched(db_path: Path) -> None:
    store = await SqliteStore.open(db_path, secret=SECRET)
    await store.save(store.pseudonym("telegram", "1"), {"step": 1})
    await store.close()
    garbage = (b"this is not a database \x00\xff" * 10_000)[: db_path.stat().st_size]
    db_path.write_bytes(garbage)

    with pytest.raises(CorruptDatabaseError) as refused:
        await SqliteStore.open(db_path, secret=SECRET)
    assert str(db_path) in str(refused.value) and "left exactly as it is" in str(refused.value)
    assert db_path.read_bytes() == garbage


async def test_damaged_page_is_reported_and_left_untouched(db_path: Path) -> None:
    store = await SqliteStore.open(db_path, secret=SECRET)
    for n in range(300):
        await store.save(store.pseudonym("telegram", str(n)), {"notes": "メモ" * 60})
    await store.close()
    damaged = bytearray(db_path.read_bytes())
    assert len(damaged) > 12 * 4096
    damaged[10 * 4096 : 11 * 4096] = b"\xa5" * 4096
    db_path.write_bytes(bytes(damaged))

    with pytest.raises(CorruptDatabaseError, match="damaged"):
        await SqliteStore.open(db_path, secret=SECRET)
    assert db_path.read_bytes() == bytes(damaged)


# -- locked, read-only, full -------------------------------------------------------


async def test_locked_database_makes_save_unavailable_until_released(
    store: SqliteStore, db_path: Path
) -> None:
    key = store.pseudonym("telegram", "1")
    await store.save(key, {"step": 1})
    with another_process_holding_the_lock(db_path):
        with pytest.raises(StorageUnavailable, match="lock"):
            await store.save(key, {"step": 2})
        assert await store.load(key) == {"step": 1}  # WAL readers are not blocked
    await store.save(key, {"step": 2})
    assert await store.load(key) == {"step": 2}


async def test_an_update_whose_step_was_never_saved_is_new_again(
    store: SqliteStore, db_path: Path
) -> None:
    """The seen mark is committed with the step: a redelivery of a lost step is handled."""
    key = store.pseudonym("telegram", "1")
    await store.save(key, {"step": 1})
    with another_process_holding_the_lock(db_path):
        assert await store.seen_update("telegram", 41) is True
        with pytest.raises(StorageUnavailable):
            await store.save(key, {"step": 2})  # the step update 41 caused is lost
    assert await store.seen_update("telegram", 41) is True  # redelivered: handle it again
    await store.save(key, {"step": 2})
    assert await store.seen_update("telegram", 41) is False
    await store.close()
    reopened = await SqliteStore.open(db_path, secret=SECRET)
    try:
        assert await reopened.seen_update("telegram", 41) is False  # durable with the step
        assert await reopened.seen_update("telegram", 42) is True  # no step follows it
    finally:
        await reopened.close()  # still written, at close
    again = await SqliteStore.open(db_path, secret=SECRET)
    try:
        assert await again.seen_update("telegram", 42) is False
    finally:
        await again.close()


async def test_opening_a_locked_database_is_unavailable_not_corrupt(db_path: Path) -> None:
    store = await SqliteStore.open(db_path, secret=SECRET)
    await store.close()
    with another_process_holding_the_lock(db_path):
        with pytest.raises(StorageUnavailable):
            await SqliteStore.open(db_path, secret=SECRET, busy_timeout_ms=50)


async def test_read_only_database_makes_save_unavailable(store: SqliteStore) -> None:
    """Read-only is simulated with PRAGMA query_only on the store's own connection.

    chmod 0o444 is no test: root ignores it, and a running bot has the file open
    already. query_only makes SQLite refuse writes with SQLITE_READONLY, the same
    error a read-only file or mount gives, so the same translation is exercised.
    """
    key = store.pseudonym("telegram", "1")
    await store.save(key, {"step": 1})
    await store._conn.execute("PRAGMA query_only = ON")  # test hook, see docstring
    with pytest.raises(StorageUnavailable, match="read-only"):
        await store.save(key, {"step": 2})
    with pytest.raises(StorageUnavailable, match="read-only"):
        await store.delete(key)
    assert await store.load(key) == {"step": 1}
    await store._conn.execute("PRAGMA query_only = OFF")
    await store.save(key, {"step": 2})
    assert await store.load(key) == {"step": 2}


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to 0o444 files; see the test above")
async def test_read_only_file_cannot_be_opened(db_path: Path) -> None:
    store = await SqliteStore.open(db_path, secret=SECRET)
    await store.close()
    db_path.chmod(0o444)
    try:
        with pytest.raises(StorageUnavailable):
            await SqliteStore.open(db_path, secret=SECRET)
    finally:
        db_path.chmod(0o600)


async def test_full_disk_keeps_the_previous_record(db_path: Path) -> None:
    store = await SqliteStore.open(db_path, secret=SECRET, max_page_count=40)
    try:
        key = store.pseudonym("telegram", "1")
        await store.save(key, {"step": 1, "notes": "短い"})
        with pytest.raises(StorageUnavailable, match="full"):
            await store.save(key, {"step": 2, "notes": "長い" * 200_000})
        assert await store.load(key) == {"step": 1, "notes": "短い"}
        await store.save(key, {"step": 2})  # small writes still fit
        assert await store.load(key) == {"step": 2}
    finally:
        await store.close()


async def test_directory_that_cannot_be_created_is_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    with pytest.raises(StorageUnavailable, match="cannot create"):
        await SqliteStore.open(blocker / "kakekomi.db", secret=SECRET)


# -- one process per database file ------------------------------------------------------------

HOLDER = """
import asyncio, sys
from storage import SqliteStore

async def main():
    store = await SqliteStore.open(sys.argv[1], secret=bytes(range(32)))
    await store.save(store.pseudonym("telegram", "42"), {"step": 1})
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)  # hold the store until told to stop
    await store.close()

asyncio.run(main())
"""


@contextlib.contextmanager
def another_kakekomi_holding(db_path: Path) -> Iterator[subprocess.Popen[str]]:
    """A second process with the database open through SqliteStore (not just an SQLite lock)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen([sys.executable, "-c", HOLDER, str(db_path)], cwd=REPO, env=env,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "ready"
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=60)  # hang guard only


async def test_a_second_process_cannot_open_the_database_and_is_told_who_holds_it(db_path):
    with another_kakekomi_holding(db_path) as holder:
        with pytest.raises(DatabaseInUse) as caught:
            await SqliteStore.open(db_path, secret=SECRET)
        message = str(caught.value)
        assert str(db_path) in message and f"process {holder.pid}" in message
        assert "\n" not in message
        lock_file = Path(f"{db_path}.lock")
        assert lock_file.read_text().strip() == str(holder.pid)
        assert stat.S_IMODE(lock_file.stat().st_mode) == 0o600
        assert holder.stdin is not None
        holder.stdin.write("stop\n")
        holder.stdin.flush()
        assert holder.wait(timeout=60) == 0
    store = await SqliteStore.open(db_path, secret=SECRET)  # released on close
    try:
        assert await store.load(store.pseudonym("telegram", "42")) == {"step": 1}
    finally:
        await store.close()


async def test_a_killed_holder_does_not_block_the_next_start(db_path):
    with another_kakekomi_holding(db_path) as holder:
        holder.send_signal(signal.SIGKILL)  # no close, no cleanup: the OS drops the lock
        holder.wait(timeout=60)
        store = await SqliteStore.open(db_path, secret=SECRET)
        try:
            assert await store.load(store.pseudonym("telegram", "42")) == {"step": 1}
            assert Path(f"{db_path}.lock").read_text().strip() == str(os.getpid())
        finally:
            await store.close()


async def test_a_second_store_in_the_same_process_is_refused_too(store, db_path):
    with pytest.raises(DatabaseInUse, match=f"process {os.getpid()}"):
        await SqliteStore.open(db_path, secret=SECRET)
    key = store.pseudonym("telegram", "1")
    await store.save(key, {"step": 1})  # the first store is unharmed
    assert await store.load(key) == {"step": 1}


async def test_erased_conversation_cannot_come_back_from_a_second_process(db_path):
    """Issue 15's scenario: a second bot on the same file would keep the erased record in
    its cache and save it again. It cannot start, so the erasure holds."""
    with another_kakekomi_holding(db_path) as holder:
        with pytest.raises(DatabaseInUse):
            await SqliteStore.open(db_path, secret=SECRET)
        assert holder.stdin is not None
        holder.stdin.write("stop\n")
        holder.stdin.flush()
        holder.wait(timeout=60)
    first = await SqliteStore.open(db_path, secret=SECRET)
    key = first.pseudonym("telegram", "42")
    assert await first.load(key) == {"step": 1}  # now cached in this process
    await first.delete(key)
    with pytest.raises(DatabaseInUse):
        await SqliteStore.open(db_path, secret=SECRET)
    await first.close()
    again = await SqliteStore.open(db_path, secret=SECRET)
    try:
        assert await again.load(key) is None
    finally:
        await again.close()


async def test_a_failed_open_lets_go_of_the_lock(db_path):
    store = await SqliteStore.open(db_path, secret=SECRET)
    await store.close()
    with pytest.raises(WrongKeyError):
        await SqliteStore.open(db_path, secret=OTHER_SECRET)
    store = await SqliteStore.open(db_path, secret=SECRET)  # not "in use" by the failed open
    await store.close()


# -- the files themselves -----------------------------------------------------------------


async def test_every_folder_made_for_the_database_is_private(tmp_path):
    path = tmp_path / "a" / "b" / "c" / "kakekomi.db"
    store = await SqliteStore.open(path, secret=SECRET)
    await store.close()
    for folder in (tmp_path / "a", tmp_path / "a" / "b", tmp_path / "a" / "b" / "c"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder


async def test_a_database_open_to_other_users_is_made_private_with_a_warning(db_path, caplog):
    store = await SqliteStore.open(db_path, secret=SECRET)
    await store.save(store.pseudonym("telegram", "1"), {"step": 1})
    await store.close()
    db_path.chmod(0o644)
    caplog.set_level(logging.WARNING)
    store = await SqliteStore.open(db_path, secret=SECRET)
    await store.close()
    assert stat.S_IMODE(db_path.stat().st_mode) == 0o600
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and str(db_path) in warnings[0] and "made it private" in warnings[0]
    assert "\n" not in warnings[0]


async def test_a_new_database_is_never_an_empty_file(db_path):
    store = await SqliteStore.open(db_path, secret=SECRET)
    try:
        assert db_path.stat().st_size > 0
        assert sorted(p.name for p in db_path.parent.iterdir()
                      if not p.name.startswith(db_path.name)) == []  # no temporary left
    finally:
        await store.close()


async def test_an_empty_database_file_is_refused_not_taken_as_new(db_path):
    db_path.write_bytes(b"")
    with pytest.raises(CorruptDatabaseError) as caught:
        await SqliteStore.open(db_path, secret=SECRET)
    assert str(db_path) in str(caught.value) and "empty (0 bytes)" in str(caught.value)
    assert db_path.read_bytes() == b""  # left as it is
    assert not Path(f"{db_path}-wal").exists()


def test_a_lost_key_file_next_to_a_database_is_refused_not_replaced(db_path):
    key_file = db_path.parent / "secret.key"

    async def fill() -> None:
        store = await SqliteStore.open(db_path, secret=load_secret(None, key_file, db_path))
        await store.save(store.pseudonym("telegram", "1"), {"step": 1})
        await store.close()

    asyncio.run(fill())
    key_file.unlink()
    with pytest.raises(StorageError) as caught:
        load_secret(None, key_file, db_path)
    message = str(caught.value)
    assert f"database {db_path} exists but its key file {key_file} is missing" in message
    assert "restore" in message
    assert not key_file.exists()  # no new key made


def test_a_key_file_is_still_made_for_a_new_database(db_path):
    key_file = db_path.parent / "secret.key"
    assert len(load_secret(None, key_file, db_path)) == 32
    assert key_file.exists()


def test_a_key_file_open_to_other_users_is_made_private(tmp_path, caplog):
    key_file = tmp_path / "secret.key"
    load_secret(None, key_file)
    key_file.chmod(0o644)
    caplog.set_level(logging.WARNING)
    load_secret(None, key_file)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert any("key file" in r.getMessage() and "made it private" in r.getMessage()
               for r in caplog.records)
