"""CrisisDetector: notices words of suicide, self-harm or despair in any message.

The rules are content, not code. They live in every language's locale file
(``locales/<lang>/safety.yaml``)::

    crisis:
      triggers: [死にたい, 消えたい, …]      # see bot._textmatch for the syntax
      exclusions: [自殺行為, …]             # only cancel a trigger they cover

The engine builds one detector for all languages and checks **every** message
against the rules of **all** languages, because people mix them
("honestly i just 死にたい").

Constructor the engine calls::

    CrisisDetector.from_locale_values({"ja": ja_values, "en": en_values})

where each ``*_values`` is that language's locale data: either the nested tree
(``{"crisis": {"triggers": [...]}}``, as ``yaml.safe_load`` returns it) or a flat
mapping of dotted keys (``{"crisis.triggers": [...]}``). Missing keys count as
empty lists, but a detector with no trigger at all is refused: a safety check
that can never fire must not start silently.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._textmatch import KeywordRules, PatternError, locale_list, prepare

__all__ = ["CrisisDetector", "TRIGGERS_KEY", "EXCLUSIONS_KEY"]

TRIGGERS_KEY = "crisis.triggers"
EXCLUSIONS_KEY = "crisis.exclusions"


class CrisisDetector:
    """Decides whether a message needs the crisis screen (safety question first)."""

    def __init__(self, rules: KeywordRules) -> None:
        if not rules:
            raise PatternError("crisis detector has no triggers (crisis.triggers is empty)")
        self.rules = rules

    @classmethod
    def from_locale_values(cls, values: Mapping[str, Mapping[str, Any]]) -> CrisisDetector:
        """Build from ``{lang: locale values}``; rules of all languages are merged."""
        triggers: list[str] = []
        exclusions: list[str] = []
        for lang, tree in values.items():
            triggers += locale_list(tree, TRIGGERS_KEY, lang=lang)
            exclusions += locale_list(tree, EXCLUSIONS_KEY, lang=lang)
        return cls(KeywordRules(triggers, exclusions))

    # The name used in the first design notes; same behaviour.
    from_texts = from_locale_values

    def detect(self, text: str) -> bool:
        """True when ``text`` contains a crisis cue that no exclusion explains away."""
        return self.rules.matches_prepared(prepare(text))

    def detect_prepared(self, norm: str) -> bool:
        """Like :meth:`detect`, for text already passed through ``prepare``."""
        return self.rules.matches_prepared(norm)

    def find(self, text: str) -> list[str]:
        """The trigger patterns that fired (for tests and ``kakekomi script``; never log them)."""
        return self.rules.find(text)
