"""The consultation memo: what the person told us, ready to show to the police or a lawyer.

Pure functions. Words come from the ``text(key, **fill)`` callable (locale keys
``memo.title``, ``memo.created`` with ``{when}``, ``memo.field.<slot>``,
``memo.not_given``, ``memo.value.<slot>.<item>``, ``memo.footer``); everything
else here is layout. Output is plain text: answers are kept verbatim (HTML
characters, emoji, long texts), and channels do any escaping.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import date, datetime, time
from typing import Any

from ._datetimes import JST, When, format_when
from ..engine._events import clean_surrogates

__all__ = ["memo_document", "render_memo", "split_text"]

TextFn = Callable[..., str]

_INDENT = "  "
_ZWJ = "\u200d"


def _is_ja(lang: str) -> bool:
    return lang.lower().startswith("ja")


def render_memo(
    fields: Sequence[str],
    slots: Mapping[str, Any],
    lang: str,
    text: TextFn,
    now: datetime,
    *,
    coded: Collection[str] = (),
) -> str:
    """The memo as plain text, lines separated by ``"\\n"`` (no trailing newline).

    Every field is listed, in order; an unanswered one shows ``memo.not_given`` so the
    reader sees what is unknown. ``coded`` names slots whose string value is a code set
    by a button (shown via ``memo.value.<slot>.<value>`` instead of verbatim).
    """
    separator = "：" if _is_ja(lang) else ": "
    lines = _lines(text("memo.title"))
    lines += _lines(text("memo.created", when=format_when(now, True, lang)))
    lines.append("")
    for slot in fields:
        value = _value(slot, slots.get(slot), lang, text, now, slot in coded)
        if value is None:
            value = text("memo.not_given")
        first, *rest = _lines(value)
        label = " ".join(_lines(text(f"memo.field.{slot}")))
        lines.append(f"{label}{separator}{first}")
        lines += [_INDENT + line if line.strip() else "" for line in rest]
    lines.append("")
    lines += _lines(text("memo.footer"))
    # An answer saved before text was cleaned at the edge may hold a lone surrogate,
    # which no channel can send: it shows as U+FFFD instead.
    return clean_surrogates("\n".join(lines))


def memo_document(
    fields: Sequence[str],
    slots: Mapping[str, Any],
    lang: str,
    text: TextFn,
    now: datetime,
    *,
    coded: Collection[str] = (),
) -> tuple[str, bytes]:
    """(``"kakekomi-memo-YYYY-MM-DD.txt"``, UTF-8 bytes without BOM, CRLF line ends).

    The content is exactly :func:`render_memo`'s, so it prints well from Windows Notepad.
    """
    body = render_memo(fields, slots, lang, text, now, coded=coded)
    data = body.replace("\n", "\r\n").encode("utf-8", errors="replace")
    return f"kakekomi-memo-{now:%Y-%m-%d}.txt", data


def _lines(value: str) -> list[str]:
    """Split on any line break (CRLF, CR, U+2028 ...); never an empty list."""
    return value.splitlines() or [""]


def _value(
    slot: str, value: Any, lang: str, text: TextFn, now: datetime, coded: bool
) -> str | None:
    """One answer as text, or None when it was not given."""
    if value is None:
        return None
    if isinstance(value, When):
        return _format_moment(value, lang, now)
    if isinstance(value, datetime):
        return format_when(value, True, lang)
    if isinstance(value, date):
        return format_when(datetime.combine(value, time()), False, lang)
    if isinstance(value, str):
        stripped = value.strip()
        if not stripped:
            return None
        try:
            return _format_moment(When.from_slot(stripped, now.tzinfo or JST), lang, now)
        except ValueError:
            pass
        return text(f"memo.value.{slot}.{stripped}") if coded else stripped
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [str(item) for item in value if item is not None and str(item).strip()]
        if isinstance(value, (set, frozenset)):
            items.sort()
        if not items:
            return None
        joiner = "、" if _is_ja(lang) else ", "
        return joiner.join(text(f"memo.value.{slot}.{item}") for item in items)
    return str(value)


def _format_moment(when: When, lang: str, now: datetime) -> str:
    at = when.at.astimezone(now.tzinfo) if when.has_time and now.tzinfo else when.at
    return format_when(at, when.has_time, lang)


def _units(s: str) -> int:
    """Length in UTF-16 code units (what Telegram counts)."""
    return len(s.encode("utf-16-le", errors="surrogatepass")) // 2


def split_text(text: str, limit: int = 4000) -> list[str]:
    """Split ``text`` into chunks of at most ``limit`` UTF-16 code units.

    Breaks go at line breaks; a line longer than ``limit`` is cut at a space when one is
    near the end, else between characters (never inside a surrogate pair, and not
    before a combining mark, variation selector or zero-width joiner). Line breaks at
    the edges of a chunk are dropped; chunks with no visible text are left out.
    """
    if limit < 2:
        raise ValueError("limit must be at least 2")
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for line in text.split("\n"):
        width = _units(line)
        if current and size + 1 + width <= limit:
            current.append(line)
            size += 1 + width
            continue
        if current:
            chunks.append("\n".join(current))
        if width <= limit:
            current, size = [line], width
            continue
        pieces = _cut_line(line, limit)
        chunks.extend(pieces[:-1])
        current, size = [pieces[-1]], _units(pieces[-1])
    if current:
        chunks.append("\n".join(current))
    return [chunk.strip("\n") for chunk in chunks if chunk.strip()]


def _cut_line(line: str, limit: int) -> list[str]:
    """Cut one over-long line into pieces of at most ``limit`` UTF-16 code units."""
    pieces: list[str] = []
    start = 0
    while start < len(line):
        end, size = start, 0
        while end < len(line):
            width = 2 if ord(line[end]) > 0xFFFF else 1
            if size + width > limit:
                break
            size += width
            end += 1
        cut = end
        if end < len(line):
            while cut > start + 1 and _joins_previous(line, cut):
                cut -= 1
            if _joins_previous(line, cut):
                cut = end  # one cluster longer than the limit: cut it anyway
            space = line.rfind(" ", start, cut)
            if space > start + (cut - start) // 2:
                cut = space + 1
        pieces.append(line[start:cut])
        start = cut
    return pieces


def _joins_previous(line: str, i: int) -> bool:
    """True if cutting before ``line[i]`` would split a character from its marks."""
    if i <= 0 or i >= len(line):
        return False
    ch, prev = line[i], line[i - 1]
    return (
        ch == _ZWJ
        or prev == _ZWJ
        or unicodedata.category(ch) in ("Mn", "Me", "Mc")
        or 0xFE00 <= ord(ch) <= 0xFE0F
        or 0x1F3FB <= ord(ch) <= 0x1F3FF
        or 0xE0020 <= ord(ch) <= 0xE007F
        or (0xDC00 <= ord(ch) <= 0xDFFF and 0xD800 <= ord(prev) <= 0xDBFF)
    )
