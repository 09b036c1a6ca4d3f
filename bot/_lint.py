"""`kakekomi lint`: every content check, as a list of problems with file and line."""

from __future__ import annotations

from pathlib import Path

from ._content import load_content
from ._errors import ContentError, Problem


def lint(root: Path) -> list[Problem]:
    """Load everything the bot loads at start and report what is wrong."""
    try:
        load_content(root)
    except ContentError as exc:
        return exc.problems
    return []
