"""MemoryStore: the same behaviour as SqliteStore, in memory, for tests and benchmarks."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from ._crypto import Keyring
from ._errors import StorageError
from ._expiry import (
    DEFAULT_RETENTION,
    SEEN_UPDATES_KEPT,
    Clock,
    run_expiry_loop,
    unix_seconds,
    utc_now,
)


class MemoryStore:
    """Conversation records in a dict; nothing survives the process.

    Records are kept as JSON text, so callers get copies and non-JSON data fails
    here just as it would with SqliteStore. Pseudonyms match SqliteStore's for the
    same secret.
    """

    def __init__(
        self,
        secret: bytes = b"test",
        retention: timedelta = DEFAULT_RETENTION,
        clock: Clock | None = None,
    ) -> None:
        self._keyring = Keyring(secret)
        self._retention = retention
        self._clock = clock or utc_now
        self._records: dict[str, tuple[str, int]] | None = {}
        self._seen: dict[str, int] = {}

    def pseudonym(self, channel: str, user_id: str) -> str:
        """Stable key for a user: HMAC-SHA256 of ``"channel:user_id"``, 32 hex characters."""
        return self._keyring.pseudonym(channel, user_id)

    async def load(self, key: str) -> dict[str, Any] | None:
        """A copy of the record saved under ``key``, or None."""
        stored = self._open_records().get(key)
        return None if stored is None else json.loads(stored[0])

    async def save(self, key: str, record: dict[str, Any]) -> None:
        """Store a copy of ``record``."""
        if not isinstance(record, dict):
            raise TypeError(f"a record must be a dict, not {type(record).__name__}")
        text = json.dumps(record, ensure_ascii=False)
        self._open_records()[key] = (text, self._now())

    async def delete(self, key: str) -> None:
        """Forget the conversation."""
        self._open_records().pop(key, None)

    async def mark_blocked(self, key: str) -> None:
        """The person blocked the bot: erase their data."""
        await self.delete(key)

    async def expire(self) -> int:
        """Forget conversations idle longer than the retention period; prune seen updates."""
        records, now = self._open_records(), self._now()
        cutoff = now - int(self._retention.total_seconds())
        idle = [key for key, (_, updated_at) in records.items() if updated_at < cutoff]
        for key in idle:
            del records[key]
        seen_cutoff = now - int(SEEN_UPDATES_KEPT.total_seconds())
        self._seen = {token: at for token, at in self._seen.items() if at >= seen_cutoff}
        return len(idle)

    async def seen_update(self, channel: str, update_id: int) -> bool:
        """True the first time an update is seen, False after."""
        self._open_records()
        token = self._keyring.update_token(channel, update_id)
        if token in self._seen:
            return False
        self._seen[token] = self._now()
        return True

    async def run_expiry(self, every: timedelta) -> None:
        """Call expire() every ``every`` until cancelled (start it as a task)."""
        await run_expiry_loop(self, every)

    async def close(self) -> None:
        """Drop everything; further calls fail."""
        self._records = None
        self._seen.clear()

    def _open_records(self) -> dict[str, tuple[str, int]]:
        if self._records is None:
            raise StorageError("the memory store is closed")
        return self._records

    def _now(self) -> int:
        return unix_seconds(self._clock())
