"""The Bot object: PTB's ExtBot, except that one unreadable update cannot stop polling.

PTB parses a whole getUpdates batch at once; if one update does not parse (a field of a
type it does not expect), the batch fails, the offset never moves past it, and the same
batch is fetched again at once, forever, with the payload logged each time (issue 15).
Here each update is checked on its own: one that does not parse is replaced by a bare
``{"update_id": N}`` (so the offset still moves past it and the rest of the batch is
handled) and counted; the log line names the exception type and the count, nothing else.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.ext import ExtBot

log = logging.getLogger("kakekomi.telegram")


class UpdateCounter:
    """How many updates were skipped because they could not be read."""

    def __init__(self) -> None:
        self.skipped = 0

    def skip(self, error: BaseException, where: str) -> None:
        self.skipped += 1
        log.warning(
            "skipped an update that could not be read (%s, %s); %d skipped since start",
            type(error).__name__,
            where,
            self.skipped,
        )


def readable_update(raw: object, bot: Any, counter: UpdateCounter, where: str) -> Update | None:
    """The update, or None (counted and logged by type only) when it cannot be read."""
    try:
        if not isinstance(raw, dict):
            raise TypeError("an update must be a JSON object")
        return Update.de_json(raw, bot)
    except Exception as exc:  # noqa: BLE001 - whatever PTB raises, the update is skipped
        counter.skip(exc, where)
        return None


class KakekomiBot(ExtBot):
    """ExtBot whose getUpdates survives updates PTB cannot parse (see the module doc)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._updates = UpdateCounter()

    @property
    def updates(self) -> UpdateCounter:
        return self._updates

    async def _post(self, endpoint: str, data: Any = None, **kwargs: Any) -> Any:
        result = await super()._post(endpoint, data, **kwargs)
        if endpoint == "getUpdates" and isinstance(result, list):
            result = [self._readable(raw) for raw in result]
            result = [raw for raw in result if raw is not None]
        return result

    def _readable(self, raw: object) -> object:
        if readable_update(raw, self, self._updates, "polling") is not None:
            return raw
        update_id = raw.get("update_id") if isinstance(raw, dict) else None
        if isinstance(update_id, int) and not isinstance(update_id, bool):
            return {"update_id": update_id}  # an empty update: moves the offset past it
        return None  # no id to move past: Telegram always sends one, so never seen
