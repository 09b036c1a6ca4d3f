"""The storage interface the engine depends on."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class ConversationStore(Protocol):
    """Where conversation records live, keyed by a pseudonym, never by a raw user id."""

    def pseudonym(self, channel: str, user_id: str) -> str:
        """Stable key for a user: HMAC-SHA256 of ``"channel:user_id"``, 32 hex characters."""
        ...

    async def load(self, key: str) -> dict[str, Any] | None:
        """The record saved under ``key``, or None."""
        ...

    async def save(self, key: str, record: dict[str, Any]) -> None:
        """Store ``record`` under ``key``; committed when this returns."""
        ...

    async def delete(self, key: str) -> None:
        """Erase everything stored for ``key``, leaving no readable trace."""
        ...

    async def expire(self) -> int:
        """Erase conversations idle longer than the retention period; return how many."""
        ...

    async def seen_update(self, channel: str, update_id: int) -> bool:
        """True the first time an update is seen (and remember it), False for duplicates.

        A durable store may write the mark with its next commit (normally the step the
        update causes): if that commit never happens, the update counts as new again.
        """
        ...

    async def mark_blocked(self, key: str) -> None:
        """The person blocked the bot: erase their data."""
        ...

    async def close(self) -> None:
        """Release the store; further calls fail."""
        ...
