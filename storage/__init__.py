"""Conversation storage: the interface the engine uses and its SQLite and memory backends."""

from ._errors import (
    CorruptDatabaseError,
    DatabaseInUse,
    StorageError,
    StorageUnavailable,
    WrongKeyError,
)
from ._memory import MemoryStore
from ._protocol import ConversationStore
from ._schema import SCHEMA_VERSION
from ._secret import load_secret
from ._sqlite import SqliteStore

__all__ = [
    "SCHEMA_VERSION",
    "ConversationStore",
    "CorruptDatabaseError",
    "DatabaseInUse",
    "MemoryStore",
    "SqliteStore",
    "StorageError",
    "StorageUnavailable",
    "WrongKeyError",
    "load_secret",
]
