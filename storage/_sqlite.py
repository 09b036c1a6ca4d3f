"""SqliteStore: conversation records sealed with AES-GCM in one SQLite file."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiosqlite

from ._crypto import Keyring, decode, encode
from ._errors import CorruptDatabaseError, StorageError, StorageUnavailable, WrongKeyError
from ._expiry import (
    DEFAULT_RETENTION,
    SEEN_UPDATES_KEPT,
    Clock,
    run_expiry_loop,
    unix_seconds,
    utc_now,
)
from ._files import FileLock, make_private_dirs, prepare_database
from ._schema import SCHEMA_VERSION, migrate

CACHE_SIZE = 4096
SEEN_REMEMBERED = 20_000  # update tokens also kept in memory (the file has them all)
_UPSERT = (
    "INSERT INTO conversations (key, blob, updated_at) VALUES (?, ?, ?) ON CONFLICT (key)"
    " DO UPDATE SET blob = excluded.blob, updated_at = excluded.updated_at"
)
_INSERT_SEEN = "INSERT OR IGNORE INTO seen_updates (token, seen_at) VALUES (?, ?)"

log = logging.getLogger(__name__)

MIN_SECRET_BYTES = 32

# Primary SQLite result codes (https://www.sqlite.org/rescode.html).
_UNAVAILABLE = {
    3: "permission denied",
    5: "another process holds the database lock",
    6: "the database is locked",
    8: "the database is read-only; check the permissions of the file and its directory, "
    "and that the disk is not mounted read-only",
    10: "a disk I/O error occurred",
    13: "the disk is full (or the max_page_count limit is reached); free some space",
    14: "the file cannot be opened; check that its directory exists and is writable",
}
_CORRUPT = {11, 26}  # SQLITE_CORRUPT, SQLITE_NOTADB


class SqliteStore:
    """Conversation records in one SQLite file, each sealed with AES-GCM. Use ``open()``.

    Keys are pseudonyms, records are ciphertext: the file holds no raw id and no answer.
    Every write is a single statement, so one shared connection is safe under concurrency.
    """

    def __init__(
        self,
        db: aiosqlite.Connection,
        path: Path,
        keyring: Keyring,
        retention: timedelta,
        clock: Clock,
    ) -> None:
        self._db: aiosqlite.Connection | None = db
        self._path = path
        self._keyring = keyring
        self._retention = retention
        self._clock = clock
        # Group commit: saves that arrive while a commit is running share the next one,
        # so many people cost one fsync, not one each. Every save still returns only
        # after its own row is durable.
        self._pending: list[tuple[str, bytes, int, bytes, asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._write_lock = asyncio.Lock()
        # Records this process saved or read, newest last: a step then costs no read.
        # (One process owns the file; a multi-process deployment needs a shared store.)
        self._cache: OrderedDict[str, bytes] = OrderedDict()  # key → encoded record
        self.cache_size = CACHE_SIZE
        # Seen update tokens ride with the next group commit, usually the one that
        # saves the step the update caused: if that never becomes durable, neither does
        # the mark, and a redelivered update is handled again rather than dropped.
        self._seen: OrderedDict[str, int] = OrderedDict()  # token → seen_at, oldest first
        self._seen_pending: list[tuple[str, int]] = []
        self._lock: FileLock | None = None  # one process per file (see _files.FileLock)

    @classmethod
    async def open(
        cls,
        path: str | Path,
        *,
        secret: bytes,
        retention: timedelta = DEFAULT_RETENTION,
        clock: Clock | None = None,
        busy_timeout_ms: int = 5000,
        max_page_count: int | None = None,
    ) -> SqliteStore:
        """Open (creating, checking and upgrading as needed) the database at ``path``.

        Raises CorruptDatabaseError, WrongKeyError or StorageUnavailable; runs expire() once.
        """
        if len(secret) < MIN_SECRET_BYTES:
            raise ValueError(
                f"the secret must be at least {MIN_SECRET_BYTES} bytes; use storage.load_secret()"
            )
        path = Path(path)
        lock = await asyncio.to_thread(_hold, path)
        try:
            with _translated(path):
                db = await aiosqlite.connect(path, isolation_level=None)
        except BaseException:
            lock.release()
            raise
        store = cls(db, path, Keyring(secret), retention, clock or utc_now)
        store._lock = lock
        try:
            await store._setup(busy_timeout_ms, max_page_count)
            await store.expire()
        except BaseException:
            with contextlib.suppress(Exception):
                await db.close()
            lock.release()
            raise
        return store

    def pseudonym(self, channel: str, user_id: str) -> str:
        """Stable key for a user: HMAC-SHA256 of ``"channel:user_id"``, 32 hex characters."""
        return self._keyring.pseudonym(channel, user_id)

    async def load(self, key: str) -> dict[str, Any] | None:
        """The record saved under ``key``, decrypted, or None."""
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return decode(cached)  # a fresh copy the caller may change
        rows = await self._fetch("SELECT blob FROM conversations WHERE key = ?", (key,))
        if not rows:
            return None
        try:
            plaintext = self._keyring.unseal_plaintext(key, rows[0][0])
            record = decode(plaintext)
            self._remember(key, plaintext)
            return record
        except ValueError as exc:
            # The key check passed at open, so the secret is right: the row is damaged.
            raise CorruptDatabaseError(
                f"one conversation record in {self._path} cannot be decrypted: it is damaged "
                "or was altered. Deleting that conversation lets the person start again."
            ) from exc

    async def save(self, key: str, record: dict[str, Any]) -> None:
        """Seal and store ``record``; committed (fsynced) when this returns."""
        plaintext = encode(record)
        blob = self._keyring.seal_plaintext(key, plaintext, SCHEMA_VERSION)
        _ = self._conn  # raises StorageError once closed
        self._cache.pop(key, None)  # until the commit succeeds, the file is the truth
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((key, blob, unix_seconds(self._clock()), plaintext, done))
        self._kick()
        await done

    def _kick(self) -> asyncio.Task[None]:
        """The running flusher, or a new one: it writes until nothing is pending."""
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return self._flusher

    async def _flush(self) -> None:
        while self._pending or self._seen_pending:
            batch, self._pending = self._pending, []
            seen, self._seen_pending = self._seen_pending, []
            rows = [(key, blob, at) for key, blob, at, _, _ in batch]
            try:
                async with self._write_lock, self._transaction():
                    with _translated(self._path):
                        if rows:
                            await self._conn.executemany(_UPSERT, rows)
                        if seen:
                            await self._conn.executemany(_INSERT_SEEN, seen)
            except BaseException as exc:  # noqa: BLE001 - every waiter must hear about it
                error = exc if isinstance(exc, StorageError) else StorageError(
                    f"saving to {self._path} failed: {type(exc).__name__}")
                for *_, done in batch:
                    if not done.done():
                        done.set_exception(error)
                for token, _ in seen:  # not marked: a redelivery is handled again
                    self._seen.pop(token, None)
                if not isinstance(exc, Exception):
                    raise
            else:
                for key, _, _, plaintext, done in batch:
                    self._remember(key, plaintext)
                    if not done.done():
                        done.set_result(None)

    def _remember(self, key: str, plaintext: bytes) -> None:
        self._cache[key] = plaintext
        self._cache.move_to_end(key)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)

    async def delete(self, key: str) -> None:
        """Erase the conversation; secure_delete zeroes it and a checkpoint empties the WAL."""
        self._cache.pop(key, None)
        async with self._write_lock:
            await self._run("DELETE FROM conversations WHERE key = ?", (key,))
            await self._empty_wal()

    async def mark_blocked(self, key: str) -> None:
        """The person blocked the bot: erase their data."""
        await self.delete(key)

    async def expire(self) -> int:
        """Erase conversations idle longer than the retention period; prune seen updates."""
        if self._seen_pending:
            await self._kick()
        now = unix_seconds(self._clock())
        seen_cutoff = now - int(SEEN_UPDATES_KEPT.total_seconds())
        while self._seen and next(iter(self._seen.values())) < seen_cutoff:
            self._seen.popitem(last=False)
        async with self._write_lock:
            self._cache.clear()
            erased = await self._run(
                "DELETE FROM conversations WHERE updated_at < ?",
                (now - int(self._retention.total_seconds()),),
            )
            await self._run("DELETE FROM seen_updates WHERE seen_at < ?", (seen_cutoff,))
            if erased:
                await self._empty_wal()
        return erased

    async def seen_update(self, channel: str, update_id: int) -> bool:
        """True the first time an update is seen (stored as an HMAC token), False after."""
        token = self._keyring.update_token(channel, update_id)
        if token in self._seen:
            return False
        now = unix_seconds(self._clock())
        self._seen[token] = now  # claimed before any await: a concurrent duplicate sees it
        while len(self._seen) > SEEN_REMEMBERED:
            self._seen.popitem(last=False)
        try:
            found = await self._fetch("SELECT 1 FROM seen_updates WHERE token = ?", (token,))
        except BaseException:
            self._seen.pop(token, None)
            raise
        if found:
            return False
        self._seen_pending.append((token, now))
        return True

    async def run_expiry(self, every: timedelta) -> None:
        """Call expire() every ``every`` until cancelled (start it as a task)."""
        await run_expiry_loop(self, every)

    async def close(self) -> None:
        """Close the connection; SQLite checkpoints and removes the WAL file."""
        if self._db is not None and (self._pending or self._seen_pending
                                     or (self._flusher is not None and not self._flusher.done())):
            with contextlib.suppress(Exception):
                await self._kick()  # saves already promised, and seen marks, are written first
        db, self._db = self._db, None
        try:
            if db is not None:
                with _translated(self._path):
                    await db.close()
        finally:
            lock, self._lock = self._lock, None
            if lock is not None:
                lock.release()

    # -- internals -------------------------------------------------------------

    @property
    def _conn(self) -> aiosqlite.Connection:
        if self._db is None:
            raise StorageError(f"the store for {self._path} is closed")
        return self._db

    async def _run(self, sql: str, parameters: tuple[Any, ...] = ()) -> int:
        """One statement, committed on its own; returns the number of rows changed."""
        with _translated(self._path):
            async with self._conn.execute(sql, parameters) as cursor:
                return cursor.rowcount

    async def _fetch(self, sql: str, parameters: tuple[Any, ...] = ()) -> list[Any]:
        # Reading every row finishes the statement, so no read snapshot stays open
        # (an open one would stop the checkpoint that empties the WAL).
        with _translated(self._path):
            return list(await self._conn.execute_fetchall(sql, parameters))

    async def _empty_wal(self) -> None:
        """Copy the WAL into the file and truncate it, so erased pages are not left there."""
        busy, _, _ = (await self._fetch("PRAGMA wal_checkpoint(TRUNCATE)"))[0]
        if busy:
            log.warning(
                "erased data may stay in %s-wal until the next checkpoint: "
                "another connection is reading the database",
                self._path,
            )

    async def _setup(self, busy_timeout_ms: int, max_page_count: int | None) -> None:
        await self._run(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        # Check before anything writes, so a damaged file is reported, never rewritten.
        problems = [row[0] for row in await self._fetch("PRAGMA quick_check")]
        if problems != ["ok"]:
            raise CorruptDatabaseError(_corrupt_message(self._path, "; ".join(problems[:3])))
        (mode,) = (await self._fetch("PRAGMA journal_mode = WAL"))[0]
        if mode != "wal":
            log.warning("%s cannot use WAL (journal mode %s); continuing", self._path, mode)
        await self._run("PRAGMA synchronous = FULL")
        await self._run("PRAGMA secure_delete = ON")
        await self._run("PRAGMA foreign_keys = ON")
        if max_page_count is not None:
            await self._run(f"PRAGMA max_page_count = {int(max_page_count)}")
        async with self._transaction():
            await self._upgrade()
            await self._check_key()

    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[None]:
        await self._run("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if self._conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    await self._conn.execute("ROLLBACK")
            raise
        await self._run("COMMIT")

    async def _upgrade(self) -> None:
        ((found,),) = await self._fetch("PRAGMA user_version")
        if found > SCHEMA_VERSION:
            raise StorageError(
                f"{self._path} has schema version {found}, but this kakekomi reads up to "
                f"{SCHEMA_VERSION}. Run a newer kakekomi, or restore a backup made by this one."
            )
        if found == 0 and (await self._fetch("SELECT count(*) FROM sqlite_master"))[0][0]:
            raise StorageError(
                f"{self._path} is an SQLite database but not a kakekomi one (it has tables "
                "and no schema version). It was left as it is; choose another file."
            )
        if found < SCHEMA_VERSION:
            log.info("upgrading %s from schema %d to %d", self._path, found, SCHEMA_VERSION)
            with _translated(self._path):
                await migrate(self._conn, found, unix_seconds(self._clock()))

    async def _check_key(self) -> None:
        """Fail at open, not at the first load, when the secret is not the one that wrote."""
        rows = await self._fetch("SELECT value FROM meta WHERE name = 'key_check'")
        if rows:
            if not self._keyring.matches(rows[0][0]):
                raise WrongKeyError(_wrong_key_message(self._path))
            return
        sample = await self._fetch("SELECT key, blob FROM conversations LIMIT 1")
        if sample:
            try:
                self._keyring.unseal(*sample[0])
            except ValueError:
                raise WrongKeyError(_wrong_key_message(self._path)) from None
        await self._run(
            "INSERT INTO meta (name, value) VALUES ('key_check', ?)", (self._keyring.key_check,)
        )


def _hold(path: Path) -> FileLock:
    """Create missing folders (0o700), take the file's lock, then check or create the file.

    SQLite gives the -wal and -shm files the permissions of the database file (0o600).
    """
    make_private_dirs(path.parent)
    lock = FileLock.hold(path)
    try:
        prepare_database(path)
    except BaseException:
        lock.release()
        raise
    return lock


@contextlib.contextmanager
def _translated(path: Path) -> Iterator[None]:
    """Turn sqlite3 errors into storage errors that say what to do."""
    try:
        yield
    except sqlite3.Error as exc:
        raise _translate(exc, path) from exc


def _translate(exc: sqlite3.Error, path: Path) -> StorageError:
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    text = str(exc)
    if primary in _CORRUPT or "not a database" in text or "malformed" in text:
        return CorruptDatabaseError(_corrupt_message(path, text))
    reason = _UNAVAILABLE.get(primary) if primary is not None else None
    if reason is None and ("locked" in text or "readonly" in text or "full" in text):
        reason = text
    if reason is not None:
        return StorageUnavailable(
            f"cannot use the database {path} right now: {reason} (SQLite: {text}). "
            "The last saved state is kept."
        )
    return StorageError(f"database error in {path}: {text}")


def _corrupt_message(path: Path, detail: str) -> str:
    return (
        f"{path} is damaged or is not a kakekomi database ({detail}). The file was left "
        "exactly as it is. Stop the bot and keep a copy of the file; then restore a backup, "
        "or move the file aside to start with an empty database."
    )


def _wrong_key_message(path: Path) -> str:
    return (
        f"{path} was written with a different secret: KAKEKOMI_SECRET or the key file "
        "differs from the one in use when this database was written. Restore the original "
        "secret (the same KAKEKOMI_SECRET value, or the original key file) and start again. "
        f"To start over without the old conversations instead, move {path} aside: "
        "they cannot be read without the original secret."
    )
