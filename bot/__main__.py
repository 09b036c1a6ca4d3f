"""The `kakekomi` command: run, chat, telegram, lint (and the authoring tools)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import NoReturn

from ._errors import KakekomiError, StartupError
from ._settings import Settings, debug_requested, redact, secret_values

log = logging.getLogger("kakekomi")


DEBUG_HINT = "rerun with KAKEKOMI_DEBUG=1 for details"


class _Parser(argparse.ArgumentParser):
    """argparse, but a mistake on the command line is one line (and exit 2), not usage + error."""

    def error(self, message: str) -> NoReturn:
        print(f"kakekomi: {message} (kakekomi --help lists the options)", file=sys.stderr)
        raise SystemExit(2)


def _parse_now(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            "--now needs a time like 2026-11-29T02:00+09:00") from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError("--now needs a time zone, like 2026-11-29T02:00+09:00")
    return moment


def _port(value: str) -> int:
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value[:6]) <= 65535:
        raise argparse.ArgumentTypeError("--port must be a port number from 1 to 65535")
    return int(value)


def _web_path(value: str) -> str:
    return "/" + value.strip("/") + "/" if value.strip("/") else "/"


def _user(value: str) -> str:
    if not 1 <= len(value) <= 64 or not value.isprintable():
        raise argparse.ArgumentTypeError("--user must be 1 to 64 printable characters")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="kakekomi", description="A safety chatbot (terminal and Telegram).")
    parser.add_argument("--content", "--root", dest="root", type=Path,
                        help="content folder with flows/, locales/, contacts/ "
                        "(env KAKEKOMI_CONTENT; default: the content kakekomi ships)")
    sub = parser.add_subparsers(dest="command")

    def content(p: argparse.ArgumentParser) -> None:
        p.add_argument("--content", dest="root", type=Path, default=argparse.SUPPRESS,
                       help="content folder with flows/, locales/, contacts/ "
                            "(env KAKEKOMI_CONTENT)")

    def runtime(p: argparse.ArgumentParser) -> None:
        content(p)
        p.add_argument("--lang", help="language: a folder in the content's locales/ "
                       "(default ja); wins over a stored conversation's language")
        p.add_argument("--db", type=Path,
                       help="SQLite file (default data/kakekomi.sqlite3; env KAKEKOMI_DB)")
        p.add_argument("--now", type=_parse_now, help="pretend it is this moment (content review)")

    run = sub.add_parser("run",
                         help="Telegram when TELEGRAM_BOT_TOKEN is set, else the terminal chat")
    runtime(run)
    chat = sub.add_parser("chat", help="talk to the bot in the terminal")
    runtime(chat)
    chat.add_argument("--reload", action="store_true",
                      help="reload flows and locales when they change")
    chat.add_argument("--user", type=_user, default="local",
                      help="whose conversation to continue (default: local)")
    tg = sub.add_parser("telegram", help="run the Telegram bot (long polling, or a webhook)")
    runtime(tg)
    tg.add_argument("--webhook-url", help="public HTTPS URL Telegram should post updates to")
    tg.add_argument("--port", type=_port, help="port for the webhook server (default 8443)")
    tg.add_argument("--listen", help="address for the webhook server (default 0.0.0.0)")
    tg.add_argument("--secret-token", help="webhook secret (env KAKEKOMI_WEBHOOK_SECRET)")
    tg.add_argument("--api-base-url", help="another Bot API server, e.g. http://127.0.0.1:8081")
    serve = sub.add_parser("serve", help="the web chat (and the Telegram webhook when set up)")
    runtime(serve)
    serve.add_argument("--host", dest="web_host",
                       help="address to listen on (default 127.0.0.1; env KAKEKOMI_WEB_HOST)")
    serve.add_argument("--port", dest="web_port", type=_port,
                       help="port (default 8080; env KAKEKOMI_WEB_PORT)")
    serve.add_argument("--path", dest="web_path", type=_web_path,
                       help="where the chat is, like /chat/ (default /)")
    content(sub.add_parser("lint", help="check every flow, locale and contact; exit 1 on problems"))
    from .authoring import _tools

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
        web_host=getattr(args, "web_host", None),
        web_port=getattr(args, "web_port", None),
        web_path=getattr(args, "web_path", None),
    )


def _load(settings: Settings):
    from .content._loader import load_content

    return load_content(settings.content_root)  # ContentError: one line, from main()


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


async def _chat(settings: Settings, user: str, *, lang_chosen: bool = False) -> None:
    from .channels.terminal import TerminalChat
    from .engine._dialogue import Dialogue

    content = _load(settings)
    store = await open_store(settings)
    expiry = asyncio.create_task(store.run_expiry(timedelta(hours=1)))
    try:
        dialogue = Dialogue(content, store, clock=clock_for(settings), default_lang=settings.lang)
        chat = TerminalChat(dialogue, store.pseudonym("terminal", user), lang=settings.lang,
                            lang_chosen=lang_chosen)
        if settings.reload:
            from .authoring._reload import watch_content

            async with watch_content(settings.content_root, dialogue):
                await chat.run()
        else:
            await chat.run()
    finally:
        expiry.cancel()
        await store.close()


def _telegram(settings: Settings) -> None:
    from .channels.telegram._channel import run_telegram

    if not settings.token:
        raise StartupError("set TELEGRAM_BOT_TOKEN (from @BotFather) to run the Telegram bot.")
    content = _load(settings)
    run_telegram(settings, content)


def _serve(settings: Settings) -> None:
    from .channels.web import run_serve

    run_serve(settings, _load(settings))


def _lint(settings: Settings) -> int:
    from .authoring._lint import run_lint

    return run_lint(settings.content_root)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; a failure is one line on stderr, never a traceback.

    Exit 2: kakekomi refused to start or stopped on an error it knows (a setting, the
    database, the content, the channel); the line says what to do. Exit 1: an unexpected
    error; the line names only its type (its text may hold a token) and how to see more.
    """
    args = None
    try:
        args = _parser().parse_args(argv)
        return _run(args)
    except KeyboardInterrupt:
        return 0
    except Exception as exc:  # noqa: BLE001 - the start-up funnel: one line for everything
        return _fail(exc, args)


