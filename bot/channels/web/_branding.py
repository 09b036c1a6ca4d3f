"""Branding by configuration: ``web.yaml`` beside ``flows/`` (optional; docs/web.schema.json).

Read and checked once at start, like the rest of the content: a mistake is a
`ContentError` naming the file and line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from ..._errors import ContentError, Problem

FILE = "web.yaml"
DEFAULT_ACCENT = "#2f5d8a"
DEFAULT_EXIT = "https://weather.yahoo.co.jp/weather/"  # neutral, nothing personal on it
_HEX = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
_REGION = re.compile(r"[a-z]{2,8}")
_KEYS = ("organisation", "title", "accent", "exit_url", "region")


@dataclass(frozen=True)
class Branding:
    """How the web chat presents itself; defaults when web.yaml is absent."""

    organisation: str = ""
    title: dict[str, str] = field(default_factory=dict)  # by language; else the locale's
    accent: str = DEFAULT_ACCENT
    exit_url: str = DEFAULT_EXIT
    region: str = "jp"


def _line(node: yaml.Node | None, key: str) -> int:
    if isinstance(node, yaml.MappingNode):
        for k, _ in node.value:
            if getattr(k, "value", None) == key:
                return k.start_mark.line + 1
    return 1


def load_branding(root: Path, regions: set[str] | None = None) -> Branding:
    """``root/web.yaml`` checked, or the defaults; raises ContentError (file:line)."""
    path = Path(root) / FILE
    if not path.is_file():
        return Branding()
    try:
        text = path.read_text(encoding="utf-8")
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ContentError(
            [
                Problem(
                    FILE,
                    mark.line + 1 if mark else 1,
                    f"cannot read web.yaml ({type(exc).__name__})",
                )
            ]
        ) from None
    if data is None:
        return Branding()
    if not isinstance(data, dict):
        raise ContentError(
            [
                Problem(
                    FILE,
                    1,
                    "web.yaml must be a mapping (organisation:, "
                    "title:, accent:, exit_url:, region:)",
                )
            ]
        )
    problems: list[Problem] = []

    def bad(key: str, message: str) -> None:
        problems.append(Problem(FILE, _line(node, key), f"'{key}': {message}"))

    for key in data:
        if key not in _KEYS:
            bad(str(key), f"is not a setting of web.yaml (allowed: {', '.join(_KEYS)})")
    organisation = data.get("organisation", "")
    if not isinstance(organisation, str) or len(organisation) > 80:
        bad("organisation", "must be a text of at most 80 characters")
        organisation = ""
    title = data.get("title") or {}
    if not isinstance(title, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and 0 < len(v) <= 60 for k, v in title.items()
    ):
        bad(
            "title",
            "must be texts by language, like {ja: かけこみ, en: Kakekomi} (60 characters at most)",
        )
        title = {}
    accent = data.get("accent", DEFAULT_ACCENT)
    if not isinstance(accent, str) or not _HEX.fullmatch(accent):
        bad("accent", "must be a colour like #2f5d8a (quote it: '#2f5d8a')")
        accent = DEFAULT_ACCENT
    exit_url = data.get("exit_url", DEFAULT_EXIT)
    if not _is_https(exit_url):
        bad("exit_url", "must be an https:// address with a host, like https://www.example.org/")
        exit_url = DEFAULT_EXIT
    region = data.get("region", "jp")
    if not isinstance(region, str) or not _REGION.fullmatch(region):
        bad("region", "must be a region name from contacts/*.yaml, like jp")
    elif regions is not None and region not in regions:
        bad(
            "region",
            f"is not a region of contacts/*.yaml (they have: {', '.join(sorted(regions))})",
        )
    if problems:
        raise ContentError(problems)
    return Branding(organisation, dict(title), accent, exit_url, region)


def _is_https(value: object) -> bool:
    if not isinstance(value, str) or len(value) > 500:
        return False
    if any(ch.isspace() or not ch.isprintable() or ch in "\"'<>" for ch in value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme == "https" and bool(parts.hostname)
