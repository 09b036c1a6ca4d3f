"""Authoring tools on the command line (scripts, diagrams, coverage); filled in by issue 8."""

from __future__ import annotations

import argparse
from typing import Any


def add_commands(sub: Any) -> None:
    """Register the authoring subcommands."""


def run_command(command: str, args: argparse.Namespace, settings: Any) -> int:
    raise SystemExit(f"kakekomi: unknown command {command!r}")
