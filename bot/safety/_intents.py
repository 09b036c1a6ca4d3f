"""IntentDetector: what a free-text message is about (threat, money, video call, …).

Rules live in each language's ``locales/<lang>/safety.yaml``::

    intents:
      threat:
        label: 脅されている            # shown in "what I understood"
        keywords: [脅さ, 晒すぞ, …]   # bot.safety._textmatch syntax
        exclusions: []               # optional

Constructor the engine calls::

    IntentDetector.from_locale_values({"ja": ja_values, "en": en_values})

with the same value shapes as :class:`bot.safety._crisis.CrisisDetector` (nested tree
or flat dotted keys). Keywords of all languages are merged per intent, and every
message is checked against all of them. The label is a locale text the engine
reads itself: ``intents.<name>.label``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._textmatch import KeywordRules, PatternError, locale_list, prepare

__all__ = ["INTENT_ORDER", "IntentDetector"]

#: Known intents, in the order ``detect`` reports them. Intents found only in the
#: locale files follow in alphabetical order.
INTENT_ORDER: tuple[str, ...] = (
    "threat",
    "money",
    "paid",
    "video_call",
    "posted",
    "minor",
    "app_link",
)


def _intent_names(tree: Mapping[str, Any]) -> set[str]:
    names: set[str] = set()
    nested = tree.get("intents")
    if isinstance(nested, Mapping):
        names.update(str(n) for n in nested)
    for key in tree:
        parts = str(key).split(".")
        if len(parts) == 3 and parts[0] == "intents":
            names.add(parts[1])
    return names


def _ordered(names: set[str]) -> list[str]:
    known = [n for n in INTENT_ORDER if n in names]
    return known + sorted(names - set(INTENT_ORDER))


class IntentDetector:
    """Finds the intents whose keywords occur in a message."""

    def __init__(self, rules: Mapping[str, KeywordRules]) -> None:
        self.rules: dict[str, KeywordRules] = {n: rules[n] for n in _ordered(set(rules))}

    @classmethod
    def from_locale_values(cls, values: Mapping[str, Mapping[str, Any]]) -> IntentDetector:
        """Build from ``{lang: locale values}``; keywords of all languages are merged."""
        names: set[str] = set()
        for tree in values.values():
            names |= _intent_names(tree)
        rules = {}
        for name in names:
            keywords: list[str] = []
            exclusions: list[str] = []
            for lang, tree in values.items():
                keywords += locale_list(tree, f"intents.{name}.keywords", lang=lang)
                exclusions += locale_list(tree, f"intents.{name}.exclusions", lang=lang)
            if not keywords:
                raise PatternError(f"intent {name!r} has no keywords in any language")
            rules[name] = KeywordRules(keywords, exclusions)
        return cls(rules)

    @property
    def names(self) -> list[str]:
        """All intents this detector knows, in reporting order."""
        return list(self.rules)

    def detect(self, text: str) -> list[str]:
        """Names of the intents found in ``text``, in :data:`INTENT_ORDER`."""
        norm = prepare(text)
        return [name for name, rule in self.rules.items() if rule.matches_prepared(norm)]

    def explain(self, text: str) -> dict[str, list[str]]:
        """For each intent found, the keywords that matched (for tests and scripts)."""
        norm = prepare(text)
        found = {name: rule.find_prepared(norm) for name, rule in self.rules.items()}
        return {name: hits for name, hits in found.items() if hits}
