"""Plain text against a messenger's length limit: one UTF-16 counter, one splitter.

Telegram counts message length in UTF-16 code units; the engine splits its replies and
the channels check their limits with the same two functions.
"""

from __future__ import annotations

import unicodedata

__all__ = ["split_text", "utf16_len"]

_ZWJ = "\u200d"


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units: what Telegram counts against its limits."""
    return len(text.encode("utf-16-le", errors="surrogatepass")) // 2


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
        width = utf16_len(line)
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
        current, size = [pieces[-1]], utf16_len(pieces[-1])
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
            width = utf16_len(line[end])
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
