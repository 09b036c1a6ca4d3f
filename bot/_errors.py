"""Errors by meaning: content problems (with file and line), and runtime errors.

One root, :class:`KakekomiError`, for everything the ``bot`` package raises on purpose::

    KakekomiError
    ├── ContentError            flows, locales, blocks, contacts: .problems (file, line, message)
    │   ├── PatternError        a keyword pattern cannot be compiled (bot.safety._textmatch)
    │   │   └── RuleError       a crisis rule or concept, with its locale key (bot.safety._crisis)
    │   └── DirectoryError      a contact file, with its file and line (bot.safety._contacts)
    ├── StartupError            one line for the operator; exit 2
    │   └── SettingsError       a setting that is not allowed (names the setting)
    └── FlowMoveError           a flow asked for a move its machine does not have

Storage has its own root, ``storage.StorageError`` (storage never imports ``bot``); a
channel catches both: ``except (KakekomiError, StorageError)``. See docs/architecture.md.
"""

from __future__ import annotations

from dataclasses import dataclass


class KakekomiError(Exception):
    """Base class for every error kakekomi raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a content file, at a place a person can open."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class ContentError(KakekomiError):
    """Flows, locales, blocks or contacts failed validation; carries every problem found.

    Given a text instead of problems (a subclass naming one mistake in its own words),
    ``problems`` is empty until the loader places the mistake at a file and line.
    """

    def __init__(self, problems: list[Problem] | str):
        if isinstance(problems, str):
            self.problems: list[Problem] = []
            super().__init__(problems)
            return
        self.problems = sorted(problems, key=lambda p: (p.file, p.line, p.message))
        super().__init__("\n".join(str(p) for p in self.problems))


class StartupError(KakekomiError):
    """Something stops the bot from starting; the message is one line an operator can act on.

    The command line prints ``kakekomi: <message>`` and exits 2, never a traceback. Never
    put a secret (token, webhook secret, master secret) in the message.
    """


class SettingsError(StartupError):
    """A setting (environment variable or option) has a value that is not allowed."""

    def __init__(self, name: str, problem: str) -> None:
        self.setting = name
        super().__init__(f"{name}: {problem}")
