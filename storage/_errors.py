"""Storage errors, by meaning: callers catch what they can act on."""

from __future__ import annotations


class StorageError(Exception):
    """Base class for every storage failure."""


class StorageUnavailable(StorageError):
    """The database cannot be written right now (locked, read-only, full).

    The last committed state is intact: apologise to the person and try later.
    """


class DatabaseInUse(StorageError):
    """Another kakekomi process (or another store in this one) holds the database.

    One process per SQLite file: each keeps its own record cache, so a second one could
    bring back a conversation the first erased. The message names the holder's PID.
    """


class WrongKeyError(StorageError):
    """The database was written with a different master secret."""


class CorruptDatabaseError(StorageError):
    """The database file is damaged or not a database; it is never replaced or deleted."""
