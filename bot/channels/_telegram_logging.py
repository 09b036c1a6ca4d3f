"""Logging that never carries a bot token, a message text or a raw Telegram id.

httpx logs every request URL at INFO, and the URL holds the token; PTB logs whole
updates at DEBUG (reference §2.10). So those loggers stay at WARNING, a filter on the
root handlers redacts anything shaped like a token, and the error handler logs only
the exception type, the update id and a pseudonym prefix.
"""

from __future__ import annotations

import logging
import re
import traceback

from telegram import Update
from telegram.ext import ContextTypes

from storage import ConversationStore

log = logging.getLogger("kakekomi.telegram")

NOISY_LOGGERS = ("httpx", "httpcore", "telegram", "telegram.ext")
_TOKEN_SHAPES = (
    re.compile(r"bot\d+(?::|%3A)[A-Za-z0-9_-]+"),
    re.compile(r"\d{5,}(?::|%3A)[A-Za-z0-9_-]{20,}"),
)
REDACTED = "[REDACTED]"


def redact(text: str) -> str:
    for shape in _TOKEN_SHAPES:
        text = shape.sub(REDACTED, text)
    return text


class RedactTokens(logging.Filter):
    """Rewrites a record whose message or traceback contains something token-shaped."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to the handler
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def configure_logging() -> None:
    """Quiet the chatty libraries and put the redacting filter on every root handler.

    Idempotent; call it after the handlers exist (the CLI's basicConfig, pytest's caplog).
    """
    for name in NOISY_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level < logging.WARNING:
            logger.setLevel(logging.WARNING)
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactTokens) for f in handler.filters):
            handler.addFilter(RedactTokens())


def error_handler(store: ConversationStore):
    """PTB error handler: type, update id and pseudonym prefix only (never str(error))."""

    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        error = context.error
        update_id = update.update_id if isinstance(update, Update) else None
        key = "-"
        user = update.effective_user if isinstance(update, Update) else None
        if user is not None:
            try:
                key = store.pseudonym("telegram", str(user.id))[:8]
            except Exception:  # noqa: BLE001 - a closed store must not hide the real error
                key = "?"
        log.error("update failed: %s (update_id=%s, key=%s)", type(error).__name__, update_id, key)
        if error is not None and log.isEnabledFor(logging.DEBUG):
            # Where it happened, without the exception's message or any local value.
            frames = traceback.extract_tb(error.__traceback__)[-4:]
            log.debug(
                "  at %s",
                " <- ".join(
                    f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.name}" for f in reversed(frames)
                ),
            )

    return on_error


def polling_error(error: Exception) -> None:
    """Errors while fetching updates (PTB retries with back-off): type only."""
    log.warning("getUpdates failed: %s", type(error).__name__)
