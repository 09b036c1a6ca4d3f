"""What goes into the engine (events) and what comes out (replies). No transport here.

Text is cleaned once, when an :class:`Event` is made (:func:`clean_text`), so the engine
only ever sees valid, bounded text whatever a channel received.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Literal, get_args

EventKind = Literal["text", "button", "command", "media"]
"""What a person did: typed text, pressed a button, sent a /command, or sent media."""
EVENT_KINDS: tuple[EventKind, ...] = get_args(EventKind)

MEDIA_KINDS = ("photo", "video", "document", "voice", "video_note", "animation", "audio")

MAX_TEXT = 4096
"""Characters of one event's text that reach the engine (Telegram's own message limit).

Longer text (only the terminal can send it) is cut here. Every typed answer a flow asks
for accepts at most 4,000 characters (the flow loader enforces it), so a cut answer is
still refused as too long and the person asked for a shorter one: nothing is saved cut
short without them knowing.
"""

# Lone surrogates: unencodable, they arrive through JSON ("\ud800") or a broken decoder.
_SURROGATES = re.compile("[\ud800-\udfff]")
# Control characters other than tab and newline (C0, DEL, C1); CR is a line break.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_NUMBER = re.compile("[0-9]{1,3}")


def clean_text(text: str) -> str:
    """``text`` made safe for the engine: valid Unicode, no control characters, bounded.

    Lone surrogates become U+FFFD; CR and CRLF become a newline; other control
    characters except tab and newline are dropped; at most :data:`MAX_TEXT`
    characters are kept. Linear in the length of ``text``, and total: any value
    that is not a ``str`` becomes ``""``.
    """
    if not isinstance(text, str):
        return ""
    text = text[: MAX_TEXT * 4]  # bound the work before anything scans it
    text = _SURROGATES.sub("\ufffd", text)
    text = _CONTROLS.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return text[:MAX_TEXT]


def clean_surrogates(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD (encodable as UTF-8)."""
    return _SURROGATES.sub("\ufffd", text)


def small_number(text: str, *, typed: bool = True) -> int | None:
    """The number a person typed to pick a button (``"3"``, ``"３"``), else None.

    Only 1-3 ASCII digits count (after NFKC and trimming spaces when ``typed``; as is
    for button data and stored tokens), so this never calls ``int()`` on a long digit
    run or on digits ``int()`` refuses: ``"፩"`` and ``"٣"`` are text, not numbers,
    while ``"²"`` and ``"①"`` are 2 and 1 (NFKC makes them ASCII digits).
    """
    if len(text) > 8:  # a short answer even with spaces or full-width forms around it
        return None
    if typed:
        text = unicodedata.normalize("NFKC", text).strip()
    return int(text) if _NUMBER.fullmatch(text) else None


@dataclass(frozen=True)
class Event:
    """One thing a person did: typed text, pressed a button, sent a command or media."""

    kind: EventKind
    value: str = ""
    arg: str | None = None
    message_id: int | None = None
    lang_hint: str | None = None
    # True when the person chose `lang_hint` themselves (`kakekomi chat --lang en`): it then
    # replaces the stored conversation's language. A mere hint (Telegram's language_code)
    # only sets the language of a new conversation.
    lang_chosen: bool = False

    def __post_init__(self) -> None:
        # The one place text enters the engine: every channel's events pass here.
        object.__setattr__(self, "value", clean_text(self.value))
        if self.arg is not None:
            object.__setattr__(self, "arg", clean_text(self.arg))

    @classmethod
    def text(cls, text: str, *, message_id: int | None = None,
             lang_hint: str | None = None) -> Event:
        return cls("text", text, None, message_id, lang_hint)

    @classmethod
    def button(cls, data: str, *, message_id: int | None = None,
               lang_hint: str | None = None) -> Event:
        return cls("button", data, None, message_id, lang_hint)

    @classmethod
    def command(cls, name: str, arg: str | None = None, *, message_id: int | None = None,
                lang_hint: str | None = None) -> Event:
        return cls("command", name.lstrip("/").lower(), arg, message_id, lang_hint)

    @classmethod
    def media(cls, kind: str, *, message_id: int | None = None,
              lang_hint: str | None = None) -> Event:
        return cls("media", kind, None, message_id, lang_hint)


@dataclass(frozen=True)
class Button:
    """A button to show: `data` (short, ≤ 64 bytes) comes back when it is pressed."""

    data: str
    label: str


@dataclass(frozen=True)
class Document:
    """A file to send (the consultation memo)."""

    filename: str
    content: bytes


@dataclass
class OutMessage:
    """One message: plain text (channels escape it), button rows, maybe a document."""

    text: str
    buttons: list[list[Button]] = field(default_factory=list)
    document: Document | None = None


@dataclass
class Reply:
    """Everything to show for one event."""

    messages: list[OutMessage] = field(default_factory=list)
    delete: list[int] = field(default_factory=list)
    pressed: str | None = None
    lang: str = "ja"
    keys: list[str] = field(default_factory=list)
    erased: bool = False  # the person chose "erase everything": nothing is stored now
    exited: bool = False  # quick exit: the channel hides this chat (delete lists its messages)

    @property
    def text(self) -> str:
        return "\n\n".join(m.text for m in self.messages if m.text)

    @property
    def buttons(self) -> list[Button]:
        return [b for m in self.messages for row in m.buttons for b in row]
