"""Every user-visible text, by key and language, from locales/<lang>/*.yaml."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .._errors import ContentError, Problem
from ._yamlsrc import load_yaml

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
MISSING = "—"
# Keys that hold one language's own crisis-rule data: no translation is expected.
PER_LANGUAGE = ("crisis.concepts.", "crisis.rules.")


def placeholders(value: Any) -> set[str]:
    """The {names} a text uses."""
    return set(PLACEHOLDER.findall(value)) if isinstance(value, str) else set()


class Locales:
    """Texts for each language; `text()` fills {placeholders} without eval or format specs."""

    def __init__(self, values: dict[str, dict[str, Any]],
                 where: dict[tuple[str, str], tuple[str, int]], default: str):
        self.values = values
        self.where = where
        self.default = default

    @property
    def languages(self) -> list[str]:
        return sorted(self.values, key=lambda lang: (lang != self.default, lang))

    def has(self, key: str) -> bool:
        return key in self.values[self.default]

    def raw(self, lang: str, key: str) -> Any:
        table = self.values.get(lang) or self.values[self.default]
        if key in table:
            return table[key]
        return self.values[self.default].get(key, key)

    def text(self, lang: str, key: str, **fill: Any) -> str:
        value = self.raw(lang, key)
        if not isinstance(value, str):
            return key
        if not fill or "{" not in value:
            return value
        return PLACEHOLDER.sub(lambda m: _show(fill.get(m.group(1))), value)

    def fill(self, lang: str, key: str, slots: Mapping[str, Any]) -> str:
        """A text with its placeholders filled from a conversation's slots."""
        names = placeholders(self.raw(lang, key))
        return self.text(lang, key, **{name: slots.get(name) for name in names})

    def keys(self) -> set[str]:
        return set(self.values[self.default])

    # ---- the languages themselves (locales/<lang>/common.yaml `lang:`) ----------------
    def _own(self, lang: str, key: str) -> Any:
        """A language's own value (never the default language's: a name is not a text)."""
        return self.values.get(lang, {}).get(key)

    def name(self, lang: str) -> str:
        """The language's name in itself (`lang.name`), else its folder name."""
        value = self._own(lang, "lang.name")
        return value.strip() if isinstance(value, str) and value.strip() else lang

    def joiner(self, lang: str) -> str:
        """What joins a list of words in this language (`lang.joiner`; default ", ")."""
        value = self._own(lang, "lang.joiner")
        return value if isinstance(value, str) and value else ", "

    def serves(self, lang: str) -> list[str]:
        """App language codes this language answers (`lang.serves`; "*" = any other)."""
        value = self._own(lang, "lang.serves")
        codes = [value] if isinstance(value, str) else list(value or [])
        return [c.strip().lower() for c in codes if isinstance(c, str) and c.strip()] or [lang]

    def language_for(self, code: str | None) -> str | None:
        """The language for an app's language code ("en-GB" → "en"), the one serving "*"
        for any other code, or None (no code, or nobody serves it)."""
        if not code:
            return None
        primary = code.strip().lower().replace("_", "-").split("-", 1)[0]
        others = None
        for lang in self.languages:
            codes = self.serves(lang)
            if primary in codes or code.strip().lower() in codes:
                return lang
            if "*" in codes and others is None:
                others = lang
        return others


def _show(value: Any) -> str:
    if value in (None, "", []):
        return MISSING
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _flatten(node: Any, prefix: str, out: dict[str, Any], lines: dict[str, int], file: str,
             problems: list[Problem]) -> None:
    for key, value in node.items():
        line = node.line_of(key) if hasattr(node, "line_of") else 1
        if not isinstance(key, str | int | bool):
            problems.append(Problem(file, line, f"key {key!r} must be a word"))
            continue
        name = f"{prefix}{_key_text(key)}"
        if isinstance(value, Mapping):
            _flatten(value, name + ".", out, lines, file, problems)
            continue
        if isinstance(value, list):
            if not all(isinstance(v, str) for v in value):
                problems.append(Problem(file, line, f"'{name}': a list may hold only texts"))
                continue
            value = value if hasattr(value, "line_of") else list(value)  # keeps item lines
        elif not isinstance(value, str):
            problems.append(Problem(file, line, f"'{name}' must be a text (quote it: \"{value}\")"))
            continue
        out[name] = value
        lines[name] = line


def _key_text(key: Any) -> str:
    # YAML reads bare yes/no/true/false as booleans; keys like common.yes mean the word.
    if key is True:
        return "yes"
    if key is False:
        return "no"
    return str(key)


def load_locales(root: Path, default: str = "ja", display_root: Path | None = None) -> Locales:
    """Load locales/<lang>/*.yaml and check that every language has the same keys."""
    problems: list[Problem] = []
    values: dict[str, dict[str, Any]] = {}
    where: dict[tuple[str, str], tuple[str, int]] = {}
    base = display_root or root.parent
    langs = sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    if default not in langs:
        raise ContentError([Problem(str(root), 1,
                                    f"no locale folder for the default language '{default}'")])
    for lang in langs:
        table: dict[str, Any] = {}
        for path in sorted((root / lang).glob("*.yaml")):
            display = str(path.relative_to(base)) if path.is_relative_to(base) else str(path)
            try:
                data = load_yaml(path, display)
            except ContentError as exc:
                problems.extend(exc.problems)
                continue
            if data is None:
                continue
            if not isinstance(data, Mapping):
                problems.append(Problem(display, 1,
                                        "a locale file must be a mapping of keys to texts"))
                continue
            out: dict[str, Any] = {}
            lines: dict[str, int] = {}
            _flatten(data, "", out, lines, display, problems)
            for key, value in out.items():
                if key in table:
                    first = where[(lang, key)]
                    problems.append(Problem(display, lines[key],
                                            f"'{key}' is already defined at {first[0]}:{first[1]}"))
                    continue
                table[key] = value
                where[(lang, key)] = (display, lines[key])
        values[lang] = table
    for lang in langs:
        if lang == default:
            continue
        for key in values[default].keys() - values[lang].keys():
            if key.startswith(PER_LANGUAGE):
                continue  # word lists of one language's rules, not translations
            file, line = where[(default, key)]
            problems.append(Problem(file, line, f"'{key}' has no '{lang}' text"))
        for key in values[lang].keys() - values[default].keys():
            if key.startswith(PER_LANGUAGE):
                continue
            file, line = where[(lang, key)]
            problems.append(Problem(file, line, f"'{key}' has no '{default}' text"))
        for key in values[lang].keys() & values[default].keys():
            mine, theirs = values[lang][key], values[default][key]
            if placeholders(mine) != placeholders(theirs):
                file, line = where[(lang, key)]
                problems.append(Problem(file, line, f"'{key}' uses placeholders "
                                        f"{sorted(placeholders(mine))} but '{default}' uses "
                                        f"{sorted(placeholders(theirs))}"))
            if isinstance(mine, list) != isinstance(theirs, list):
                file, line = where[(lang, key)]
                problems.append(Problem(file, line, f"'{key}' is a list in one language "
                                                    "and a text in the other"))
    if problems:
        raise ContentError(problems)
    return Locales(values, where, default)
