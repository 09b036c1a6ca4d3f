"""The plain record of one conversation: everything needed to resume it exactly."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple, Required, TypedDict

RECORD_VERSION = 1
MAX_HISTORY = 40
MAX_MESSAGES = 400

PendingKind = Literal["crisis", "forget", "intent"]
"""The question a conversation waits on (``pending["kind"]``): the crisis screen's
"are you safe now?", "erase everything?", or "I understood …, right?"."""


class Pending(TypedDict, total=False):
    """The question waited on, stored as this plain JSON object in the record."""

    kind: Required[PendingKind]
    urgent: bool  # crisis: an act already done, so 119 comes first
    intents: list[str]  # crisis, intent: what the message was about, to resume after


class Frame(NamedTuple):
    """One sub-flow call on the stack: where to come back to, and where to go from there.

    A tuple, so it is stored as the JSON list ``[flow, state, then]`` it always was.
    """

    flow: str
    state: str  # the calling state
    then: str  # the target to move to on return; "" = show the calling state again


class Position(NamedTuple):
    """Where /back returns to: a flow, its state, and the sub-flow stack at that moment."""

    flow: str
    state: str
    stack: list[Frame]


def _frames(raw: Any) -> list[Frame]:
    return [Frame(*f) for f in raw or ()]


@dataclass
class Conversation:
    """Where a person is, what they answered, and what the bot showed them.

    `shown` holds what each button of the current step means ("b2" = the state's
    third button, "@menu", ...), so a button's data only needs the step and an index.
    """

    flow: str
    state: str
    lang: str
    slots: dict[str, Any] = field(default_factory=dict)
    step: int = 0
    stack: list[Frame] = field(default_factory=list)
    history: list[Position] = field(default_factory=list)
    shown: list[str] = field(default_factory=list)
    pending: Pending | None = None
    messages: list[int] = field(default_factory=list)
    typed: str | None = None  # digest of the answer the last event typed, if any
    boot: str = ""  # the process that committed this record

    def to_record(self) -> dict[str, Any]:
        """A JSON-able copy (cheap: this runs on every step)."""
        return {
            "v": RECORD_VERSION, "flow": self.flow, "state": self.state, "lang": self.lang,
            "slots": {k: list(v) if isinstance(v, list) else v for k, v in self.slots.items()},
            "step": self.step, "stack": [list(f) for f in self.stack],
            "history": [[f, s, [list(x) for x in st]] for f, s, st in self.history],
            "shown": list(self.shown), "pending": dict(self.pending) if self.pending else None,
            "messages": list(self.messages), "typed": self.typed, "boot": self.boot,
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Conversation:
        """The conversation a :meth:`to_record` record (any version so far) describes."""
        known = {k: v for k, v in record.items() if k in cls.__dataclass_fields__}
        known["stack"] = _frames(known.get("stack"))
        known["history"] = [Position(f, s, _frames(st)) for f, s, st in known.get("history") or ()]
        return cls(**known)

    def remember_position(self) -> None:
        """Push the current position so /back can return to it."""
        entry = Position(self.flow, self.state, list(self.stack))
        if self.history and self.history[-1][:2] == entry[:2]:
            return
        self.history.append(entry)
        del self.history[:-MAX_HISTORY]

    def add_messages(self, ids: list[int]) -> None:
        self.messages.extend(i for i in ids if i)
        del self.messages[:-MAX_MESSAGES]
