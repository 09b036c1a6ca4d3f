"""A loopback stand-in for the Telegram Bot API.

Point python-telegram-bot at it with ``base_url(stub.base_url)`` and drive a real
Application over real HTTP: updates go out through ``getUpdates`` long polling,
every call the bot makes is recorded, the real server's limits are enforced
(see ``botapi_checks``), and faults can be injected per method.

In-process (tests)::

    async with BotApiStub() as stub:
        app = build_application(stub.token, ..., api_base_url=stub.url)
        alice = User(111, language_code="ja")
        stub.send_command(alice, "start")
        await stub.wait_for(lambda: stub.texts(alice.id))

As a separate process (benchmarks, kill -9 tests)::

    python -m tests.botapi_stub --port 0      # prints the port, then serves

and drive it over HTTP with the control API under ``/_stub/`` (see ``botapi_http.ControlHandler``).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable
from typing import Any

import tornado.httpserver
import tornado.netutil
import tornado.web

from tests import botapi_checks as checks
from tests.botapi_http import ApiHandler, ControlHandler, FileHandler
from tests.botapi_methods import (
    FAULT_KINDS,
    TOKEN,
    BotApi,
    Call,
    Fault,
    Message,
    User,
)

__all__ = ["TOKEN", "BotApiStub", "Call", "Message", "User", "checks", "main"]


class BotApiStub(BotApi):
    """The stand-in server plus the test's view of every chat it has seen."""

    def __init__(self, **options: Any) -> None:
        """Options as for BotApi: token, username, first_update_id, callback_answer_timeout."""
        super().__init__(**options)
        self._server: tornado.httpserver.HTTPServer | None = None
        self.port = 0

    # -- lifecycle ----------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> BotApiStub:
        self._changed = asyncio.Event()
        app = tornado.web.Application(
            [
                (r"/_stub/(\w+)/?(.*)", ControlHandler, {"stub": self}),
                (r"/file/bot([^/]+)/(.*)", FileHandler, {"stub": self}),
                (r"/bot([^/]+)/(\w+)", ApiHandler, {"stub": self}),
            ],
            log_function=lambda handler: None,
        )
        self._server = tornado.httpserver.HTTPServer(app)
        sockets = tornado.netutil.bind_sockets(port, address=host)
        self._server.add_sockets(sockets)
        self.port = sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            await self._server.close_all_connections()
            self._server = None

    async def __aenter__(self) -> BotApiStub:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        """The server root, e.g. ``http://127.0.0.1:PORT`` (what ``--api-base-url`` takes)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """PTB's ``base_url``: the token is appended to it."""
        return f"{self.url}/bot"

    # -- faults -------------------------------------------------------------------

    def fail(
        self,
        method: str,
        kind: str,
        *,
        times: int = 1,
        retry_after: int = 1,
        description: str | None = None,
        seconds: float = 0.0,
    ) -> None:
        """Make the next `times` calls to `method` fail.

        kinds: ``retry_after`` (429 + parameters.retry_after), ``blocked`` (403 bot was
        blocked), ``not_modified`` (400), ``bad_gateway`` (502), ``bad_request`` (400 with
        `description`), ``slow`` (answer normally after `seconds`, to provoke TimedOut).
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {FAULT_KINDS}")
        fault = Fault(kind, times, retry_after, description, seconds)
        self._faults.setdefault(method.lower(), []).append(fault)

    def block(self, user_id: int, blocked: bool = True) -> None:
        """The person blocks (or unblocks) the bot: sends to them get 403 until unblocked."""
        (self.blocked.add if blocked else self.blocked.discard)(user_id)

    # -- updates ------------------------------------------------------------------

    def enqueue(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue a raw update (an ``update_id`` is assigned when missing); returns it.

        Enqueueing the same dict twice delivers a duplicate with the same update_id.
        """
        update.setdefault("update_id", next(self._update_ids))
        self._queue.append(update)
        self._notify()
        return update

    @property
    def pending_updates(self) -> int:
        return len(self._queue)

    def send_text(self, user: User, text: str) -> int:
        """The person types `text`; returns the new message's id."""
        msg = self._incoming(user, text=text)
        self.enqueue({"message": msg})
        return msg["message_id"]

    def send_command(self, user: User, name: str, arg: str | None = None) -> int:
        """The person sends ``/name [arg]`` with a bot_command entity."""
        text = f"/{name}" + (f" {arg}" if arg else "")
        entity = {"offset": 0, "length": len(name) + 1, "type": "bot_command"}
        msg = self._incoming(user, text=text, entities=[entity])
        self.enqueue({"message": msg})
        return msg["message_id"]

    def send_media(self, user: User, kind: str = "photo", caption: str | None = None) -> int:
        """The person sends a photo, video, document, voice, video_note, animation, audio,
        sticker, location or contact. Returns the message id."""
        file = {"file_id": f"FILE-{kind}-{next(self._seq)}", "file_unique_id": f"U{kind}"}
        payload: dict[str, Any] = {
            "photo": {
                "photo": [
                    dict(file, width=90, height=90, file_size=1000),
                    dict(file, width=1280, height=960, file_size=90000),
                ]
            },
            "video": {"video": dict(file, width=640, height=480, duration=3)},
            "document": {"document": dict(file, file_name="scan.pdf")},
            "voice": {"voice": dict(file, duration=2)},
            "video_note": {"video_note": dict(file, length=240, duration=2)},
            "animation": {"animation": dict(file, width=320, height=240, duration=1)},
            "audio": {"audio": dict(file, duration=30)},
            "sticker": {
                "sticker": dict(
                    file, width=512, height=512, type="regular", is_animated=False, is_video=False
                )
            },
            "location": {"location": {"latitude": 35.68, "longitude": 139.76}},
            "contact": {"contact": {"phone_number": "+810000000000", "first_name": "X"}},
        }[kind]
        if caption is not None:
            payload["caption"] = caption
        msg = self._incoming(user, kind=kind, **payload)
        self.enqueue({"message": msg})
        return msg["message_id"]

    def press(
        self,
        user: User,
        data: str,
        *,
        message_id: int | None = None,
        inaccessible: bool = False,
    ) -> str:
        """The person presses a button carrying `data`; returns the callback query id.

        The pressed message is the newest bot message with that button, or `message_id`,
        or (forged data) the newest bot message in the chat. `inaccessible` sends an
        InaccessibleMessage (date 0), as Telegram does for old messages.
        """
        chat = self._chat(user)
        message = self._find_pressed(user.id, data, message_id)
        query_id = f"cbq-{user.id}-{next(self._callback_ids)}"
        if inaccessible or message is None:
            msg_json: dict[str, Any] = {
                "message_id": message.message_id if message else 1,
                "chat": chat,
                "date": 0,
            }
        else:
            msg_json = self._message_json(message, chat)
        self._callbacks[query_id] = {"at": time.monotonic(), "answered": False}
        self.enqueue(
            {
                "callback_query": {
                    "id": query_id,
                    "from": user.as_json(),
                    "chat_instance": f"ci-{user.id}",
                    "data": data,
                    "message": msg_json,
                }
            }
        )
        return query_id

    def press_label(self, user: User, label: str) -> str:
        """Press the button labelled `label` (a ✅ tick mark ignored; else the first label
        containing it) on the newest visible message that has one."""

        def same(text: str) -> bool:
            return text == label or text.removeprefix("✅ ") == label

        for matches in (same, lambda text: label in text):
            for msg in reversed(self.bot_messages(user.id)):
                for text, data in msg.buttons:
                    if matches(text):
                        return self.press(user, data, message_id=msg.message_id)
        raise LookupError(f"no visible button labelled {label!r}; have {self.buttons(user.id)}")

    def user_blocks_bot(self, user: User) -> None:
        """Block, as Telegram reports it: a my_chat_member update with status kicked."""
        self.block(user.id)
        self.enqueue({"my_chat_member": self._member_update(self._chat(user), user, "kicked")})

    def send_group_text(
        self,
        user: User,
        text: str,
        *,
        chat_id: int = -1001234567890,
        chat_type: str = "supergroup",
    ) -> int:
        """`user` writes `text` in a group the bot is in."""
        chat = {"id": chat_id, "type": chat_type, "title": "A group"}
        self.chats[chat_id] = chat
        message_id = self._new_message_id(chat_id)
        self.messages.setdefault(chat_id, []).append(Message(message_id, chat_id, False, text))
        entities = None
        if text.startswith("/"):
            entities = [{"offset": 0, "length": len(text.split()[0]), "type": "bot_command"}]
        msg = {
            "message_id": message_id,
            "from": user.as_json(),
            "chat": chat,
            "date": int(time.time()),
            "text": text,
        }
        if entities:
            msg["entities"] = entities
        self.enqueue({"message": msg})
        return message_id

    def add_to_group(self, user: User, *, chat_id: int = -1001234567890) -> None:
        """`user` adds the bot to a group (my_chat_member: left → member)."""
        chat = {"id": chat_id, "type": "supergroup", "title": "A group"}
        self.chats[chat_id] = chat
        self.enqueue({"my_chat_member": self._member_update(chat, user, "member")})

    # -- what the test looks at ---------------------------------------------------

    def calls_to(self, method: str, **params: Any) -> list[Call]:
        """Recorded calls to `method` (case-insensitive) whose params include `params`."""
        m = method.lower()
        return [
            c
            for c in self.calls
            if c.method.lower() == m and all(c.params.get(k) == v for k, v in params.items())
        ]

    def bot_messages(self, chat_id: int, *, include_deleted: bool = False) -> list[Message]:
        return [
            m
            for m in self.messages.get(chat_id, [])
            if m.from_bot and (include_deleted or not m.deleted)
        ]

    def texts(self, chat_id: int) -> list[str]:
        """What the person sees from the bot, oldest first (documents as their filename)."""
        return [
            m.text if m.text is not None else f"[{m.document[0] if m.document else m.kind}]"
            for m in self.bot_messages(chat_id)
        ]

    def last(self, chat_id: int) -> Message:
        msgs = self.bot_messages(chat_id)
        if not msgs:
            raise LookupError(f"the bot has sent nothing visible to chat {chat_id}")
        return msgs[-1]

    def buttons(self, chat_id: int) -> list[tuple[str, str]]:
        """Buttons on the newest bot message that has any."""
        for msg in reversed(self.bot_messages(chat_id)):
            if msg.buttons:
                return msg.buttons
        return []

    def message(self, chat_id: int, message_id: int) -> Message:
        for msg in self.messages.get(chat_id, []):
            if msg.message_id == message_id:
                return msg
        raise LookupError(f"no message {message_id} in chat {chat_id}")

    def unanswered_callbacks(self) -> list[str]:
        return [qid for qid, q in self._callbacks.items() if not q["answered"]]

    async def wait_for(
        self, predicate: Callable[[], Any], *, timeout: float = 60.0, what: str = "condition"
    ) -> Any:
        """Wait until `predicate()` is truthy (re-checked on every call and every 50 ms).

        `timeout` is a hang guard (generous: tests run on busy machines), not a speed limit.
        """
        assert self._changed is not None, "start the stub first"
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                recent = ", ".join(f"{c.method}:{c.status}" for c in self.calls[-15:])
                raise AssertionError(
                    f"timed out after {timeout}s waiting for {what}; last calls: {recent}"
                )
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.05))
            except TimeoutError:
                pass

    async def wait_idle(self, *, quiet: float = 0.3, timeout: float = 60.0) -> None:
        """Wait until every queued update was fetched and no call came for `quiet` s."""

        def idle() -> bool:
            last = max(self._last_busy_at, self._last_delivery_at)
            return not self._queue_unfetched() and time.monotonic() - last >= quiet

        await self.wait_for(idle, timeout=timeout, what="the bot to go idle")


async def _serve_forever(port: int, token: str) -> None:
    stub = BotApiStub(token=token)
    await stub.start(port=port)
    print(stub.port, flush=True)
    await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Loopback stand-in for the Telegram Bot API.")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed)")
    parser.add_argument("--token", default=TOKEN)
    args = parser.parse_args(argv)
    try:
        asyncio.run(_serve_forever(args.port, args.token))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
