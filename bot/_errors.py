"""Errors by meaning: content problems (with file and line), and runtime errors."""

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
    """Flows, locales or blocks failed validation; carries every problem found."""

    def __init__(self, problems: list[Problem]):
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
