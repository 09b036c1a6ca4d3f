"""The safety layer: crisis cues, what typed text is about, and who can help now.

- :class:`CrisisDetector` — words of suicide, self-harm or despair (rules in
  ``locales/*/safety.yaml``, measured on ``docs/crisis-corpus``);
- :class:`IntentDetector` — what a typed message is about (threat, money, posted, …);
- :class:`ContactDirectory` — the contact points, their opening hours and holidays.
"""

from ._contacts import ContactDirectory, DirectoryError
from ._crisis import CATEGORIES, CrisisDetector, CrisisMatch, RuleError
from ._intents import IntentDetector
from ._textmatch import PatternError

__all__ = ["CATEGORIES", "ContactDirectory", "CrisisDetector", "CrisisMatch", "DirectoryError",
           "IntentDetector", "PatternError", "RuleError"]
