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
