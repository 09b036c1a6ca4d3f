"""The terminal chat: the same engine, one line in and plain text out.

Works interactively and with piped input (one answer a line); ends at end of input.
A number picks a shown button; anything else goes to the engine as text.
"""

from __future__ import annotations

import asyncio
import sys
from typing import TextIO

from .._engine import Dialogue
from .._events import Button, Event, Reply


class TerminalChat:
    """Reads lines from `inp`, writes replies to `out`."""

    def __init__(self, dialogue: Dialogue, key: str, *, lang: str, inp: TextIO = sys.stdin,
                 out: TextIO = sys.stdout):
        self.dialogue = dialogue
        self.key = key
        self.lang = lang
        self.inp = inp
        self.out = out
        self.buttons: list[Button] = []
        self._next_id = 1

    def _id(self) -> int:
        self._next_id += 1
        return self._next_id

    async def _send(self, reply: Reply) -> list[int]:
        ids = []
        if reply.delete and self.out.isatty():
            self.out.write("\033[2J\033[H")
        if reply.delete and not reply.messages:
            self.out.write("— " + self.dialogue.content.locales.text(reply.lang, "engine.exit_done") + "\n")
        for message in reply.messages:
            if message.text:
                self.out.write("\n" + message.text + "\n")
            if message.document:
                doc = message.document
                self.out.write(f"\n[{doc.filename}]\n{doc.content.decode('utf-8')}\n")
            if message.buttons:
                self.buttons = [b for row in message.buttons for b in row]
                for number, button in enumerate(self.buttons, 1):
                    self.out.write(f"  {number}) {button.label}\n")
            ids.append(self._id())
        self.out.flush()
        return ids

    def to_event(self, line: str) -> Event:
        text = line.strip()
        msg_id = self._id()
        if text.startswith("/") and len(text) > 1:
            name, _, arg = text[1:].partition(" ")
            return Event.command(name, arg or None, message_id=msg_id, lang_hint=self.lang)
        if text.isdigit() and 1 <= int(text) <= len(self.buttons):
            return Event.button(self.buttons[int(text) - 1].data, message_id=msg_id)
        return Event.text(text, message_id=msg_id, lang_hint=self.lang)

    async def run(self, first: Event | None = None) -> None:
        await self.dialogue.handle(self.key, first or Event.command("resume", lang_hint=self.lang),
                                   self._send)
        loop = asyncio.get_running_loop()
        while True:
            if self.inp.isatty():
                self.out.write("> ")
                self.out.flush()
            line = await loop.run_in_executor(None, self.inp.readline)
            if not line:
                break
            if not line.strip():
                continue
            await self.dialogue.handle(self.key, self.to_event(line), self._send)
