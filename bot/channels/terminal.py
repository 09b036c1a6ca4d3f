"""The terminal chat: the same engine, one line in and plain text out.

Works interactively and with piped input (one answer a line); ends at end of input.
A number picks a shown button; anything else goes to the engine as text.

Input is untrusted bytes: invalid UTF-8 is decoded with U+FFFD in its place, and the
event cleans what is left (control characters, length; see ``bot.engine._events.clean_text``).
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import replace
from typing import TextIO

from ..engine import MAX_TEXT, Button, Dialogue, Event, Reply, small_number


class TerminalChat:
    """Reads lines from `inp`, writes replies to `out`."""

    def __init__(self, dialogue: Dialogue, key: str, *, lang: str, inp: TextIO = sys.stdin,
                 out: TextIO = sys.stdout, lang_chosen: bool = False):
        """``lang_chosen``: the person asked for ``lang`` (``--lang``); it then replaces the
        language of the conversation they continue, not only that of a new one."""
        self.dialogue = dialogue
        self.key = key
        self.lang = lang
        self.lang_chosen = lang_chosen
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
        if reply.exited:
            done = self.dialogue.content.locales.text(reply.lang, "engine.exit_done")
            self.out.write("— " + done + "\n")
        for message in reply.messages:
            if message.text:
                self.out.write("\n" + message.text + "\n")
            if message.document:
                doc = message.document
                text = doc.content.decode("utf-8", errors="replace")
                self.out.write(f"\n[{doc.filename}]\n{text}\n")
            if message.buttons:
                self.buttons = [b for row in message.buttons for b in row]
                for number, button in enumerate(self.buttons, 1):
                    self.out.write(f"  {number}) {button.label}\n")
            ids.append(self._id())
        self.out.flush()
        return ids

    def to_event(self, line: str) -> Event:
        text = line[: MAX_TEXT * 4].strip()  # the event keeps at most MAX_TEXT characters
        msg_id = self._id()
        if text.startswith("/") and len(text) > 1:
            name, _, arg = text[1:].partition(" ")
            return Event.command(name, arg or None, message_id=msg_id, lang_hint=self.lang)
        number = small_number(text)  # "1", "１"; never int() on "፩" or 5,000 digits
        if number is not None and 1 <= number <= len(self.buttons):
            return Event.button(self.buttons[number - 1].data, message_id=msg_id)
        return Event.text(text, message_id=msg_id, lang_hint=self.lang)

    def _tolerate_bad_bytes(self) -> None:
        """Invalid UTF-8 on stdin (or an odd terminal encoding) is replaced, never fatal."""
        for stream in (self.inp, self.out):
            reconfigure = getattr(stream, "reconfigure", None)
            if reconfigure is not None:
                try:
                    reconfigure(errors="replace")
                except (OSError, ValueError):  # a closed or detached stream: keep it as is
                    pass

    async def run(self, first: Event | None = None) -> None:
        self._tolerate_bad_bytes()
        if first is None:
            first = replace(Event.command("resume", lang_hint=self.lang),
                            lang_chosen=self.lang_chosen)
        await self.dialogue.handle(self.key, first, self._send)
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
