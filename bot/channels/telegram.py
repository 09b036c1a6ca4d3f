"""The Telegram channel (python-telegram-bot 22): long polling or a webhook.

    app = build_application(token, dialogue, store, api_base_url=None)
    await start_application(app)              # polling; or webhook_url=..., secret_token=...
    ...
    await stop_application(app)               # drains updates, flushes, closes the store

`run_telegram(settings, content)` is the blocking entry point the CLI uses: it opens the
store, runs until SIGINT/SIGTERM and shuts down cleanly.

What it guarantees: one person's updates are handled one at a time and in order, many
people in parallel; a button press is answered before anything else; a redelivered
update is handled once (`store.seen_update`); media is deleted and never downloaded;
group chats are turned away; no log line carries a token, a text or a raw Telegram id.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import secrets
import signal
from datetime import timedelta
from urllib.parse import urlparse

from telegram import BotCommand, Update
from telegram.error import TelegramError
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, TypeHandler
from telegram.request import BaseRequest

from storage import ConversationStore

from .. import COMMANDS
from .._content import Content
from .._engine import Dialogue
from .._settings import Settings
from ._telegram_inbound import PerPersonUpdateProcessor, TelegramInbound
from ._telegram_logging import configure_logging, error_handler, polling_error
from ._telegram_outbound import split_text

__all__ = [
    "ALLOWED_UPDATES",
    "api_urls",
    "build_application",
    "configure_logging",
    "run_telegram",
    "serve_telegram",
    "split_text",
    "start_application",
    "stop_application",
]

log = logging.getLogger("kakekomi.telegram")

# Sticky on Telegram's side, so it is sent on every start (reference §1.9).
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
EXPIRY_EVERY = timedelta(hours=1)


def api_urls(api_base_url: str | None) -> tuple[str, str]:
    """PTB's (base_url, base_file_url) for a Bot API server.

    Give the server root, e.g. ``http://127.0.0.1:8081`` (a self-hosted telegram-bot-api
    or the test stand-in): this returns ``…/bot`` and ``…/file/bot``, to which PTB
    appends the token. A URL already ending in ``/bot`` is taken as PTB's base_url.
    """
    if not api_base_url:
        return "https://api.telegram.org/bot", "https://api.telegram.org/file/bot"
    root = api_base_url.rstrip("/")
    root = root.removesuffix("/bot")
    return f"{root}/bot", f"{root}/file/bot"


def build_application(
    token: str,
    dialogue: Dialogue,
    store: ConversationStore,
    *,
    api_base_url: str | None = None,
    max_concurrent_updates: int = 128,
    close_store: bool = True,
    request: BaseRequest | None = None,
    rate_limiter: bool = True,
) -> Application:
    """A ready-to-start Application wired to the engine.

    `close_store`: close `store` when the application shuts down (after the engine has
    flushed the message ids it still holds). `request`: a PTB BaseRequest used for every
    call including getUpdates (benchmarks answer in-process; then `api_base_url` is moot).
    `rate_limiter=False` drops AIORateLimiter (benchmarks only: 429s are then not retried).
    """
    configure_logging()
    inbound = TelegramInbound(dialogue, store)
    base_url, base_file_url = api_urls(api_base_url)

    async def post_init(app: Application) -> None:
        await _set_commands(app, dialogue.content)

    async def post_stop(app: Application) -> None:
        await dialogue.flush()

    async def post_shutdown(app: Application) -> None:
        if close_store:
            await store.close()

    builder = (
        ApplicationBuilder()
        .token(token)
        .base_url(base_url)
        .base_file_url(base_file_url)
        .concurrent_updates(
            PerPersonUpdateProcessor(max_concurrent_updates, on_arrival=inbound.answer_callback)
        )
        .post_init(post_init)
        .post_stop(post_stop)
        .post_shutdown(post_shutdown)
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    else:  # a stuck long poll must not starve the next one (reference §2.9)
        builder = builder.get_updates_connection_pool_size(2)
    app: Application  # PTB's generics differ with and without a rate limiter
    if rate_limiter:  # RetryAfter: wait as told, then retry (up to 3 times)
        app = builder.rate_limiter(AIORateLimiter(max_retries=3)).build()
    else:
        app = builder.build()
    app.add_handler(TypeHandler(Update, inbound.on_update))
    app.add_error_handler(error_handler(store))
    return app


async def _set_commands(app: Application, content: Content) -> None:
    """The command menu in Japanese and, for everyone else, English (texts from locales)."""
    locales = content.locales
    names = [n for n in COMMANDS if locales.has(f"commands.{n}")] or list(COMMANDS)
    for lang, language_code in (("ja", "ja"), ("en", None)):
        if lang not in locales.values:
            continue
        commands = [BotCommand(n, (locales.text(lang, f"commands.{n}") or n)[:256]) for n in names]
        try:
            await app.bot.set_my_commands(commands, language_code=language_code)
        except TelegramError as exc:  # a menu is a nicety: never block the start
            log.warning("setMyCommands (%s) failed: %s", lang, type(exc).__name__)


class _ConstantTimeSecret(str):
    """The webhook secret, compared in constant time.

    PTB's webhook handler checks ``header != secret``; when the right operand is a str
    subclass, Python asks its reflected ``__ne__`` first, so the check runs through
    `hmac.compare_digest` without replacing PTB's server.
    """

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and hmac.compare_digest(
            other.encode(), str.__str__(self).encode()
        )

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    __hash__ = str.__hash__


async def start_application(
    app: Application,
    *,
    webhook_url: str | None = None,
    listen: str = "0.0.0.0",
    port: int = 8443,
    secret_token: str | None = None,
    url_path: str | None = None,
    poll_timeout: float = 10.0,
) -> None:
    """Initialise, set the command menu, and start receiving updates.

    Without `webhook_url`: long polling (deleteWebhook first, as PTB does). With it: PTB's
    tornado server on `listen:port`, path taken from `webhook_url` unless `url_path` is
    given (a proxy terminates TLS). No `secret_token`: a random one is made for this run
    (setWebhook is called on every start, so nothing needs to remember it).
    """
    await app.initialize()
    if app.post_init is not None:
        await app.post_init(app)
    assert app.updater is not None
    if webhook_url:
        secret = _ConstantTimeSecret(secret_token or secrets.token_urlsafe(32))
        path = url_path if url_path is not None else urlparse(webhook_url).path.strip("/")
        await app.updater.start_webhook(
            listen=listen,
            port=port,
            url_path=path,
            webhook_url=webhook_url,
            secret_token=secret,
            allowed_updates=ALLOWED_UPDATES,
            bootstrap_retries=3,
        )
    else:
        await app.updater.start_polling(
            poll_interval=0.0,
            timeout=int(poll_timeout),
            allowed_updates=ALLOWED_UPDATES,
            bootstrap_retries=3,
            error_callback=polling_error,
        )
    await app.start()


async def stop_application(app: Application) -> None:
    """Stop receiving, finish queued updates, flush the engine, shut down, close the store.

    The same order as PTB's run_polling: updater, application, post_stop, shutdown,
    post_shutdown.
    """
    try:
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        if app.post_stop is not None:
            await app.post_stop(app)
    finally:
        await app.shutdown()
        if app.post_shutdown is not None:
            await app.post_shutdown(app)


async def serve_telegram(
    settings: Settings, content: Content, stop: asyncio.Event | None = None
) -> None:
    """Open the store, run the bot until `stop` is set (or SIGINT/SIGTERM), shut down."""
    from storage import SqliteStore, load_secret

    if not settings.token:
        raise ValueError("a Telegram bot token is needed (TELEGRAM_BOT_TOKEN)")
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # Windows, threads
            loop.add_signal_handler(signum, stop.set)
    secret = load_secret(settings.secret, settings.key_file, settings.db_path)
    store = await SqliteStore.open(settings.db_path, secret=secret, retention=settings.retention)
    fixed = settings.now
    dialogue = Dialogue(
        content, store, clock=(lambda: fixed) if fixed else None, default_lang=settings.lang
    )
    app = build_application(settings.token, dialogue, store, api_base_url=settings.api_base_url)
    expiry = asyncio.create_task(store.run_expiry(EXPIRY_EVERY), name="kakekomi:expiry")
    try:
        await start_application(
            app,
            webhook_url=settings.webhook_url,
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            secret_token=settings.webhook_secret,
        )
        log.info("Telegram bot running (%s)", "webhook" if settings.webhook_url else "polling")
        await stop.wait()
        log.info("stopping")
    finally:
        expiry.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await expiry
        await stop_application(app)


def run_telegram(settings: Settings, content: Content) -> None:
    """Blocking entry point for ``kakekomi telegram`` (like PTB's run_polling)."""
    asyncio.run(serve_telegram(settings, content))
