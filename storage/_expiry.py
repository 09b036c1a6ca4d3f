"""Time for retention: the injectable clock and the periodic expiry loop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from ._errors import StorageError

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

DEFAULT_RETENTION = timedelta(days=30)
# Telegram re-delivers an unconfirmed update for at most 24 hours; keep twice that.
SEEN_UPDATES_KEPT = timedelta(hours=48)


def utc_now() -> datetime:
    """The default clock."""
    return datetime.now(UTC)


def unix_seconds(moment: datetime) -> int:
    """Whole unix seconds: what the database keeps as a timestamp."""
    return int(moment.timestamp())


class _Expiring(Protocol):
    async def expire(self) -> int: ...


async def run_expiry_loop(store: _Expiring, every: timedelta) -> None:
    """Call ``store.expire()`` every ``every`` until cancelled; failures are logged, not fatal."""
    if every <= timedelta(0):
        raise ValueError("the expiry interval must be positive")
    while True:
        await asyncio.sleep(every.total_seconds())
        try:
            erased = await store.expire()
        except StorageError as exc:
            log.warning("expiry failed, will retry: %s: %s", type(exc).__name__, exc)
        else:
            if erased:
                log.info("erased %d idle conversations", erased)
