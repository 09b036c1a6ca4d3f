"""Helpers for the reliability tests: people sharing one engine, reply checks, a fake Bot.

`Person` is `tests.helpers.Chat` (the one engine driver) joined to a shared `Dialogue`, so
one test can show that a fault for one person leaves the others served. `check_reply` holds
an engine reply to Telegram's limits. Why `CheckingBot` is a separate tool: it drives nothing;
it checks what the Telegram channel renders from a reply (HTML, keyboards), where `Person`
and `Chat` only see the engine's reply.
`CheckingBot` stands in for telegram.Bot under the channel's `ReplySender`: every call is
validated with the stand-in server's own rules (`botapi_checks`), so a reply that the
real Bot API would refuse (bad HTML, empty or too long text, bad button data) fails here.
"""

from __future__ import annotations

import html
import itertools
from dataclasses import dataclass, field
from typing import Any

from bot import Dialogue, Event, Reply
from bot.answers import utf16_len
from tests import botapi_checks as checks
from tests.helpers import Chat

SECRET = bytes(range(32))
TEXT_MAX_UTF16 = 4096
DATA_MAX_BYTES = 64


class Person(Chat):
    """One person on a Dialogue shared with others: the engine driver of tests/helpers.py.

    What differs from `Chat`, on purpose: it joins an existing Dialogue (its clock and
    store belong to the test), `last` is the newest reply actually sent, `press` reads the
    newest reply that still shows buttons (what a person sees after an apology without
    buttons), and button data carries the language hint as Telegram's inbound does.
    """

    def __init__(self, dialogue: Dialogue, name: str, lang: str = "ja"):
        super().__init__(dialogue, dialogue.store.pseudonym("test", name), lang, clock=[])

    @property
    def replies(self) -> list[Reply]:
        return self.sent

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """(label, data) of the newest reply with buttons: what is still on screen."""
        for reply in reversed(self.sent):
            if reply.buttons:
                return [(b.label, b.data) for b in reply.buttons]
        return []

    async def event(self, event: Event) -> Reply:
        returned = await self.dialogue.handle(self.key, event, self._send)
        self.last = self.sent[-1] if self.sent else returned
        return returned

    async def data(self, data: str) -> Reply:
        return await self.event(Event.button(data, lang_hint=self.lang))

    async def press(self, key_or_label: str) -> Reply:
        """Press the button whose label is the text of `key_or_label` (or that label)."""
        locales = self.dialogue.content.locales
        want = locales.text(self.last.lang, key_or_label) if locales.has(key_or_label) \
            else key_or_label
        for label, data in self.buttons:
            if label == want or label.removeprefix("✅ ") == want:
                return await self.data(data)
        raise AssertionError(f"no button {want!r}; shown: {[lb for lb, _ in self.buttons]}")

    async def record(self) -> dict[str, Any] | None:  # type: ignore[override]
        return await self.dialogue.store.load(self.key)


def check_reply(reply: Reply) -> None:
    """What Telegram would refuse, checked on the engine's reply itself."""
    for message in reply.messages:
        assert message.text or message.document is not None, "an empty message"
        if message.text:
            assert message.text.strip(), f"a blank message: {message.text!r}"
            assert utf16_len(message.text) <= TEXT_MAX_UTF16, "a message over 4096 units"
        for row in message.buttons:
            assert row, "an empty button row"
            for button in row:
                assert 1 <= len(button.data.encode()) <= DATA_MAX_BYTES, button.data
                assert button.label.strip(), f"a blank label ({button.data})"
        if message.buttons:
            assert sum(len(r) for r in message.buttons) <= checks.KEYBOARD_MAX_BUTTONS


@dataclass
class SentMessage:
    message_id: int
    raw: str | None  # what was sent (HTML)
    visible: str | None  # what the person sees
    markup: dict | None = None
    document: str | None = None


@dataclass
class _Result:
    message_id: int


@dataclass
class CheckingBot:
    """Duck-typed telegram.Bot for ReplySender: validates like the Bot API, records."""

    chat_id: int = 111
    sent: list[SentMessage] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    _ids: Any = field(default_factory=lambda: itertools.count(500))

    def _markup(self, reply_markup: Any) -> dict | None:
        if reply_markup is None:
            return None
        return checks.check_reply_markup(reply_markup.to_dict())

    async def send_message(self, chat_id: int, text: str, *, parse_mode: Any = None,
                           reply_markup: Any = None, **_: Any) -> _Result:
        self.calls.append("sendMessage")
        assert chat_id == self.chat_id
        visible = checks.check_text(text, str(parse_mode) if parse_mode else None)
        message = SentMessage(next(self._ids), text, visible, self._markup(reply_markup))
        self.sent.append(message)
        return _Result(message.message_id)

    async def send_document(self, chat_id: int, document: Any, *, caption: str | None = None,
                            parse_mode: Any = None, reply_markup: Any = None,
                            **_: Any) -> _Result:
        self.calls.append("sendDocument")
        visible = checks.check_caption(caption, str(parse_mode) if parse_mode else None)
        message = SentMessage(next(self._ids), caption, visible, self._markup(reply_markup),
                              document=getattr(document, "filename", "document"))
        self.sent.append(message)
        return _Result(message.message_id)

    async def edit_message_text(self, text: str, *, chat_id: int, message_id: int,
                                parse_mode: Any = None, **_: Any) -> _Result:
        self.calls.append("editMessageText")
        checks.check_text(text, str(parse_mode) if parse_mode else None)
        return _Result(message_id)

    async def edit_message_reply_markup(self, *, chat_id: int, message_id: int,
                                        reply_markup: Any = None, **_: Any) -> _Result:
        self.calls.append("editMessageReplyMarkup")
        return _Result(message_id)

    async def delete_messages(self, chat_id: int, message_ids: list[int], **_: Any) -> bool:
        self.calls.append("deleteMessages")
        assert 1 <= len(message_ids) <= 100
        return True

    async def delete_message(self, chat_id: int, message_id: int, **_: Any) -> bool:
        self.calls.append("deleteMessage")
        assert isinstance(message_id, int) and message_id > 0
        return True

    async def answer_callback_query(self, callback_query_id: str, text: str | None = None,
                                    **_: Any) -> bool:
        self.calls.append("answerCallbackQuery")
        checks.check_callback_answer_text(text)
        return True


def unescaped(raw: str) -> str:
    return html.unescape(raw)
