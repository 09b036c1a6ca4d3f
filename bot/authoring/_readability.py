"""Checks a reader would notice: kanji a 12-year-old cannot read, legal lines without a
source, and messages too long for a phone. Used by `kakekomi lint` (all warnings)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import datetime
from functools import cache
from itertools import product
from pathlib import Path
from typing import Any

from ..answers import JST
from ._audience import AGES, may

KANJI_FILE = Path(__file__).with_name("kyoiku_kanji.txt")
_KANJI_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々〆]+")
_READING = re.compile(r"[（(][ぁ-ゖァ-ヺー・]+[）)]")
# One phone screen and a bit: a longer message is hard to take in at once (issue 14).
MESSAGE_LIMIT = {"ja": 700, "en": 1000}
# A text that states something about a specific law needs `sources:`: a law's name (刑法,
# 児童ポルノ禁止法, …に関する法律, …条例), an article (第182条, 182条), "Penal Code", "… Act",
# "Act on …", "art. 182", "ordinance". The bare words 法 and 法律 are not enough: a disclaimer
# ("法律の助言ではありません", "not legal advice") or "法テラス" states nothing about a law.
LAW_WORDS = {
    "ja": re.compile(r"刑法|民法|条例|に関する法律"
                     r"|[ァ-ヺー\u4e00-\u9fff]+(?:禁止|防止|処罰|規制|保護)法(?!人)"
                     r"|第[0-9０-９一二三四五六七八九十百]+条|(?<![0-9０-９])[0-9０-９]+条(?!件)"),
    "en": re.compile(r"Penal Code|(?<=\w )Act\b|\bAct (?:on|for|to|against|of|Regarding)\b"
                     r"|\b(?:Article|[Aa]rt\.) ?\d+|\b[Oo]rdinances?\b"),
}
# Moments at which contact lists are measured: weekday afternoon, late night, Sunday.
SAMPLE_MOMENTS = (datetime(2026, 11, 25, 14, 0, tzinfo=JST),
                  datetime(2026, 11, 26, 2, 0, tzinfo=JST),
                  datetime(2026, 11, 29, 14, 0, tzinfo=JST))


@cache
def kyoiku_kanji() -> frozenset[str]:
    """The 1,026 primary-school kanji (教育漢字, 2020), from bot/kyoiku_kanji.txt."""
    lines = KANJI_FILE.read_text(encoding="utf-8").splitlines()
    kept = (line.strip() for line in lines if line.strip() and not line.startswith("#"))
    return frozenset("".join(kept))


def unglossed_words(text: str, known: frozenset[str] | None = None) -> list[str]:
    """Kanji words using a character beyond primary school, whose first use in the text has
    no reading in brackets right after it (脅迫（きょうはく）, 脅（おど）す)."""
    known = kyoiku_kanji() if known is None else known
    glossed: set[str] = set()
    found: list[str] = []
    for match in _KANJI_RUN.finditer(text):
        word = match.group()
        if all(ch in known or ch in "々〆" for ch in word) or word in glossed or word in found:
            continue
        if _READING.match(text, match.end()):
            glossed.add(word)
        else:
            found.append(word)
    return found


# ---- legal lines ------------------------------------------------------------------------
def names_a_law(text: str, lang: str) -> str | None:
    """The words naming a specific law or article in a text ("刑法182条", "Penal Code"), or
    None for a text that only says "law" in passing ("法律の助言ではありません")."""
    hit = LAW_WORDS.get(lang, LAW_WORDS["en"]).search(text)
    return hit.group() if hit else None


def law_mentions(content: Any, warning: Callable[..., Any]) -> Iterator[Any]:
    """A text that mentions a law or an article, shown without `sources:`."""
    locales = content.locales
    for flow in content.flows.values():
        for state in flow.states.values():
            for item in state.says():
                if item.sources:
                    continue
                for lang in LAW_WORDS:
                    value = locales.values.get(lang, {}).get(item.key)
                    hit = names_a_law(value, lang) if isinstance(value, str) else None
                    if hit:
                        yield warning(flow.file, item.line or state.line,
                                      f"'{item.key}' mentions the law ({hit!r} in '{lang}') "
                                      "but has no 'sources:' (law, article, e-Gov link)")
                        break


# ---- long messages ----------------------------------------------------------------------
def _candidates(cond: Any, slot: str) -> list[Any]:
    values: list[Any] = [None]
    if cond is None:
        return values
    if cond.op in ("all", "any", "not"):
        for part in cond.parts:
            values += _candidates(part, slot)
    elif cond.slot == slot:
        if cond.op == "is":
            values.append(cond.value)
        elif cond.op == "in":
            values += list(cond.value)
        elif cond.op == "has":
            values.append([cond.value])
        elif cond.op == "filled":
            values.append("x")
    return values


def _slots(cond: Any) -> set[str]:
    if cond is None:
        return set()
    found = cond.slots_read() - {"age"}
    stack = [cond]
    while stack:
        c = stack.pop()
        if c.op == "time":
            found.add("@time")
        stack.extend(c.parts)
    return found


def _holds(cond: Any, age: str, slot: str | None, value: Any) -> bool:
    slots = {"age": None if age == "unset" else age}
    hour = 12
    if slot == "@time":
        hour = value if isinstance(value, int) else 12
    elif slot:
        slots[slot] = value
    return cond.holds(slots, datetime(2026, 11, 25, hour, 0))


def worst_texts(items: list[tuple[Any, int]], age: str) -> int:
    """The longest a set of conditional texts gets for one age: texts whose conditions read
    one other slot (or the clock) are measured at that slot's worst value; others whenever
    they may hold."""
    total = 0
    groups: dict[str, list[tuple[Any, int]]] = {}
    for cond, length in items:
        slots = _slots(cond)
        if cond is None:
            total += length
        elif len(slots) == 1:
            groups.setdefault(next(iter(slots)), []).append((cond, length))
        elif may(cond, age)[0]:
            total += length
    for slot, members in groups.items():
        if slot == "@time":
            values: list[Any] = [2, 22, 12, 7]
        else:
            values = [v for c, _ in members for v in _candidates(c, slot)]
        total += max(sum(n for c, n in members if _holds(c, age, slot, v)) for v in values)
    return total


def _block_sets(blocks: list[Any], age: str) -> list[list[Any]]:
    """The sets of contact blocks that can show together: blocks whose conditions read other
    slots (contacts_now: one topic at a time) are taken value by value."""
    slots = sorted(set().union(*(_slots(b.when) for b in blocks)))
    if not slots or "@time" in slots or len(slots) > 3:
        return [blocks]
    choices = [[v for b in blocks for v in _candidates(b.when, slot)] for slot in slots]
    sets: list[list[Any]] = []
    for values in product(*choices):
        filled = {"age": None if age == "unset" else age, **dict(zip(slots, values, strict=True))}
        chosen = [b for b in blocks if b.when is None
                  or b.when.holds(filled, datetime(2026, 11, 25, 12, 0))]
        if chosen and chosen not in sets:
            sets.append(chosen)
    return sets or [blocks]


def _contacts_length(content: Any, blocks: list[Any], age: str, lang: str) -> int:
    from ..safety._contacts import audiences_for_age, merge_statuses, render_contacts

    directory = content.directory
    if directory is None or not blocks:
        return 0
    groups = audiences_for_age(None if age == "unset" else age)

    def text(key: str, **fill: Any) -> str:
        return content.locales.text(lang, key, **fill)

    longest = 0
    for now in SAMPLE_MOMENTS:
        for together in _block_sets(blocks, age):
            merged = merge_statuses(directory.status(b.arg, group, now) for b in together
                                    for group in ((b.audience,) if b.audience else groups))
            longest = max(longest, len(render_contacts(merged, lang, text, groups=groups,
                                                       part=together[0].part,
                                                       topics=[b.arg for b in together])))
    return longest


def state_length(content: Any, state: Any, age: str, lang: str) -> int:
    """The longest message this state shows for a person of this age, in characters."""
    locales = content.locales
    items = []
    for item in state.says():
        if item.audience == "adult" and age != "adult":
            continue
        value = locales.text(lang, item.key)
        items.append((item.when, len(value) + 2))
    cited = {src.cite(lang) for item in state.says() for src in item.sources}
    if cited:
        sources = locales.text(lang, "engine.sources", sources="／".join(cited))
        items.append((None, len(sources) + 2))
    for block in state.show:
        if block.kind == "checklist" and block.arg in content.checklists:
            keys = content.checklists[block.arg].items.values()
            size = sum(len(locales.text(lang, k)) + 3 for k in keys)
            items.append((block.when, size))
    total = worst_texts(items, age)
    contacts = [b for b in state.show if b.kind == "contacts" and may(b.when, age)[0]]
    return total + _contacts_length(content, contacts, age, lang)


def long_messages(content: Any, ages: Any, warning: Callable[..., Any]) -> Iterator[Any]:
    """States whose message, at its worst, is longer than fits a phone."""
    for flow in content.flows.values():
        for state in flow.states.values():
            reached = ages.states.get((flow.id, state.name), set())
            for lang in content.locales.languages:
                limit = MESSAGE_LIMIT.get(lang, MESSAGE_LIMIT["en"])
                worst = max((state_length(content, state, age, lang)
                             for age in AGES if age in reached), default=0)
                if worst > limit:
                    yield warning(flow.file, state.line, f"state '{state.name}' can show "
                                  f"{worst} characters at once in '{lang}' (more than {limit}): "
                                  "split it over two steps, put contacts behind a button, "
                                  "or shorten it")
