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
import logging
import re
import secrets
import signal
from datetime import timedelta
from urllib.parse import urlparse

from telegram import BotCommand, Update
from telegram.error import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    TelegramError,
    TimedOut,
)
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, TypeHandler
from telegram.request import BaseRequest, HTTPXRequest

from storage import ConversationStore

from ... import COMMANDS
from ..._errors import StartupError
from ..._settings import Settings
from ...content import Content
from ...engine import Dialogue
from .._http import HardenedServer, HttpLimits
from ._bot import KakekomiBot
from ._inbound import PerPersonUpdateProcessor, TelegramInbound
from ._logging import configure_logging, error_handler, polling_error, redact
from ._outbound import split_text
from ._webhook import webhook_server

__all__ = [
    "ALLOWED_UPDATES",
    "HttpLimits",
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
_webhook_servers: dict[int, HardenedServer] = {}  # id(app) → its server, while it runs


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
    configure_logging(token)
    inbound = TelegramInbound(dialogue, store)
    base_url, base_file_url = api_urls(api_base_url)

    async def post_init(app: Application) -> None:
        await _set_commands(app, dialogue.content)

    async def post_stop(app: Application) -> None:
        await dialogue.flush()

    async def post_shutdown(app: Application) -> None:
        if close_store:
            await store.close()

    bot = KakekomiBot(  # the builder's own defaults, plus getUpdates that skips poison
        token=token,
        base_url=base_url,
        base_file_url=base_file_url,
        request=request or HTTPXRequest(connection_pool_size=256),
        # a stuck long poll must not starve the next one (reference §2.9)
        get_updates_request=request or HTTPXRequest(connection_pool_size=2),
        # RetryAfter: wait as told, then retry (up to 3 times)
        rate_limiter=AIORateLimiter(max_retries=3) if rate_limiter else None,
    )
    app: Application = (  # PTB's generics differ with and without a rate limiter
        ApplicationBuilder()
        .bot(bot)
        .concurrent_updates(
            PerPersonUpdateProcessor(max_concurrent_updates, on_arrival=inbound.answer_callback)
        )
        .post_init(post_init)
        .post_stop(post_stop)
        .post_shutdown(post_shutdown)
        .build()
    )
    app.add_handler(TypeHandler(Update, inbound.on_update))
    app.add_error_handler(error_handler(store))
    return app


_LANGUAGE_CODE = re.compile(r"[a-z]{2}")  # setMyCommands takes a two-letter ISO 639-1 code


async def _set_commands(app: Application, content: Content) -> None:
    """The command menu in every language, for the app languages each serves (`lang.serves`
    in its locale; "*" is the menu for everyone else, set without a language_code)."""
    locales = content.locales
    names = [n for n in COMMANDS if locales.has(f"commands.{n}")] or list(COMMANDS)
    done: set[str | None] = set()
    for lang in locales.languages:
        commands = [BotCommand(n, (locales.text(lang, f"commands.{n}") or n)[:256]) for n in names]
        for code in locales.serves(lang):
            language_code = None if code == "*" else code
            if language_code in done or not (code == "*" or _LANGUAGE_CODE.fullmatch(code)):
                continue  # the first language to serve a code has it; Telegram wants ISO 639-1
            done.add(language_code)
            try:
                await app.bot.set_my_commands(commands, language_code=language_code)
            except TelegramError as exc:  # a menu is a nicety: never block the start
                log.warning("setMyCommands (%s) failed: %s", lang, type(exc).__name__)


async def start_application(
    app: Application,
    *,
    webhook_url: str | None = None,
    listen: str = "0.0.0.0",
    port: int = 8443,
    secret_token: str | None = None,
    url_path: str | None = None,
    poll_timeout: float = 10.0,
    http_limits: HttpLimits | None = None,
) -> None:
    """Initialise, set the command menu, and start receiving updates.

    Without `webhook_url`: long polling (deleteWebhook first, as PTB does). With it: our
    own hardened server (`_http.HardenedServer`) on `listen:port`, path taken from
    `webhook_url` unless `url_path` is given (a proxy terminates TLS), then setWebhook.
    No `secret_token`: a random one is made for this run (setWebhook is called on every
    start, so nothing needs to remember it).

    Known failures raise `StartupError` with one line that never holds the token: the
    token refused, the Bot API unreachable, the port in use, the webhook refused.
    """
    where = _api_host(app)
    with _startup_step(f"the Telegram Bot API at {where}"):
        await app.initialize()
    if app.post_init is not None:
        await app.post_init(app)
    assert app.updater is not None
    if webhook_url:
        secret = secret_token or secrets.token_urlsafe(32)
        configure_logging(secret)
        path = url_path if url_path is not None else urlparse(webhook_url).path.strip("/")
        bot = app.bot
        assert isinstance(bot, KakekomiBot)
        server = webhook_server(app, path, secret, bot.updates, http_limits)
        try:
            server.listen(port, address=listen)
        except OSError as exc:
            raise StartupError(
                f"cannot listen on {listen}:{port} for the webhook: {exc.strerror or exc}"
                " (is another process using the port?)"
            ) from None
        _webhook_servers[id(app)] = server
        try:
            with _startup_step("setWebhook"):
                await _retry_network(
                    lambda: app.bot.set_webhook(
                        url=webhook_url, secret_token=secret, allowed_updates=ALLOWED_UPDATES
                    )
                )
        except BaseException:
            await _webhook_servers.pop(id(app)).close()
            raise
    else:
        with _startup_step(f"the Telegram Bot API at {where}"):
            await app.updater.start_polling(
                poll_interval=0.0,
                timeout=int(poll_timeout),
                allowed_updates=ALLOWED_UPDATES,
                bootstrap_retries=3,
                error_callback=polling_error,
            )
    await app.start()


def _api_host(app: Application) -> str:
    """Scheme, host and port of the Bot API server (never the path: it holds the token)."""
    parsed = urlparse(str(app.bot.base_url))
    return f"{parsed.scheme}://{parsed.netloc}"


@contextlib.contextmanager
def _startup_step(what: str):
    """Turn the failures an operator can fix into one-line `StartupError`s."""
    try:
        yield
    except InvalidToken:  # its message quotes the token: never shown
        raise StartupError(
            "Telegram refused the bot token (401 Unauthorized): check TELEGRAM_BOT_TOKEN"
        ) from None
    except TimedOut:
        raise StartupError(f"no answer in time from {what}: check the network") from None
    except TelegramError as exc:
        if isinstance(exc, NetworkError) and not _is_refusal(exc):
            raise StartupError(
                f"cannot reach {what} ({type(exc).__name__}): check the network"
                " and TELEGRAM_API_BASE_URL"
            ) from None
        description = redact(str(getattr(exc, "message", "") or type(exc).__name__), strict=True)
        first_line = description.splitlines()[0][:200]
        raise StartupError(f"Telegram refused {what}: {first_line}") from None


def _is_refusal(exc: TelegramError) -> bool:
    """An answer from Telegram (400/403/409), not a failure to reach it."""
    return isinstance(exc, BadRequest | Conflict | Forbidden)


async def _retry_network(call, attempts: int = 3, pause: float = 1.0):
    """A bootstrap call, tried again on network errors (not on refusals), like PTB's."""
    for attempt in range(attempts):
        try:
            return await call()
        except NetworkError as exc:
            if _is_refusal(exc) or isinstance(exc, InvalidToken) or attempt == attempts - 1:
                raise
            log.warning("%s failed, trying again: %s", "bootstrap", type(exc).__name__)
            await asyncio.sleep(pause * (attempt + 1))


async def stop_application(app: Application) -> None:
    """Stop receiving, finish queued updates, flush the engine, shut down, close the store.

    The same order as PTB's run_polling: updater, application, post_stop, shutdown,
    post_shutdown.
    """
    try:
        server = _webhook_servers.pop(id(app), None)
        if server is not None:
            await server.close()
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
        raise StartupError("a Telegram bot token is needed: set TELEGRAM_BOT_TOKEN")
    configure_logging(settings.token, settings.webhook_secret)
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
