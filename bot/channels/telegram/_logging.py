"""Logging that never carries a bot token, a message text, an update or a raw Telegram id.

httpx logs every request URL (with the token) at INFO; PTB logs whole updates at DEBUG,
and at CRITICAL when it cannot parse one; tornado logs peers and malformed requests.
So `RedactContent` sits on every logger of those libraries and on the root handlers. It
rewrites each record: payload arguments (dicts, lists, Telegram objects) become
``[payload]``; bot tokens (by shape and literally), runs of 6+ digits (user and chat
ids) and anything in braces are redacted; in third-party records quoted strings too;
and a traceback keeps its frames and exception types but not exception messages (they
can quote a value: ``int('what the person typed')``). Our own `KakekomiError` messages
are written to be safe and are kept, redacted all the same.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Iterable

from telegram import TelegramObject, Update
from telegram.ext import ContextTypes

from storage import ConversationStore

from ..._errors import KakekomiError

log = logging.getLogger("kakekomi.telegram")

# tornado logs each malformed request at INFO: a stranger could fill the log with them.
NOISY_LOGGERS = ("httpx", "httpcore", "telegram", "telegram.ext", "tornado")
# Every logger under these gets the filter (a logger's filter does not see its children's
# records, so each one is named; the root handlers catch whatever propagates).
FILTERED_PREFIXES = ("telegram", "httpx", "httpcore", "tornado", "asyncio", "kakekomi")
_TOKEN_SHAPES = (
    re.compile(r"bot\d+(?::|%3A)[A-Za-z0-9_-]+"),
    re.compile(r"\d{5,}(?::|%3A)[A-Za-z0-9_-]{20,}"),
)
_LONG_DIGITS = re.compile(r"(?<![0-9])[0-9]{6,}(?![0-9])")
_BRACES = re.compile(r"\{.*\}", re.DOTALL)
_QUOTED = re.compile(r"'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\"")
REDACTED = "[REDACTED]"
_secrets: set[str] = set()


def add_secret(value: str | None) -> None:
    """Redact this literal string (the token, the webhook secret) wherever it appears."""
    if value and len(value) >= 4:
        _secrets.add(value)
        if ":" in value:
            _secrets.add(value.split(":", 1)[1])  # the token's secret half on its own


def redact(text: str, *, strict: bool = False) -> str:
    """Tokens and secrets; with `strict`, also payloads, ids and quoted strings."""
    for secret in sorted(_secrets, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    for shape in _TOKEN_SHAPES:
        text = shape.sub(REDACTED, text)
    if strict:
        text = _BRACES.sub("{…}", text)
        text = _LONG_DIGITS.sub("[id]", text)
    return text


def _third_party(record: logging.LogRecord) -> bool:
    return not record.name.startswith("kakekomi")


def _safe_arg(value: object) -> object:
    if isinstance(value, TelegramObject | dict | list | tuple | set | bytes | bytearray):
        return "[payload]"
    return value


def _exception_text(exc: BaseException | None) -> str:
    """Frames and exception types of the whole chain; messages only for our own errors."""
    lines: list[str] = []
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        frames = traceback.extract_tb(exc.__traceback__)
        block = ["Traceback (most recent call last):"]
        block += [f'  File "{f.filename}", line {f.lineno}, in {f.name}' for f in frames]
        name = type(exc).__qualname__
        if isinstance(exc, KakekomiError):
            block.append(f"{name}: {redact(str(exc), strict=True)}")
        else:
            block.append(f"{name} (message withheld: it may quote user data)")
        lines[:0] = block + ([""] if lines else [])
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    return "\n".join(lines)


class RedactContent(logging.Filter):
    """Rewrites every record so no token, id, update payload or message text survives."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_kakekomi_redacted", False):
            return True  # already done (logger filter, then a root handler's)
        try:
            if isinstance(record.args, dict):
                args: object = {k: _safe_arg(v) for k, v in record.args.items()}
            elif isinstance(record.args, tuple):
                args = tuple(_safe_arg(a) for a in record.args)
            else:
                args = record.args
            message = str(record.msg) % args if args else str(record.msg)
        except Exception:  # a broken format string: keep only the template
            message = str(record.msg)
        cleaned = redact(message, strict=True)
        if _third_party(record):
            cleaned = _QUOTED.sub("'…'", cleaned)
        record.msg, record.args = cleaned, None
        if record.exc_info:
            record.exc_text = _exception_text(record.exc_info[1])
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = "\n".join(
                line for line in record.exc_text.splitlines() if line.startswith("  File ")
            ) + "\n(exception message withheld)"
        if record.stack_info:
            record.stack_info = redact(record.stack_info, strict=True)
        record._kakekomi_redacted = True
        return True


_FILTER = RedactContent()


def _install(filterer: logging.Filterer) -> None:
    if not any(isinstance(f, RedactContent) for f in filterer.filters):
        filterer.addFilter(_FILTER)


def filtered_loggers() -> Iterable[logging.Logger]:
    names = set(NOISY_LOGGERS) | set(FILTERED_PREFIXES)
    for name in list(logging.root.manager.loggerDict):
        if name.split(".", 1)[0] in FILTERED_PREFIXES:
            names.add(name)
    return [logging.getLogger(name) for name in sorted(names)]


def configure_logging(*secrets: str | None) -> None:
    """Quiet the chatty libraries; put the redacting filter on their loggers and on every
    root handler; remember `secrets` (token, webhook secret) for literal redaction.

    Idempotent; call it after the handlers exist (the CLI's basicConfig, pytest's caplog).
    """
    for secret in secrets:
        add_secret(secret)
    for name in NOISY_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level < logging.WARNING:
            logger.setLevel(logging.WARNING)
    for logger in filtered_loggers():
        _install(logger)
        for handler in logger.handlers:
            _install(handler)
    for handler in logging.getLogger().handlers:
        _install(handler)


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
