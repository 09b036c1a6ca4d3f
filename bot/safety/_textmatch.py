"""Text normalisation and keyword rules that respect word edges.

Everything a person types is first folded (:func:`normalize`, or :func:`prepare`
which keeps katakana for the edge rule below), so that ``ｼﾆﾀｲ``,
``シニタイ`` and ``しにたい`` (or ``ＳＵＩＣＩＤＥ`` and ``suicide``) look
the same to the rules. :class:`KeywordRules` then matches short phrases
written by counsellors in the locale files.

Pattern syntax (one phrase per list item):

``死にたい``
    A phrase. Japanese characters match as a substring of the normalised text.
    Between two Japanese characters the text may hold a space, ``ー``, ``〜``,
    ``~``, ``・``, ``.`` or a small vowel kana (up to three of them), so
    ``死 に た い`` and ``死にたーい`` match too.
``kill myself``
    Latin letters and digits need a word edge on both sides: ``killed`` does not
    match inside ``skilled``. A space matches one or more spaces, ``-`` or
    ``_`` (``self harm`` matches ``self-harm``). ``'`` is optional
    (``don't`` matches ``dont``).
``#万``
    ``#`` stands for a number written in digits (``10``, ``1,000``, ``2.5``).
``消え…たい``
    ``…`` (one character, U+2026) means: the part before, then the part after
    within 10 characters on the same sentence.

Hiragana and katakana match each other (``しにたい`` matches ``シニタイ``), but
a hiragana letter at the edge of a pattern does not match a katakana letter
that is part of a longer katakana word: ``消えたい`` does not fire on
``消えたインスタ`` (消えた + インスタ).

Exclusions use the same syntax. A trigger match is cancelled only when an
exclusion match *covers* it completely (``自殺行為`` cancels the ``自殺`` inside
it, but not another ``自殺`` elsewhere in the message). A longer trigger is
therefore never cancelled by a shorter exclusion.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from .._errors import ContentError

__all__ = ["KeywordRules", "PatternError", "locale_list", "normalize", "prepare"]

# Invisible characters people (or keyboards) put inside words: zero-width
# spaces and joiners, soft hyphen, bidi marks, variation selectors.
_INVISIBLE = "\u00ad\u034f\u180e\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
_INVISIBLE += "\u2060\u2061\u2062\u2063\u2064\ufeff" + "".join(map(chr, range(0xFE00, 0xFE10)))
_DROP = re.compile(f"[{_INVISIBLE}]")

# Typographic quotes → ' ; katakana → hiragana (ァ..ヶ and the iteration marks).
# (Regex substitution is much faster than str.translate with a dict.)
_QUOTES = re.compile("[\u2018\u2019\u201b\u02bc`]")
_KANA: dict[int, Any] = {c: c - 0x60 for c in range(0x30A1, 0x30F7)}
_KANA.update({0x30FD: 0x309D, 0x30FE: 0x309E})


def prepare(text: str) -> str:
    """Fold text the way :class:`KeywordRules` reads it: like :func:`normalize`,
    but katakana stays katakana (the rules match both scripts themselves)."""
    text = unicodedata.normalize("NFKC", _DROP.sub("", text)).casefold()
    return " ".join(_QUOTES.sub("'", text).split())  # NFKC made U+3000 a plain space


def normalize(text: str) -> str:
    """Fold text for comparison: NFKC (full/half width), casefold, katakana →
    hiragana, invisible characters removed, runs of whitespace collapsed."""
    return prepare(text).translate(_KANA)


class PatternError(ContentError, ValueError):
    """A keyword pattern cannot be compiled (empty, or a misplaced ``…``)."""


# Characters that make up "words" for the word-edge rule.
_WORD = "0-9a-z\u00c0-\u024f"
_BEFORE_FIRST = f"(?<![{_WORD}].)"  # placed after the first letter of a phrase
_AFTER = f"(?![{_WORD}])"
_SEP = r"[ \-_]+"  # between two Latin words of a pattern
_JOIN = "[ ー〜~・.ぁぃぅぇぉァィゥェォ]{0,3}"  # between two Japanese characters
_GAP = r"[^。!?\n]{0,10}?"  # the "…" of A…B
# A number starts only where a run of digits starts: tried at every digit of a long run,
# "[\d,]*" made matching quadratic (4,096 digits took 0.4 s).
_NUMBER = r"(?<!\d)(?<!\d,)\d[\d,]*(?:\.\d+)?"
_KATA = "ァ-ヺー"  # letters of a katakana word


def _kana_atom(ch: str, first: bool, last: bool) -> str | None:
    """Regex for one kana letter matching both scripts (None if ``ch`` is no kana).

    A pattern letter written in hiragana that meets katakana in the text at the
    pattern's edge must not be glued to a longer katakana word there, unless
    the neighbouring matched letter is katakana too (``シニタイ`` written all in
    katakana still matches).
    """
    if "\u3041" <= ch <= "\u3096":
        hira, kata = ch, chr(ord(ch) + 0x60)
    elif "\u30a1" <= ch <= "\u30f6":
        return f"[{chr(ord(ch) - 0x60)}{ch}]"  # written in katakana: no edge rule
    else:
        return None
    if last:
        return f"(?:{hira}|(?<=[{_KATA}]){kata}|{kata}(?![{_KATA}]))"
    if first:
        return f"[{hira}{kata}](?:(?<={hira})|(?<![{_KATA}].)|(?=[{_KATA}]))"
    return f"[{hira}{kata}]"


def _is_word(ch: str) -> bool:
    return ("0" <= ch <= "9") or ("a" <= ch <= "z") or ("\u00c0" <= ch <= "\u024f")


def _is_japanese(ch: str) -> bool:
    return (
        "\u3040" <= ch <= "\u30ff"  # kana (and ー)
        or "\u3400" <= ch <= "\u9fff"  # kanji
        or "\uf900" <= ch <= "\ufaff"
        or ch in "々〆〜"
    )


def _part_atoms(part: str, pattern: str) -> list[str]:
    """Compile one normalised phrase (no ``…``) into regex atoms, one per step."""
    if not part:
        raise PatternError(f"empty phrase in keyword pattern {pattern!r}")
    out: list[str] = []
    for i, ch in enumerate(part):
        prev = part[i - 1] if i else ""
        if ch == " ":
            nxt = part[i + 1] if i + 1 < len(part) else ""
            out.append(_SEP if _is_word(prev) and _is_word(nxt) else " ?")
        elif ch == "#":
            out.append(_NUMBER)
        elif ch == "'":
            out.append("'?")
        else:
            if _is_japanese(ch) and _is_japanese(prev):
                out.append(_JOIN)
            kana = _kana_atom(ch, first=i == 0, last=i == len(part) - 1)
            out.append(kana if kana is not None else re.escape(ch))
            if i == 0 and _is_word(ch):
                # The word edge is checked *after* the first letter, so that every
                # branch of the combined regex starts with a literal: the regex
                # engine then skips non-matching branches very cheaply.
                out.append(_BEFORE_FIRST)
    if _is_word(part[-1]):
        out.append(_AFTER)
    return out


def pattern_atoms(pattern: str) -> tuple[str, ...]:
    """Turn one counsellor-written pattern into a sequence of regex atoms."""
    if not isinstance(pattern, str):
        raise PatternError(f"keyword pattern must be text, not {type(pattern).__name__}")
    atoms: list[str] = []
    for i, raw in enumerate(pattern.split("…")):
        if i:
            atoms.append(_GAP)
        atoms += _part_atoms(prepare(raw), pattern)
    return tuple(atoms)


def _trie_regex(sequences: Iterable[tuple[str, ...]]) -> str:
    """One regex that finds whether *any* sequence occurs, with shared prefixes merged.

    Merging keeps the number of branches tried at each position small; a
    sequence that extends a shorter one is dropped (the shorter one suffices).
    """
    end = ""
    trie: dict[str, Any] = {}
    for seq in sequences:
        node = trie
        for atom in seq:
            if end in node:
                break
            node = node.setdefault(atom, {})
        else:
            node.clear()
            node[end] = True

    def emit(node: dict[str, Any], top: bool = False) -> str:
        if end in node:
            return ""
        alts = [atom + emit(child) for atom, child in node.items()]
        if top or len(alts) == 1:
            return "|".join(alts)
        return "(?:" + "|".join(alts) + ")"

    return emit(trie, top=True)


class KeywordRules:
    """Trigger phrases and the exclusions that cancel them, compiled once.

    ``matches`` is built for the hot path: one combined search decides most
    messages; exclusions are only looked at when some trigger was found.
    """

    def __init__(self, triggers: Iterable[str], exclusions: Iterable[str] = ()) -> None:
        self.triggers: tuple[str, ...] = tuple(dict.fromkeys(triggers))
        self.exclusions: tuple[str, ...] = tuple(dict.fromkeys(exclusions))
        atoms = [pattern_atoms(p) for p in self.triggers]
        trig = ["".join(a) for a in atoms]
        excl_atoms = [pattern_atoms(p) for p in self.exclusions]
        excl = ["".join(a) for a in excl_atoms]
        self._excl_any = re.compile(_trie_regex(excl_atoms) or "(?!)")
        self._any = re.compile(_trie_regex(atoms) or "(?!)")
        # Lookahead wrappers find every (also overlapping) occurrence.
        self._each = [
            (p, re.compile(f"(?=({r}))")) for p, r in zip(self.triggers, trig, strict=True)
        ]
        self._excl = [re.compile(f"(?=({r}))") for r in excl]

    def __repr__(self) -> str:
        return f"KeywordRules({len(self.triggers)} triggers, {len(self.exclusions)} exclusions)"

    def __bool__(self) -> bool:
        return bool(self.triggers)

    def matches(self, text: str) -> bool:
        """True if a trigger occurs in ``text`` and no exclusion covers it."""
        return self.matches_prepared(prepare(text))

    def find(self, text: str) -> list[str]:
        """The trigger patterns (as written) that match ``text``, in list order."""
        return self.find_prepared(prepare(text))

    def matches_prepared(self, norm: str) -> bool:
        """Like :meth:`matches`, for text already passed through :func:`prepare`."""
        if not self._any.search(norm):
            return False
        covers = self._exclusion_spans(norm)
        if not covers:
            return True
        return bool(self._find(norm, covers, first_only=True))

    def find_prepared(self, norm: str) -> list[str]:
        """Like :meth:`find`, for text already passed through :func:`prepare`."""
        if not self._any.search(norm):
            return []
        return self._find(norm, self._exclusion_spans(norm), first_only=False)

    def _find(self, norm: str, covers: list[tuple[int, int]], *, first_only: bool) -> list[str]:
        found: list[str] = []
        for pattern, rx in self._each:
            for m in rx.finditer(norm):
                start, end = m.span(1)
                if not any(s <= start and end <= e for s, e in covers):
                    found.append(pattern)
                    if first_only:
                        return found
                    break
        return found

    def _exclusion_spans(self, norm: str) -> list[tuple[int, int]]:
        if not self._excl_any.search(norm):
            return []
        return [m.span(1) for rx in self._excl for m in rx.finditer(norm)]


def locale_list(values: Mapping[str, Any], key: str, *, lang: str = "?") -> list[str]:
    """Read a list of strings at dotted ``key`` from one language's locale values.

    ``values`` may be the nested tree of a locale file (as ``yaml.safe_load``
    returns it) or a flat mapping of dotted keys. A missing key gives ``[]``.
    """
    if key in values:
        found: Any = values[key]
    else:
        found = values
        for step in key.split("."):
            if not isinstance(found, Mapping) or step not in found:
                return []
            found = found[step]
    if found is None:
        return []
    if not isinstance(found, list) or not all(isinstance(x, str) for x in found):
        raise PatternError(f"locale {lang}: {key} must be a list of texts")
    return list(found)
