"""The `kakekomi` command: run, chat, telegram, lint (and the authoring tools)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from datetime import datetime, timedelta
from pathlib import Path

from ._settings import Settings

log = logging.getLogger("kakekomi")


def _parse_now(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"--now needs a time like 2026-11-29T02:00+09:00 ({exc})")
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError("--now needs a time zone, like +09:00")
    return moment


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kakekomi", description="A safety chatbot (terminal and Telegram).")
    parser.add_argument("--root", type=Path, help="folder with flows/, locales/, contacts/")
    sub = parser.add_subparsers(dest="command")

    def runtime(p: argparse.ArgumentParser) -> None:
        p.add_argument("--lang", choices=["ja", "en"], help="language for new conversations")
        p.add_argument("--db", type=Path, help="SQLite file (default data/kakekomi.sqlite3; env KAKEKOMI_DB)")
        p.add_argument("--now", type=_parse_now, help="pretend it is this moment (content review)")

    run = sub.add_parser("run", help="Telegram when TELEGRAM_BOT_TOKEN is set, else the terminal chat")
    runtime(run)
    chat = sub.add_parser("chat", help="talk to the bot in the terminal")
    runtime(chat)
    chat.add_argument("--reload", action="store_true", help="reload flows and locales when they change")
    chat.add_argument("--user", default="local", help="whose conversation to continue (default: local)")
    tg = sub.add_parser("telegram", help="run the Telegram bot (long polling, or a webhook)")
    runtime(tg)
    tg.add_argument("--webhook-url", help="public HTTPS URL Telegram should post updates to")
    tg.add_argument("--port", type=int, help="port for the webhook server (default 8443)")
    tg.add_argument("--listen", help="address for the webhook server (default 0.0.0.0)")
    tg.add_argument("--secret-token", help="webhook secret (env KAKEKOMI_WEBHOOK_SECRET)")
    tg.add_argument("--api-base-url", help="another Bot API server, e.g. http://127.0.0.1:8081")
    sub.add_parser("lint", help="check every flow, locale and contact; exit 1 on problems")
    from . import _tools

    _tools.add_commands(sub)
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(
        content_root=getattr(args, "root", None),
        db_path=getattr(args, "db", None),
        lang=getattr(args, "lang", None),
        now=getattr(args, "now", None),
        reload=getattr(args, "reload", None),
        api_base_url=getattr(args, "api_base_url", None),
        webhook_url=getattr(args, "webhook_url", None),
        webhook_port=getattr(args, "port", None),
        webhook_listen=getattr(args, "listen", None),
        webhook_secret=getattr(args, "secret_token", None),
    )


def _load(settings: Settings):
    from ._content import load_content
    from ._errors import ContentError

    try:
        return load_content(settings.content_root)
    except ContentError as exc:
        print(f"kakekomi: the content has {len(exc.problems)} problem(s):", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        raise SystemExit(1) from None


async def open_store(settings: Settings):
    """Open the durable store named by the settings (creating the key file on first run)."""
    from storage import SqliteStore, load_secret

    secret = load_secret(settings.secret, settings.key_file, settings.db_path)
    return await SqliteStore.open(settings.db_path, secret=secret, retention=settings.retention)


def clock_for(settings: Settings):
    if settings.now is None:
        return None
    fixed = settings.now
    return lambda: fixed


async def _chat(settings: Settings, user: str) -> None:
    from ._engine import Dialogue
    from .channels.terminal import TerminalChat

    content = _load(settings)
    store = await open_store(settings)
    expiry = asyncio.create_task(store.run_expiry(timedelta(hours=1)))
    try:
        dialogue = Dialogue(content, store, clock=clock_for(settings), default_lang=settings.lang)
        chat = TerminalChat(dialogue, store.pseudonym("terminal", user), lang=settings.lang)
        if settings.reload:
            from ._reload import watch_content

            async with watch_content(settings.content_root, dialogue):
                await chat.run()
        else:
            await chat.run()
    finally:
        expiry.cancel()
        await store.close()


def _telegram(settings: Settings) -> None:
    from .channels.telegram import run_telegram

    if not settings.token:
        print("kakekomi: set TELEGRAM_BOT_TOKEN (from @BotFather) to run the Telegram bot.", file=sys.stderr)
        raise SystemExit(2)
    content = _load(settings)
    run_telegram(settings, content)


def _lint(settings: Settings) -> int:
    from ._lint import run_lint

    return run_lint(settings.content_root)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # The terminal chat shares the screen with the logs: only warnings there.
    level = logging.INFO if args.command in ("telegram", "run") else logging.WARNING
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "httpcore", "telegram", "telegram.ext", "transitions"):
        logging.getLogger(noisy).setLevel(logging.WARNING)  # httpx logs URLs with the token
    settings = _settings(args)
    command = args.command or "run"
    if command == "run":
        command = "telegram" if settings.token else "chat"
        if not settings.token:
            print("TELEGRAM_BOT_TOKEN is not set: opening the terminal chat.", file=sys.stderr)
    if command in ("chat", "telegram"):
        from storage import StorageError

        try:
            if command == "chat":
                asyncio.run(_chat(settings, getattr(args, "user", "local")))
            else:
                _telegram(settings)
        except StorageError as exc:
            print(f"kakekomi: cannot use the database: {exc}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            return 0
        return 0
    if command == "lint":
        return _lint(settings)
    from . import _tools

    return _tools.run_command(command, args, settings)


if __name__ == "__main__":
    raise SystemExit(main())
