"""A chat you can drive from a test: press buttons by locale key, type, read replies.

    chat = await Chat.start(lang="en", now="2026-11-29T02:00+09:00")
    await chat.press("menu.after_sending")      # by locale key (or by the label itself)
    await chat.type("yesterday 23:10")
    assert "after.dont.pay" in chat.keys        # locale keys shown in the last reply

The one engine driver: the reliability tests' `Person` (tests/reliability_helpers.py) is
this class joined to a Dialogue shared by several people.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from bot import Content, Dialogue, Event, Reply, load_content
from storage import MemoryStore

ROOT = Path(__file__).resolve().parent.parent
VISITED: set[tuple[str, str]] = set()  # every (flow, state) any test reached: flow coverage
_CONTENT: Content | None = None


def content() -> Content:
    """The repository's content, loaded once per test session."""
    global _CONTENT
    if _CONTENT is None:
        _CONTENT = load_content(ROOT)
    return _CONTENT


def _record(flow: str, state: str) -> None:
    VISITED.add((flow, state))


class Chat:
    """One person talking to the engine, with a fixed clock."""

    def __init__(self, dialogue: Dialogue, key: str, lang: str, clock: list[datetime]):
        self.dialogue = dialogue
        self.key = key
        self.lang = lang
        self._clock = clock
        self.last = Reply()
        self.sent: list[Reply] = []
        self._msg = 100

    @classmethod
    async def start(cls, lang: str = "ja", now: str = "2026-11-25T21:00+09:00", *,
                    content_: Content | None = None, store: Any = None, user: str = "tester",
                    command: str | None = "start") -> Chat:
        clock = [datetime.fromisoformat(now)]
        store = store or MemoryStore(secret=b"test-secret")
        dialogue = Dialogue(content_ or content(), store, clock=lambda: clock[0], on_visit=_record)
        chat = cls(dialogue, store.pseudonym("test", user), lang, clock)
        if command:
            await chat.command(command)
        return chat

    @property
    def now(self) -> datetime:
        return self._clock[0]

    @now.setter
    def now(self, value: str | datetime) -> None:
        self._clock[0] = datetime.fromisoformat(value) if isinstance(value, str) else value

    async def _send(self, reply: Reply) -> list[int]:
        self.sent.append(reply)
        ids = []
        for _ in reply.messages:
            self._msg += 1
            ids.append(self._msg)
        return ids

    async def event(self, event: Event) -> Reply:
        self.last = await self.dialogue.handle(self.key, event, self._send)
        return self.last

    def _id(self) -> int:
        self._msg += 1
        return self._msg

    async def command(self, name: str, arg: str | None = None) -> Reply:
        return await self.event(Event.command(name, arg, message_id=self._id(),
                                              lang_hint=self.lang))

    async def type(self, text: str) -> Reply:
        return await self.event(Event.text(text, message_id=self._id(), lang_hint=self.lang))

    async def media(self, kind: str = "photo") -> Reply:
        return await self.event(Event.media(kind, message_id=self._id()))

    async def data(self, data: str) -> Reply:
        return await self.event(Event.button(data, message_id=self._id()))

    def t(self, key: str) -> str:
        return self.dialogue.content.locales.text(self.record_lang, key)

    @property
    def record_lang(self) -> str:
        return self.last.lang or self.lang

    @property
    def labels(self) -> list[str]:
        return [b.label for b in self.last.buttons]

    @property
    def keys(self) -> list[str]:
        return self.last.keys

    @property
    def text(self) -> str:
        return self.last.text

    def button_for(self, key_or_label: str):
        is_key = self.dialogue.content.locales.has(key_or_label)
        want = self.t(key_or_label) if is_key else key_or_label
        for button in self.last.buttons:
            if button.label == want or button.label.removeprefix("✅ ") == want:
                return button
        raise AssertionError(f"no button {key_or_label!r} ({want!r}); shown: {self.labels}")

    async def press(self, key_or_label: str) -> Reply:
        return await self.data(self.button_for(key_or_label).data)

    async def walk(self, *keys: str) -> Reply:
        for key in keys:
            await self.press(key)
        return self.last

    async def record(self) -> dict[str, Any]:
        return await self.dialogue.store.load(self.key)

    async def position(self) -> tuple[str, str]:
        record = await self.record()
        return record["flow"], record["state"]

    async def slots(self) -> dict[str, Any]:
        return (await self.record())["slots"]
