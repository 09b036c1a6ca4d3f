"""Rate limits with bounded memory: one token bucket per key, least recently used dropped."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable


class RateLimiter:
    """``allow(key)``: True while the key's bucket has a turn left.

    A bucket holds ``burst`` turns and refills ``rate`` turns a second. At most
    ``max_keys`` buckets are kept; the least recently used goes first (it has been
    quiet longest, so its bucket was nearly full anyway).
    """

    def __init__(
        self,
        rate: float = 1.0,
        burst: int = 10,
        max_keys: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
        queue: int = 0,
    ):
        self.rate = rate
        self.burst = float(burst)
        self.max_keys = max_keys
        self.clock = clock
        self.queue = queue  # turns past the bucket that wait their turn instead of a refusal
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key → (turns, at)

    def wait(self, key: str) -> float | None:
        """Take a turn: seconds to wait before it (0.0 at once), or None when refused.

        With ``queue`` > 0 a quick clicker is slowed down rather than refused: up to
        ``queue`` turns past an empty bucket wait for the refill; only more are refused.
        """
        now = self.clock()
        turns, at = self._buckets.pop(key, (self.burst, now))
        turns = min(self.burst, turns + (now - at) * self.rate)
        if turns - 1.0 < -self.queue:
            self._buckets[key] = (turns, now)
            delay = None
        else:
            turns -= 1.0
            self._buckets[key] = (turns, now)
            delay = 0.0 if turns >= 0 else -turns / self.rate
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return delay

    def allow(self, key: str) -> bool:
        """Take a turn if one is left now or can wait in the queue."""
        return self.wait(key) is not None

    def __len__(self) -> int:
        return len(self._buckets)
