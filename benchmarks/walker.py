"""Simulated people: random walks through every flow, decided from what the bot shows.

The policy only looks at the buttons of the last reply (labels and data), the way a
person does, so the same walker drives the engine directly and a Telegram bot through
python-telegram-bot. It never peeks at the stored record: reading it would add database
work that is not part of a real step.

Per step, roughly: press a random content button (most of the time), type an answer
(dates, free text, an intent phrase, emoji, HTML), send a command (/back, /help, /lang,
/contacts, /memo), or, at the end of a path, go back to the menu and take another entry.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

# Typed answers: datetimes the parser reads, free text, text that routes by intent,
# and text that means nothing to the bot.
ANSWERS = (
    "2026-11-24 23:10", "昨日 23時", "now", "さっき", "yesterday 11pm",
    "Instagramで知り合った相手", "相手のID: abc_123", "x" * 50,
    "お金を要求されています", "someone is threatening to post my photo",
    "🙂", "???", "<b>bold</b> & <i>", "ありがとう",
)
COMMANDS = ("back", "help", "lang", "contacts", "memo", "privacy")


@dataclass(frozen=True)
class Action:
    kind: str  # "press" | "text" | "command"
    value: str


class Policy:
    """Chooses the next thing a simulated person does from the buttons on screen.

    `nav_labels` are the navigation labels (back, menu, exit) in every language;
    `menu_label`/`exit_label` sets tell an end of path (menu + exit, nothing else).
    """

    def __init__(self, rng: random.Random, *, nav_labels: set[str], menu_labels: set[str],
                 exit_labels: set[str], p_text: float = 0.15, p_command: float = 0.03):
        self.rng = rng
        self.nav = nav_labels
        self.menu = menu_labels
        self.exit = exit_labels
        self.p_text = p_text
        self.p_command = p_command

    def next(self, buttons: list[tuple[str, str]]) -> Action:
        """`buttons`: (label, data) of the newest message with buttons; [] when none."""
        rng = self.rng
        if not buttons:
            return Action("command", "start")
        content = [data for label, data in buttons if label not in self.nav]
        menu = [data for label, data in buttons if label in self.menu]
        roll = rng.random()
        if roll < self.p_command:
            return Action("command", rng.choice(COMMANDS))
        if content:
            if roll < self.p_command + self.p_text:
                return Action("text", rng.choice(ANSWERS))
            return Action("press", rng.choice(content))
        if any(label in self.exit for label, _ in buttons) and menu:
            return Action("press", menu[0])  # end of a path: back to the menu
        return Action("text", rng.choice(ANSWERS))  # a question with only navigation


def policy_for(content, rng: random.Random) -> Policy:
    """A Policy with kakekomi's navigation labels (from the locales, every language)."""
    locales = content.locales
    langs = list(locales.values)

    def labels(key: str) -> set[str]:
        return {locales.text(lang, key) for lang in langs}

    nav = labels("engine.nav.back") | labels("engine.nav.menu") | labels("engine.nav.exit")
    return Policy(rng, nav_labels=nav, menu_labels=labels("engine.nav.menu"),
                  exit_labels=labels("engine.nav.exit"))
