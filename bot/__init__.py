"""kakekomi: a transport-agnostic dialogue engine for a safety chatbot.

Channels use `load_content`, `Dialogue`, `Event` and the reply records; nothing
here imports a transport.
"""

from ._errors import ContentError, KakekomiError, Problem
from ._settings import Settings
from .content import Content, load_content
from .engine import COMMANDS, Button, Dialogue, Document, Event, OutMessage, Reply

__all__ = [
    "COMMANDS", "Button", "Content", "ContentError", "Dialogue", "Document", "Event",
    "KakekomiError", "OutMessage", "Problem", "Reply", "Settings", "load_content",
]
