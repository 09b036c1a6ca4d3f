"""Build hook: the wheel carries the content (flows, locales, contacts, schemas) inside
``bot/_content_data/``, so an installed kakekomi chats from any folder.

Only the standard wheel gets the copy: an editable install keeps reading the checkout's
own folders (``bot._settings.IN_CHECKOUT``), so a frozen copy there could only mislead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

CONTENT = ("flows", "locales", "contacts")
TARGET = "bot/_content_data"


class ContentHook(BuildHookInterface):
    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version != "standard":
            return
        root = Path(self.root)
        for name in CONTENT:
            build_data["force_include"][str(root / name)] = f"{TARGET}/{name}"
        for schema in sorted((root / "docs").glob("*.schema.json")):
            build_data["force_include"][str(schema)] = f"{TARGET}/schemas/{schema.name}"
