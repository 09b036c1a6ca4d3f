"""The Bot API side of the loopback stand-in: chats, messages and the methods.

`BotApi` holds what a real server would know (chats, messages as they stand after
edits and deletions, queued updates, pending callback queries) and answers each
method the way Telegram does, limits included (`botapi_checks`). The HTTP layer is
in `botapi_http`; the test-facing API in `botapi_stub`.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from tests import botapi_checks as checks

TOKEN = "123456:TEST-stub-token-not-a-real-one_0000"
BOT_USERNAME = "kakekomi_test_bot"
FAULT_KINDS = ("retry_after", "blocked", "not_modified", "bad_gateway", "bad_request", "slow")


@dataclass(frozen=True)
class User:
    """A Telegram user talking to the bot in a private chat (chat id = user id)."""

    id: int
    first_name: str = "Test"
    language_code: str | None = "ja"

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.language_code:
            out["language_code"] = self.language_code
        return out


@dataclass
class Call:
    """One request the bot made: method name as sent, decoded params, what it got back."""

    seq: int
    method: str
    params: dict[str, Any]
    status: int
    result: Any
    at: float
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == 200

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["files"] = {k: {"filename": n, "size": len(b)} for k, (n, b) in self.files.items()}
        return out


@dataclass
class Message:
    """A message as it currently stands in a chat (edits applied, deletion marked)."""

    message_id: int
    chat_id: int
    from_bot: bool
    text: str | None = None  # what the person sees (HTML parsed)
    raw: str | None = None  # what was sent
    reply_markup: dict | None = None
    document: tuple[str, bytes] | None = None
    kind: str = "text"
    deleted: bool = False
    edits: int = 0

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """(label, callback_data) of every inline button, row by row."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [(b["text"], b.get("callback_data", "")) for row in rows for b in row]


@dataclass
class Fault:
    kind: str
    remaining: int
    retry_after: int = 1
    description: str | None = None
    seconds: float = 0.0


