"""kakekomi: a transport-agnostic dialogue engine for a safety chatbot.

Channels use `load_content`, `Dialogue`, `Event` and the reply records; nothing
here imports a transport.
"""

from .content import Content, load_content
from .engine import COMMANDS, Dialogue
from ._errors import ContentError, KakekomiError, Problem
from .engine import Button, Document, Event, OutMessage, Reply
from ._settings import Settings

__all__ = [
    "COMMANDS", "Button", "Content", "ContentError", "Dialogue", "Document", "Event",
    "KakekomiError", "OutMessage", "Problem", "Reply", "Settings", "load_content",
]
