"""What goes into the engine (events) and what comes out (replies). No transport here."""

from __future__ import annotations

from dataclasses import dataclass, field

MEDIA_KINDS = ("photo", "video", "document", "voice", "video_note", "animation", "audio")


@dataclass(frozen=True)
class Event:
    """One thing a person did: typed text, pressed a button, sent a command or media."""

    kind: str  # text | button | command | media
    value: str = ""
    arg: str | None = None
    message_id: int | None = None
    lang_hint: str | None = None

    @classmethod
    def text(cls, text: str, *, message_id: int | None = None, lang_hint: str | None = None) -> Event:
        return cls("text", text, None, message_id, lang_hint)

    @classmethod
    def button(cls, data: str, *, message_id: int | None = None, lang_hint: str | None = None) -> Event:
        return cls("button", data, None, message_id, lang_hint)

    @classmethod
    def command(cls, name: str, arg: str | None = None, *, message_id: int | None = None,
                lang_hint: str | None = None) -> Event:
        return cls("command", name.lstrip("/").lower(), arg, message_id, lang_hint)

    @classmethod
    def media(cls, kind: str, *, message_id: int | None = None, lang_hint: str | None = None) -> Event:
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
    erased: bool = False

    @property
    def text(self) -> str:
        return "\n\n".join(m.text for m in self.messages if m.text)

    @property
    def buttons(self) -> list[Button]:
        return [b for m in self.messages for row in m.buttons for b in row]