class BotApi:
    """What the server knows, and the Bot API methods over it (``_api_<lowercase name>``)."""

    def __init__(
        self,
        *,
        token: str = TOKEN,
        username: str = BOT_USERNAME,
        first_update_id: int = 1000,
        callback_answer_timeout: float = 15.0,
    ) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.username = username
        self.callback_answer_timeout = callback_answer_timeout
        self.calls: list[Call] = []
        self.chats: dict[int, dict[str, Any]] = {}
        self.messages: dict[int, list[Message]] = {}
        self.webhook: dict[str, Any] | None = None
        self.commands: dict[str, list[dict]] = {}
        self.blocked: set[int] = set()
        self.left: set[int] = set()
        self._queue: list[dict[str, Any]] = []
        self._update_ids = itertools.count(first_update_id)
        self._next_message_id: dict[int, int] = {}
        self._callbacks: dict[str, dict[str, Any]] = {}
        self._callback_ids = itertools.count(1)
        self._faults: dict[str, list[Fault]] = {}
        self._seq = itertools.count(1)
        self._last_busy_at = 0.0  # last call other than getUpdates
        self._last_delivery_at = 0.0  # last getUpdates that delivered something
        self._changed: asyncio.Event | None = None

    # -- internals: chats and messages ----------------------------------------------

    def _notify(self) -> None:
        if self._changed is not None:
            self._changed.set()

    def _queue_unfetched(self) -> bool:
        return any(u.get("_fetched") is None for u in self._queue)

    def _chat(self, user: User) -> dict[str, Any]:
        chat = {"id": user.id, "type": "private", "first_name": user.first_name}
        self.chats.setdefault(user.id, chat)
        return chat

    def _new_message_id(self, chat_id: int) -> int:
        # In a private chat both sides share one counter, as on Telegram.
        nxt = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = nxt + 1
        return nxt

    def _incoming(self, user: User, *, kind: str = "text", **fields: Any) -> dict[str, Any]:
        chat = self._chat(user)
        message_id = self._new_message_id(user.id)
        self.messages.setdefault(user.id, []).append(
            Message(message_id, user.id, False, fields.get("text"), kind=kind)
        )
        return {
            "message_id": message_id,
            "from": user.as_json(),
            "chat": chat,
            "date": int(time.time()),
            **fields,
        }

    def _bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "Kakekomi Test",
            "username": self.username,
        }

    def _member_update(self, chat: dict, user: User, status: str) -> dict[str, Any]:
        old = "member" if status == "kicked" else "left"
        bot = self._bot_user()
        new_member: dict[str, Any] = {"status": status, "user": bot}
        if status == "kicked":
            new_member["until_date"] = 0
        return {
            "chat": chat,
            "from": user.as_json(),
            "date": int(time.time()),
            "old_chat_member": {"status": old, "user": bot},
            "new_chat_member": new_member,
        }

    def _message_json(self, msg: Message, chat: dict | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "message_id": msg.message_id,
            "from": self._bot_user(),
            "chat": chat or self.chats.get(msg.chat_id, {"id": msg.chat_id, "type": "private"}),
            "date": int(time.time()),
        }
        if msg.document is not None:
            out["document"] = {
                "file_id": f"DOC-{msg.message_id}",
                "file_unique_id": "D",
                "file_name": msg.document[0],
                "file_size": len(msg.document[1]),
            }
            if msg.text:
                out["caption"] = msg.text
        else:
            out["text"] = msg.text or ""
        if msg.edits:
            out["edit_date"] = int(time.time())
        if msg.reply_markup and msg.reply_markup.get("inline_keyboard"):
            out["reply_markup"] = msg.reply_markup
        return out

    def _find_pressed(self, chat_id: int, data: str, message_id: int | None) -> Message | None:
        msgs = self.bot_messages(chat_id)
        if message_id is not None:
            return next((m for m in msgs if m.message_id == message_id), None)
        for msg in reversed(msgs):
            if any(d == data for _, d in msg.buttons):
                return msg
        return msgs[-1] if msgs else None

    def _bot_message(self, chat_id: int, message_id: Any, verb: str) -> Message:
        for msg in self.messages.get(chat_id, []):
            if msg.message_id == message_id and not msg.deleted:
                if not msg.from_bot and verb == "edit":
                    raise checks.bad_request("message can't be edited")
                return msg
        raise checks.bad_request(f"message to {verb} not found")

    def _target_chat(self, params: dict[str, Any]) -> int:
        chat_id = params.get("chat_id")
        if not isinstance(chat_id, int) or chat_id not in self.chats:
            raise checks.bad_request("chat not found")
        if chat_id in self.blocked:
            raise checks.ApiError(403, "Forbidden: bot was blocked by the user")
        if chat_id in self.left:
            raise checks.ApiError(403, "Forbidden: bot is not a member of the supergroup chat")
        return chat_id

    # -- internals: the API -----------------------------------------------------------

    async def handle_call(
        self, method: str, params: dict[str, Any], files: dict[str, tuple[str, bytes]]
    ) -> tuple[int, dict[str, Any]]:
        """Answer one Bot API call, record it, and return (HTTP status, JSON body)."""
        try:
            await self._apply_fault(method)
            impl = getattr(self, f"_api_{method.lower()}", None)
            if impl is None:
                raise checks.ApiError(404, "Not Found: method not found")
            result = await impl(params, files)
            status, body = 200, {"ok": True, "result": result}
        except checks.ApiError as err:
            status, body, result = err.status, err.body(), err.description
        now = time.monotonic()
        self.calls.append(Call(next(self._seq), method, params, status, result, now, files))
        if method.lower() != "getupdates":
            self._last_busy_at = now
        self._notify()
        return status, body

    async def _apply_fault(self, method: str) -> None:
        faults = self._faults.get(method.lower())
        if not faults:
            return
        fault = faults[0]
        fault.remaining -= 1
        if fault.remaining <= 0:
            faults.pop(0)
        if fault.kind == "slow":
            await asyncio.sleep(fault.seconds)
            return
        raise {
            "retry_after": checks.ApiError(
                429,
                f"Too Many Requests: retry after {fault.retry_after}",
                {"retry_after": fault.retry_after},
            ),
            "blocked": checks.ApiError(403, "Forbidden: bot was blocked by the user"),
            "not_modified": _not_modified(),
            "bad_gateway": checks.ApiError(502, "Bad Gateway"),
            "bad_request": checks.bad_request(fault.description or "injected"),
        }[fault.kind]

    async def _api_getme(self, params: dict, files: dict) -> dict:
        return dict(
            self._bot_user(),
            can_join_groups=True,
            can_read_all_group_messages=False,
            supports_inline_queries=False,
        )

    async def _api_getupdates(self, params: dict, files: dict) -> list[dict]:
        if self.webhook:
            raise checks.ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is "
                "active; use deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset") or 0)
        limit = max(1, min(int(params.get("limit") or 100), 100))
        timeout = max(0.0, min(float(params.get("timeout") or 0), 50.0))
        if offset > 0:  # confirms every update below offset
            self._queue = [u for u in self._queue if u["update_id"] >= offset]
        elif offset < 0:
            self._queue = self._queue[offset:]
        deadline = time.monotonic() + timeout
        while not self._queue and time.monotonic() < deadline:
            assert self._changed is not None
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), deadline - time.monotonic())
            except TimeoutError:
                break
        batch = self._queue[:limit]
        now = time.monotonic()
        if batch:
            self._last_delivery_at = now
        for update in batch:
            update.setdefault("_fetched", now)
            if "callback_query" in update:  # the answer clock starts on delivery
                self._callbacks[update["callback_query"]["id"]]["at"] = now
        return [{k: v for k, v in u.items() if not k.startswith("_")} for u in batch]

    async def _api_deletewebhook(self, params: dict, files: dict) -> bool:
        self.webhook = None
        if params.get("drop_pending_updates"):
            self._queue.clear()
        return True

    async def _api_setwebhook(self, params: dict, files: dict) -> bool:
        url = params.get("url") or ""
        secret = params.get("secret_token")
        if secret is not None and not all(c.isalnum() or c in "_-" for c in secret):
            raise checks.bad_request("secret token contains unallowed characters")
        self.webhook = {"url": url, "secret_token": secret} if url else None
        return True

    async def _api_getwebhookinfo(self, params: dict, files: dict) -> dict:
        return {
            "url": (self.webhook or {}).get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._queue),
        }

    async def _api_sendmessage(self, params: dict, files: dict) -> dict:
        chat_id = self._target_chat(params)
        text = checks.check_text(params.get("text"), params.get("parse_mode"))
        markup = checks.check_reply_markup(params.get("reply_markup"))
        msg = Message(
            self._new_message_id(chat_id),
            chat_id,
            True,
            text,
            raw=params.get("text"),
            reply_markup=markup,
        )
        self.messages.setdefault(chat_id, []).append(msg)
        return self._message_json(msg)

    async def _api_senddocument(self, params: dict, files: dict) -> dict:
        chat_id = self._target_chat(params)
        document = params.get("document")
        upload = files.get("document")
        if isinstance(document, str) and document.startswith("attach://"):
            upload = files.get(document[len("attach://") :])
        if upload is None:
            raise checks.bad_request("there is no document in the request")
        caption = checks.check_caption(params.get("caption"), params.get("parse_mode"))
        markup = checks.check_reply_markup(params.get("reply_markup"))
        msg = Message(
            self._new_message_id(chat_id),
            chat_id,
            True,
            caption,
            raw=params.get("caption"),
            reply_markup=markup,
            document=upload,
            kind="document",
        )
        self.messages.setdefault(chat_id, []).append(msg)
        return self._message_json(msg)

    async def _api_editmessagetext(self, params: dict, files: dict) -> dict:
        chat_id = self._target_chat(params)
        msg = self._bot_message(chat_id, params.get("message_id"), "edit")
        if msg.document is not None:
            raise checks.bad_request("there is no text in the message to edit")
        text = checks.check_text(params.get("text"), params.get("parse_mode"))
        # Omitting reply_markup removes the inline keyboard, as on Telegram.
        markup = checks.check_reply_markup(params.get("reply_markup"))
        if text == msg.text and (markup or None) == (msg.reply_markup or None):
            raise _not_modified()
        msg.text, msg.raw, msg.reply_markup = text, params.get("text"), markup
        msg.edits += 1
        return self._message_json(msg)

    async def _api_editmessagereplymarkup(self, params: dict, files: dict) -> dict:
        chat_id = self._target_chat(params)
        msg = self._bot_message(chat_id, params.get("message_id"), "edit")
        markup = checks.check_reply_markup(params.get("reply_markup"))
        if (markup or None) == (msg.reply_markup or None):
            raise _not_modified()
        msg.reply_markup = markup
        msg.edits += 1
        return self._message_json(msg)

    async def _api_answercallbackquery(self, params: dict, files: dict) -> bool:
        checks.check_callback_answer_text(params.get("text"))
        query = self._callbacks.get(str(params.get("callback_query_id")))
        too_old = (
            query is None
            or query["answered"]
            or (time.monotonic() - query["at"] > self.callback_answer_timeout)
        )
        if too_old:
            raise checks.bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        query["answered"] = True
        return True

    async def _api_deletemessage(self, params: dict, files: dict) -> bool:
        chat_id = self._target_chat(params)
        msg = self._bot_message(chat_id, params.get("message_id"), "delete")
        msg.deleted = True
        return True

    async def _api_deletemessages(self, params: dict, files: dict) -> bool:
        chat_id = self._target_chat(params)
        ids = params.get("message_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise checks.bad_request("message_ids must contain 1-100 identifiers")
        for msg in self.messages.get(chat_id, []):
            if msg.message_id in ids:  # ids that cannot be found are skipped
                msg.deleted = True
        return True

    async def _api_setmycommands(self, params: dict, files: dict) -> bool:
        commands = checks.check_commands(params.get("commands"), params.get("language_code"))
        self.commands[params.get("language_code") or ""] = commands
        return True

    async def _api_deletemycommands(self, params: dict, files: dict) -> bool:
        self.commands.pop(params.get("language_code") or "", None)
        return True

    async def _api_leavechat(self, params: dict, files: dict) -> bool:
        chat_id = params.get("chat_id")
        if chat_id not in self.chats:
            raise checks.bad_request("chat not found")
        self.left.add(chat_id)
        return True

    async def _api_sendchataction(self, params: dict, files: dict) -> bool:
        self._target_chat(params)
        return True

    async def _api_getfile(self, params: dict, files: dict) -> dict:
        # Recorded like every call, so a test can assert the bot never asked for media.
        file_id = str(params.get("file_id"))
        return {
            "file_id": file_id,
            "file_unique_id": "U",
            "file_size": 4,
            "file_path": f"files/{file_id}.bin",
        }


def _not_modified() -> checks.ApiError:
    return checks.bad_request(
        "message is not modified: specified new message content and reply markup are "
        "exactly the same as a current content and reply markup of the message"
    )
