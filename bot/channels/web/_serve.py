"""`kakekomi serve`: one hardened server for every channel (web chat, Telegram webhook, /healthz).

Opens the store, builds one `Dialogue`, mounts the web chat's routes and, when the
Telegram token and webhook settings are present, the Telegram webhook route (PTB's
Application without its own server: updates go to ``application.update_queue``). Prints
one line saying where it listens; stops cleanly on SIGINT/SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import signal
import sys
from datetime import timedelta
from typing import Any, TextIO
from urllib.parse import urlparse

from ..._errors import StartupError
from ..._settings import Settings
from ...content import Content
from ...engine import Dialogue
from .._http import HardenedServer, HttpLimits
from ._branding import load_branding
from ._chat import SECURITY_HEADERS, WebChat

log = logging.getLogger("kakekomi.web")
EXPIRY_EVERY = timedelta(hours=1)


async def _telegram_route(settings: Settings, dialogue: Dialogue, store: Any):
    """(route path, endpoint, app, set_webhook) for the Telegram webhook, the application
    started; or None when Telegram is off."""
    if not (settings.token and settings.webhook_url):
        return None
    from ..telegram import build_application
    from ..telegram._bot import KakekomiBot
    from ..telegram._channel import ALLOWED_UPDATES, _startup_step, configure_logging
    from ..telegram._webhook import TelegramWebhook

    secret = settings.webhook_secret or secrets.token_urlsafe(32)
    configure_logging(settings.token, secret)
    app = build_application(
        settings.token, dialogue, store, api_base_url=settings.api_base_url, close_store=False
    )
    with _startup_step("the Telegram Bot API"):
        await app.initialize()
    if app.post_init is not None:
        await app.post_init(app)
    bot = app.bot
    assert isinstance(bot, KakekomiBot)
    route = "/" + urlparse(settings.webhook_url).path.strip("/")
    endpoint = TelegramWebhook(app, secret, bot.updates)
    await app.start()

    async def set_webhook() -> None:  # once the server listens, so no update is turned away
        with _startup_step("setWebhook"):
            await app.bot.set_webhook(
                url=settings.webhook_url, secret_token=secret, allowed_updates=ALLOWED_UPDATES
            )

    return route, endpoint, app, set_webhook


async def serve(
    settings: Settings,
    content: Content,
    *,
    stop: asyncio.Event | None = None,
    out: TextIO | None = None,
) -> None:
    """Run the web chat (and the Telegram webhook when configured) until `stop` or a signal."""
    from storage import SqliteStore, load_secret

    out = out or sys.stdout
    branding = load_branding(
        content.root, set(getattr(content.directory, "regions", {}) or {}) or None
    )
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    secret = load_secret(settings.secret, settings.key_file, settings.db_path)
    store = await SqliteStore.open(settings.db_path, secret=secret, retention=settings.retention)
    fixed = settings.now
    dialogue = Dialogue(
        content, store, clock=(lambda: fixed) if fixed else None, default_lang=settings.lang
    )
    chat = WebChat(dialogue, store, branding, settings.web_path)
    routes = chat.routes()
    telegram = None
    expiry = asyncio.create_task(store.run_expiry(EXPIRY_EVERY), name="kakekomi:expiry")
    server: HardenedServer | None = None
    try:
        telegram = await _telegram_route(settings, dialogue, store)
        if telegram is not None:
            if telegram[0] in routes:
                raise StartupError(
                    f"the webhook path {telegram[0]} is also a web chat page; "
                    "give the web chat another --path"
                )
            routes[telegram[0]] = telegram[1]
        server = HardenedServer(routes, HttpLimits(), headers=SECURITY_HEADERS)
        try:
            server.listen(settings.web_port, address=settings.web_host)
        except OSError as exc:
            raise StartupError(
                f"cannot listen on {settings.web_host}:{settings.web_port}: "
                f"{exc.strerror or exc} (is another process using the port?)"
            ) from None
        if telegram is not None:
            await telegram[3]()
        host = f"[{settings.web_host}]" if ":" in settings.web_host else settings.web_host
        where = "on (webhook)" if telegram else "off"
        print(
            f"kakekomi: web chat on http://{host}:{settings.web_port}{settings.web_path} "
            f"(Telegram {where}; Ctrl-C stops)",
            file=out,
            flush=True,
        )
        await stop.wait()
    finally:
        if server is not None:
            await server.close()
        expiry.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await expiry
        if telegram is not None:
            from ..telegram import stop_application

            await stop_application(telegram[2])  # flushes the engine; the store stays open
        else:
            await dialogue.flush()
        await store.close()


def run_serve(settings: Settings, content: Content) -> None:
    """Blocking entry point for ``kakekomi serve``."""
    asyncio.run(serve(settings, content))