def _fail(exc: BaseException, args: argparse.Namespace | None) -> int:
    from ._errors import ContentError

    storage_errors: tuple[type[BaseException], ...] = ()
    try:
        from storage import StorageError

        storage_errors = (StorageError,)
    except ImportError:  # a broken install: still one line
        pass
    if isinstance(exc, ContentError) and not exc.problems:  # one mistake, in its own words
        print(f"kakekomi: the content has a problem: {_one_line(str(exc))}; "
              "run `kakekomi lint` to see them all", file=sys.stderr)
        return 2
    if isinstance(exc, ContentError):
        first = f" (first: {exc.problems[0]})" if exc.problems else ""
        print(f"kakekomi: the content has {len(exc.problems)} problem(s){first}; "
              "run `kakekomi lint` to see them all", file=sys.stderr)
        return 2
    if isinstance(exc, storage_errors):
        print(f"kakekomi: cannot use the database: {_one_line(str(exc))}", file=sys.stderr)
        return 2
    if isinstance(exc, KakekomiError):
        print(f"kakekomi: {_one_line(str(exc))}", file=sys.stderr)
        return 2
    try:
        debug = debug_requested()
    except KakekomiError:
        debug = False
    print(f"kakekomi: stopped by an unexpected error ({type(exc).__name__}); {DEBUG_HINT}",
          file=sys.stderr)
    if debug:
        import traceback

        text = "".join(traceback.format_exception(exc))
        print(redact(text, secret_values(getattr(args, "secret_token", None))), file=sys.stderr)
    return 1


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _run(args: argparse.Namespace) -> int:
    # The terminal chat shares the screen with the logs: only warnings there.
    level = logging.INFO if args.command in ("telegram", "run") else logging.WARNING
    if args.command == "serve":
        level = logging.WARNING  # its one line says where it listens; no per-request logs
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "httpcore", "telegram", "telegram.ext", "transitions"):
        logging.getLogger(noisy).setLevel(logging.WARNING)  # httpx logs URLs with the token
    settings = _settings(args)
    command = args.command or "run"
    if command == "run":
        command = "telegram" if settings.token else "chat"
        if not settings.token:
            print("TELEGRAM_BOT_TOKEN is not set: opening the terminal chat.", file=sys.stderr)
    if command == "chat":
        # --lang given: it wins over the language of a conversation already stored.
        asyncio.run(_chat(settings, getattr(args, "user", "local"),
                          lang_chosen=getattr(args, "lang", None) is not None))
        return 0
    if command == "telegram":
        _telegram(settings)
        return 0
    if command == "serve":
        _serve(settings)
        return 0
    if command == "lint":
        return _lint(settings)
    from .authoring import _tools

    return _tools.run_command(command, args, settings)


if __name__ == "__main__":
    raise SystemExit(main())
