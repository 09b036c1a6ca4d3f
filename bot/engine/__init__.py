"""The dialogue engine: events in, replies out, state committed before any reply is sent.

Channels use only what this face exports: :class:`Dialogue` (one per process), the
:class:`Event` a channel makes from its transport's input, and the :class:`Reply`
(:class:`OutMessage`, :class:`Button`, :class:`Document`) it renders. The engine knows no
transport and reads no environment.
"""

from ..answers import split_text, utf16_len
from ._conversation import Conversation
from ._dialogue import COMMANDS, Dialogue
from ._events import (
    EVENT_KINDS,
    MAX_TEXT,
    MEDIA_KINDS,
    Button,
    Document,
    Event,
    EventKind,
    OutMessage,
    Reply,
    clean_surrogates,
    clean_text,
    small_number,
)

__all__ = [
    "COMMANDS", "EVENT_KINDS", "MAX_TEXT", "MEDIA_KINDS", "Button", "Conversation", "Dialogue",
    "Document", "Event", "EventKind", "OutMessage", "Reply", "clean_surrogates", "clean_text",
    "small_number", "split_text", "utf16_len",
]
