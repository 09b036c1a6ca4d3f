"""Thousands of random paths through every flow, in both languages.

No path may raise, show an invalid button, or wander: each reaches an end or the
menu within a bounded number of steps.
"""

from __future__ import annotations

import random

import pytest

from bot import Dialogue, Event
from storage import MemoryStore
from tests.helpers import _record, content

PATHS_PER_FLOW = 150
MAX_STEPS = 250
ANSWERS = ["2026-11-24 23:10", "昨日 23時", "Instagramで知り合った相手", "now", "x" * 50]


def _menu_labels(c, lang):
    return {c.locales.text(lang, k) for k in ("engine.nav.menu",)}


async def _walk(dialogue, key, lang, rng, first_press):
    c = dialogue.content
    last = {}

    async def send(reply):
        for b in reply.buttons:
            assert 0 < len(b.data.encode()) <= 64
            assert b.label.strip()
        for m in reply.messages:
            assert m.text or m.document
            assert len(m.text.encode("utf-16-le")) // 2 <= 4096
        last["reply"] = reply
        return [1]

    await dialogue.handle(key, Event.command("start", lang_hint=lang), send)
    await dialogue.handle(key, Event.button(first_press), send)
    for _ in range(MAX_STEPS):
        record = await dialogue.store.load(key)
        state = c.state(record["flow"], record["state"])
        if record["flow"] == "menu" or (state.end and not record["stack"]):
            return record
        reply = last["reply"]
        buttons = [b for b in reply.buttons
                   if b.label not in _menu_labels(c, lang) and not b.label.startswith("◀")]
        roll = rng.random()
        if state.ask and (roll < 0.6 or not buttons):
            await dialogue.handle(key, Event.text(rng.choice(ANSWERS)), send)
        elif roll < 0.03:
            command = rng.choice(["back", "help", "lang", "contacts"])
            await dialogue.handle(key, Event.command(command), send)
        elif roll < 0.05:
            await dialogue.handle(key, Event.text(rng.choice(["???", "🙂", "<b>x</b>"])), send)
        elif buttons:
            await dialogue.handle(key, Event.button(rng.choice(buttons).data), send)
        else:
            await dialogue.handle(key, Event.button(reply.buttons[0].data), send)
    raise AssertionError(f"path did not end within {MAX_STEPS} steps: "
                         f"at {record['flow']}/{record['state']}")


@pytest.mark.parametrize("lang", ["ja", "en"])
async def test_random_paths_through_every_menu_entry_end_cleanly(lang):
    c = content()
    store = MemoryStore(secret=b"walk")
    dialogue = Dialogue(c, store, on_visit=_record)
    rng = random.Random(f"kakekomi-{lang}")
    menu = c.flows["menu"].states[c.flows["menu"].start]
    entries = len(menu.buttons)
    ends = 0
    for path in range(PATHS_PER_FLOW * entries):
        key = f"walker-{lang}-{path}"
        # the menu's buttons are numbered from 0 in the first step
        record = await _walk(dialogue, key, lang, rng, f"1.{path % entries}")
        ends += 1
        assert record is not None
    assert ends == PATHS_PER_FLOW * entries
