"""Database layout and its migrations; ``PRAGMA user_version`` says which layout a file has.

``MIGRATIONS[n]`` upgrades a file from version n to n + 1. A new file runs them all,
so every migration is exercised on every fresh database. To change the layout,
append a function: never edit one that has shipped.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import aiosqlite

Migration = Callable[[aiosqlite.Connection, int], Awaitable[None]]


async def _create_v1(db: aiosqlite.Connection, now: int) -> None:
    """Version 1 (first release): records in ``sessions``, no timestamps, no update log."""
    await db.execute("CREATE TABLE meta (name TEXT PRIMARY KEY, value BLOB NOT NULL)")
    await db.execute("CREATE TABLE sessions (user_key TEXT PRIMARY KEY, data BLOB NOT NULL)")


async def _v1_to_v2(db: aiosqlite.Connection, now: int) -> None:
    """Version 2: ``conversations`` with ``updated_at`` (so idle ones expire), ``seen_updates``.

    Old conversations count as active at upgrade time, so none vanishes at once.
    Sealed records are copied as they are: their version byte still authenticates.
    """
    await db.execute(
        "CREATE TABLE conversations ("
        " key TEXT PRIMARY KEY, blob BLOB NOT NULL, updated_at INTEGER NOT NULL)"
    )
    await db.execute(
        "INSERT INTO conversations (key, blob, updated_at) SELECT user_key, data, ? FROM sessions",
        (now,),
    )
    await db.execute("DROP TABLE sessions")
    await db.execute("CREATE INDEX conversations_updated_at ON conversations (updated_at)")
    await db.execute(
        "CREATE TABLE seen_updates (token TEXT PRIMARY KEY, seen_at INTEGER NOT NULL) WITHOUT ROWID"
    )
    await db.execute("CREATE INDEX seen_updates_seen_at ON seen_updates (seen_at)")


MIGRATIONS: list[Migration] = [_create_v1, _v1_to_v2]
SCHEMA_VERSION = len(MIGRATIONS)


async def migrate(db: aiosqlite.Connection, found: int, now: int) -> None:
    """Bring a file from version ``found`` to ``SCHEMA_VERSION``; the caller holds a transaction."""
    for migration in MIGRATIONS[found:]:
        await migration(db, now)
    await db.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")
