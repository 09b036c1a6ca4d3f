"""The Telegram channel on python-telegram-bot v22: polling or a hardened webhook.

Updates become engine :class:`~bot.engine.Event` s, replies become Bot API calls; media
is never downloaded. Logs are redacted (no text, ids or token) by ``_logging``.
"""

from ._channel import (
    build_application,
    run_telegram,
    serve_telegram,
    start_application,
    stop_application,
)

__all__ = ["build_application", "run_telegram", "serve_telegram", "start_application",
           "stop_application"]
