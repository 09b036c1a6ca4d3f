"""Scenario: the same walks through a real python-telegram-bot Application, no network.

    python -m benchmarks.telegram --bot kakekomi|bare|convhandler --n 100 --steps 20

Every Bot API call is answered in-process by `LocalRequest` (a `telegram.request.
BaseRequest`) with plausible JSON, so what is measured is PTB + the bot, not HTTP.
Each step builds the update's JSON, parses it with `Update.de_json` and hands it to the
Application the way its update fetcher does (`update_processor.process_update(update,
app.process_update(update))`), so the bot's own update processor (kakekomi: one person
at a time, many in parallel, button presses answered on arrival) is part of the step.

Bots:
  kakekomi     bot.channels.telegram._channel.build_application over a SqliteStore (temp file)
  kakekomi-rl  the same with the AIORateLimiter it ships with (30 requests/s overall)
  kakekomi-mem the same over MemoryStore: what durable, encrypted commits cost
  bare         one MessageHandler that replies a fixed text (PTB defaults)
  convhandler  benchmarks/convhandler.py: ConversationHandler + PicklePersistence
The kakekomi bot is built without its rate limiter unless `kakekomi-rl`: the limiter
caps every bot at Telegram's 30 messages/s, which says nothing about the code's cost.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import inspect
import itertools
import json
import random
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import Application, ApplicationBuilder, MessageHandler, filters
from telegram.request import BaseRequest, RequestData

from .stats import ROOT, all_at_once, emit, latency_summary, maxrss_mib, profiled, traced
from .walker import ANSWERS, Action, Policy, policy_for

TOKEN = "123456:BENCH-token-not-a-real-one"
BOT_ID = 123456
BOT_USER = {"id": BOT_ID, "is_bot": True, "first_name": "Bench Bot", "username": "bench_bot"}
FIRST_USER_ID = 700_000_000


class LocalRequest(BaseRequest):
    """Answers every Bot API call locally, as the real server would shape the reply.

    Keeps what the walker needs per chat: a shared message counter (as in private chats)
    and the newest bot message that carries buttons (edits and deletions applied).
    """

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.next_id: dict[int, int] = {}
        self.keyboard: dict[int, dict[str, Any]] = {}  # chat → message JSON with buttons
        self._queries = itertools.count(1)
        self.date = int(time.time())

    @property
    def read_timeout(self) -> float | None:
        return 5.0

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    def new_message_id(self, chat_id: int) -> int:
        nxt = self.next_id.get(chat_id, 1)
        self.next_id[chat_id] = nxt + 1
        return nxt

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout: Any = None, write_timeout: Any = None,
                         connect_timeout: Any = None, pool_timeout: Any = None,
                         ) -> tuple[int, bytes]:
        name = url.rsplit("/", 1)[-1]
        self.calls[name] += 1
        params: dict[str, Any] = {}
        if request_data is not None:
            # What HTTPXRequest would encode, so the encoding cost stays in the step.
            if request_data.contains_files:
                request_data.multipart_data  # noqa: B018
            else:
                request_data.json_parameters  # noqa: B018
            params = request_data.parameters
        result = self._answer(name, params)
        return 200, json.dumps({"ok": True, "result": result}).encode()

    def _message(self, chat_id: int, message_id: int, **fields: Any) -> dict[str, Any]:
        out = {"message_id": message_id, "from": BOT_USER,
               "chat": {"id": chat_id, "type": "private", "first_name": "Bench"},
               "date": self.date}
        out.update({k: v for k, v in fields.items() if v is not None})
        return out

    def _answer(self, name: str, params: dict[str, Any]) -> Any:
        chat_id = params.get("chat_id")
        if name == "getMe":
            return dict(BOT_USER, can_join_groups=True, can_read_all_group_messages=False,
                        supports_inline_queries=False)
        if name in ("sendMessage", "sendDocument"):
            markup = params.get("reply_markup")
            fields: dict[str, Any] = {"reply_markup": markup}
            if name == "sendMessage":
                fields["text"] = params.get("text")
            else:
                fields["document"] = {"file_id": "DOC", "file_unique_id": "D",
                                      "file_name": "memo.txt", "file_size": 100}
                fields["caption"] = params.get("caption")
            message = self._message(chat_id, self.new_message_id(chat_id), **fields)
            if markup and markup.get("inline_keyboard"):
                self.keyboard[chat_id] = message
            return message
        if name in ("editMessageText", "editMessageReplyMarkup"):
            message_id = params.get("message_id")
            shown = self.keyboard.get(chat_id)
            text = params.get("text")
            if text is None and shown is not None and shown["message_id"] == message_id:
                text = shown.get("text")
            message = self._message(chat_id, message_id, text=text or "…",
                                    reply_markup=params.get("reply_markup"), edit_date=self.date)
            if shown is not None and shown["message_id"] == message_id:
                if params.get("reply_markup"):
                    self.keyboard[chat_id] = message
                else:
                    del self.keyboard[chat_id]
            elif params.get("reply_markup"):
                self.keyboard[chat_id] = message
            return message
        if name in ("deleteMessages", "deleteMessage"):
            ids = params.get("message_ids") or [params.get("message_id")]
            shown = self.keyboard.get(chat_id)
            if shown is not None and shown["message_id"] in ids:
                del self.keyboard[chat_id]
            return True
        # answerCallbackQuery, setMyCommands, deleteWebhook, sendChatAction, leaveChat, ...
        return True

    def buttons(self, chat_id: int) -> list[tuple[str, str]]:
        shown = self.keyboard.get(chat_id)
        if shown is None:
            return []
        rows = shown["reply_markup"]["inline_keyboard"]
        return [(b["text"], b.get("callback_data", "")) for row in rows for b in row]


@contextlib.contextmanager
def local_builder(request: LocalRequest, *, rate_limiter: bool) -> Iterator[None]:
    """Make every ApplicationBuilder use `request` (and, unless asked, no rate limiter).

    Only for a build_application() without `request=`/`rate_limiter=` parameters: it sets
    pool sizes, which rule out ApplicationBuilder.request(), so the builder is patched for
    the duration.
    """
    original_build_request = ApplicationBuilder._build_request
    original_rate_limiter = ApplicationBuilder.rate_limiter
    ApplicationBuilder._build_request = (  # type: ignore[method-assign]
        lambda self, get_updates: request)
    if not rate_limiter:
        ApplicationBuilder.rate_limiter = lambda self, limiter: self  # type: ignore[method-assign]
    try:
        yield
    finally:
        ApplicationBuilder._build_request = original_build_request  # type: ignore[method-assign]
        ApplicationBuilder.rate_limiter = original_rate_limiter  # type: ignore[method-assign]


class Updates:
    """Raw update JSON as Telegram sends it, for one simulated person."""

    ids = itertools.count(1)

    def __init__(self, request: LocalRequest, user_id: int, lang: str):
        self.request = request
        self.user = {"id": user_id, "is_bot": False, "first_name": "Bench",
                     "language_code": lang}
        self.chat = {"id": user_id, "type": "private", "first_name": "Bench"}

    def _message(self, **fields: Any) -> dict[str, Any]:
        message_id = self.request.new_message_id(self.user["id"])
        return {"update_id": next(self.ids), "message": {
            "message_id": message_id, "from": self.user, "chat": self.chat,
            "date": self.request.date, **fields}}

    def for_action(self, action: Action) -> dict[str, Any]:
        if action.kind == "command":
            text = "/" + action.value
            return self._message(text=text, entities=[
                {"offset": 0, "length": len(text), "type": "bot_command"}])
        if action.kind == "text":
            return self._message(text=action.value)
        shown = self.request.keyboard.get(self.user["id"])
        message = shown or {"message_id": 1, "chat": self.chat, "date": 0}
        return {"update_id": next(self.ids), "callback_query": {
            "id": f"q{next(self.request._queries)}", "from": self.user,
            "chat_instance": f"ci{self.user['id']}", "data": action.value, "message": message}}


class TextOnly(Policy):
    """The bare bot shows no buttons: its people just type."""

    def next(self, buttons: list[tuple[str, str]]) -> Action:
        return Action("text", self.rng.choice(ANSWERS))


async def build_bot(kind: str, request: LocalRequest, tmp: Path) -> tuple[Application, Any, Any]:
    """(application, content or None, store or None) for `kind`."""
    if kind in ("kakekomi", "kakekomi-rl", "kakekomi-mem"):
        from bot import Dialogue, load_content
        from bot.channels.telegram._channel import build_application
        from storage import MemoryStore, SqliteStore

        content = load_content(ROOT)
        if kind == "kakekomi-mem":
            store = MemoryStore(secret=bytes(range(32)))
        else:
            store = await SqliteStore.open(tmp / "kakekomi.sqlite3", secret=bytes(range(32)))
        dialogue = Dialogue(content, store)
        parameters = inspect.signature(build_application).parameters
        if "request" in parameters and "rate_limiter" in parameters:
            app = build_application(TOKEN, dialogue, store, request=request,
                                    rate_limiter=kind == "kakekomi-rl")
        else:  # an older channel without those parameters
            with local_builder(request, rate_limiter=kind == "kakekomi-rl"):
                app = build_application(TOKEN, dialogue, store)
        return app, content, store
    if kind == "bare":
        app = (ApplicationBuilder().token(TOKEN).request(request)
               .get_updates_request(request).build())

        async def reply(update: Update, context: Any) -> None:
            await update.effective_message.reply_text("Thanks, got it.")

        app.add_handler(MessageHandler(filters.ALL, reply))
        return app, None, None
    if kind == "convhandler":
        from .convhandler import build

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # per_message=False advice from PTB
            app = build(TOKEN, request, request, tmp / "triage.pickle")
        return app, None, None
    raise ValueError(f"unknown bot {kind!r}")


async def run(kind: str, n: int, steps: int, *, seed: str = "bench", trace: bool = False,
              db_dir: Path | None = None) -> dict[str, Any]:
    with traced(trace) as memory, \
            tempfile.TemporaryDirectory(prefix="kakekomi-bench-", dir=db_dir) as tmp_name:
        tmp = Path(tmp_name)
        request = LocalRequest()
        app, content, store = await build_bot(kind, request, tmp)
        await app.initialize()
        if app.post_init is not None:
            await app.post_init(app)
        await app.start()  # the update fetcher and, for PicklePersistence, its flush loop
        request.calls.clear()
        latencies: list[float] = []
        gate = asyncio.Event()

        async def person(i: int) -> None:
            rng = random.Random(f"{seed}-{i}")
            if kind == "bare":
                policy: Policy = TextOnly(rng, nav_labels=set(), menu_labels=set(),
                                          exit_labels=set())
            elif content is not None:
                policy = policy_for(content, rng)
            else:
                policy = Policy(rng, nav_labels=set(), menu_labels=set(), exit_labels=set())
            user_id = FIRST_USER_ID + i
            updates = Updates(request, user_id, "ja" if i % 2 == 0 else "en")
            action = Action("command", "start") if kind != "bare" else policy.next([])
            await gate.wait()
            for _ in range(steps):
                started = time.perf_counter()
                update = Update.de_json(updates.for_action(action), app.bot)
                await app.update_processor.process_update(update, app.process_update(update))
                latencies.append(time.perf_counter() - started)
                action = policy.next(request.buttons(user_id))

        wall = await all_at_once(person, n, gate)
        calls = dict(request.calls)
        stop_started = time.perf_counter()
        from bot.channels.telegram._channel import stop_application

        await stop_application(app)  # kakekomi: flush + close store; PTB: persistence flush
        stop_s = time.perf_counter() - stop_started
    total = len(latencies)
    return {
        "scenario": "telegram", "bot": kind, "conversations": n, "steps": total,
        "wall_s": wall, "steps_per_s": total / wall, **latency_summary(latencies),
        "maxrss_mib": maxrss_mib(), **memory, "api_calls": calls,
        "api_calls_per_step": sum(calls.values()) / max(total, 1), "stop_s": stop_s,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.telegram")
    parser.add_argument("--bot", choices=["kakekomi", "kakekomi-rl", "kakekomi-mem", "bare",
                                          "convhandler"],
                        default="kakekomi")
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--trace", action="store_true")
    parser.add_argument("--profile")
    parser.add_argument("--db-dir", type=Path)
    args = parser.parse_args(argv)
    import logging

    logging.basicConfig(level=logging.WARNING)
    with profiled(args.profile):
        result = asyncio.run(run(args.bot, args.n, args.steps, trace=args.trace,
                                 db_dir=args.db_dir))
    emit(result)


if __name__ == "__main__":
    main()
