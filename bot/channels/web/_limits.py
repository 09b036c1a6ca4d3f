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
    ):
        self.rate = rate
        self.burst = float(burst)
        self.max_keys = max_keys
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key → (turns, at)

    def allow(self, key: str) -> bool:
        now = self.clock()
        turns, at = self._buckets.pop(key, (self.burst, now))
        turns = min(self.burst, turns + (now - at) * self.rate)
        allowed = turns >= 1.0
        if allowed:
            turns -= 1.0
        self._buckets[key] = (turns, now)
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return allowed

    def __len__(self) -> int:
        return len(self._buckets)
