"""The consultation memo: what the person told us, ready to show to the police or a lawyer.

Pure functions. Words come from the ``text(key, **fill)`` callable (locale keys
``memo.title``, ``memo.created`` with ``{when}``, ``memo.field.<slot>``,
``memo.not_given``, ``memo.value.<slot>.<item>``, ``memo.footer``); everything
else here is layout. Output is plain text: answers are kept verbatim (HTML
characters, emoji, long texts), and channels do any escaping.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import date, datetime, time
from typing import Any

from ..engine._events import clean_surrogates
from ._datetimes import JST, When, format_when

__all__ = ["memo_document", "render_memo"]

TextFn = Callable[..., str]

_INDENT = "  "


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
