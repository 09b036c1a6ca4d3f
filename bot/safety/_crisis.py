"""CrisisDetector: notices words of suicide, self-harm or despair in any message.

The rules are content, not code: counsellors edit them in every language's
``locales/<lang>/safety.yaml``::

    crisis:
      urgent: [act_done]                 # categories that put 119/110 first
      concepts:                          # named word lists
        want: [たい, たく]
        shi: [死に, しに, タヒに]
      rules:                             # what opens the crisis screen, by category
        wish_dead: ["{shi}{want}", 消えたい]
        act_done: [リスカした!いくら]
      exclusions: [必死, 死角]           # words that merely contain a cue

A rule is a phrase in the keyword syntax of :mod:`bot.safety._textmatch` (word edges,
folded kana and width, ``…`` for "then, within 10 characters"), plus:

``{name}``
    any entry of the concept ``name`` of the same language (entries may use
    concepts too, up to three levels deep).
``……``
    the part before, then the part after within 30 characters on the same sentence.
``………``
    the part before, then the part after within 60 characters, across sentence ends
    (``あげた。もう使わないから``: an act, then its reason in the next sentence).
``!xyz`` (at the end of a phrase)
    the text must not go on with ``x``, ``y`` or ``z``: ``した!い`` is "did", not "want to".
``$`` (at the end of a phrase)
    the sentence ends there (end of message, punctuation, a space, ``w``, ``笑``).

Exclusions use the same syntax and *hide* what they match before the rules
are read: ``必死に探した`` never shows ``死に`` to them, while a real cue
elsewhere in the same message still counts.

Every rule of every language is compiled at load into ONE regular expression
(a prefix tree: every branch starts with a literal character, so the search
skips quickly over text that cannot start a cue). The syntax has no way to
write an unbounded repetition inside another, so matching stays linear in the
length of the message. :meth:`CrisisDetector.detect` says which category fired
and whether it is urgent (an act already done).
"""

from __future__ import annotations

import copy
import functools
import re
import threading
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ._crisis_model import NgramModel
from ._textmatch import _INVISIBLE, PatternError, prepare

__all__ = ["CATEGORIES", "MODEL_CATEGORY", "CrisisDetector", "CrisisMatch", "RuleError", "fold"]

#: What a match from the n-gram model (not a rule) is called.
MODEL_CATEGORY = "model"

#: The categories a rule can belong to (C-SSRS-like, plus what counsellors see in chats).
CATEGORIES: tuple[str, ...] = (
    "wish_dead", "ideation", "method_plan", "self_harm", "act_done",
    "conditional", "farewell", "hopeless", "slang",
)
MAX_DEPTH = 3  # concepts inside concepts
MAX_GAPS = 3  # "…" per rule: each adds a bounded scan, never a nested one
GROUP_HEADS = 12  # a leading concept with more first letters than this is not split up
# ... nor one whose rest of the rule, repeated for each first letter, is this long
REST_BUDGET = 1500
_GAP = r"[^。!?\n]{0,10}?"
_LONG_GAP = r"[^。!?\n]{0,30}?"
_ACROSS = r"[^\n]{0,60}?"  # "………": a short way on, over a sentence end
# "$": the message ends, or punctuation, a space before non-Latin text (a new
# sentence in Japanese), the Japanese laugh "w", or an emoji.
_END = "(?=$|[。.!?…、,ー〜~笑泣\u2600-\u27bf\U0001f300-\U0001faff]| [^a-z0-9]|w(?![a-z]))"
_SEP = r"[ \-_]{1,9}"  # between two Latin words of a rule (bounded: see _width)
_SEP_MAX = 9
_WORD = "0-9a-z\u00c0-\u024f"
_FIRST = f"(?<![{_WORD}].)"  # after the first letter of a Latin word: no letter before it
_LAST = f"(?![{_WORD}])"
_NUMBER = r"(?<![\d,])\d[\d,]{0,15}(?:\.\d{1,6})?"  # bounded, so every cue has a length limit
_NUMBER_MAX = 23
_BACK = 64  # how far before the first cue an exclusion may start
_HIDDEN = "\x00"  # what an exclusion leaves in the text: no letter, no word
_MARK = "\x01"  # where a katakana word starts right after hiragana (消えた|インスタ)
_REF = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
_QUOTES = re.compile("[\u2018\u2019\u201b\u02bc`]")
_DROP = re.compile(f"[{_INVISIBLE}]")

# Folding shared by rules and messages (after ``prepare``): no spaces or stretch
# marks between Japanese letters (死 に た ー い = 死にたい), katakana read as
# hiragana (シニタイ = しにたい) but a katakana word glued to hiragana keeps a mark
# in front (消えた + インスタ is not 消えたい).
_JP = "\u3041-\u30ff\u3400-\u9fff\uf900-\ufaff々〆"
# (Each pattern starts with a character class, not a look-behind: the regex engine
# then skips quickly to where it can match.)
_FILLER = "[ ー〜~・.ぁぃぅぇぉァィゥェォ]"
_FILL = re.compile(f"{_FILLER}(?<=[{_JP}].){_FILLER}{{0,2}}(?=[{_JP}])")
_KATA_RUN = re.compile("[ァ-ヶ]+")
_TRAILING_FILL = re.compile("(?<=[ァ-ヶ])[ー〜~]+(?=$|[\ue000{!$ ])")
_KANA = str.maketrans({chr(c): chr(c - 0x60) for c in range(0x30A1, 0x30F7)})


def _hiragana(m: re.Match[str]) -> str:
    start = m.start()
    glued = start and "\u3041" <= m.string[start - 1] <= "\u3096"
    return (_MARK if glued else "") + m.group().translate(_KANA)


# Letters written as digits or signs inside a Latin word (su1c1de, d!e, k1ll): read as letters.
_LEET = re.compile("[01345!@$](?<=[a-z].)(?=[a-z])")
_LEET_MAP = str.maketrans("01345!@$", "oieasias")


def _letter(m: re.Match[str]) -> str:
    return m.group().translate(_LEET_MAP)


def fold(norm: str) -> str:
    """Fold text already passed through ``prepare`` the way the crisis rules read it."""
    norm = _LEET.sub(_letter, norm)
    if norm.isascii():
        return norm  # the common English message: no kana to fold
    return _KATA_RUN.sub(_hiragana, _FILL.sub("", norm))


@dataclass(frozen=True)
class CrisisMatch:
    """What fired: the rule's category, and whether the act is already done (urgent)."""

    category: str
    urgent: bool
    lang: str = ""
    rule: str = ""  # as written in the locale file (tests and reviews; never log it)

    def __bool__(self) -> bool:
        return True


class RuleError(PatternError):
    """A rule or concept in a locale file cannot be compiled; names the key and item."""

    def __init__(self, lang: str, key: str, index: int | None, message: str) -> None:
        item = f" item {index + 1}" if index is not None else ""
        super().__init__(f"locale {lang}: {key}{item}: {message}")
        self.lang, self.key, self.index, self.message = lang, key, index, message


# ---- rule compilation ----------------------------------------------------------------------


def _fold_rule(pattern: str) -> str:
    # NFKC turns "…" into "...": keep it as one mark through the folding.
    text = unicodedata.normalize("NFKC", _DROP.sub("", pattern).replace("…", "\ue000")).casefold()
    text = " ".join(_QUOTES.sub("'", text).split())
    # A stretch mark that ends a katakana word of a rule (カッター) is dropped from messages
    # when more Japanese follows (カッターで → かったで): drop it from the rule too
    # (but not from hiragana speech such as 死にてー).
    text = fold(_TRAILING_FILL.sub("", text))
    return text.replace("\ue000", "…")


def _is_word(ch: str) -> bool:
    return ch.isascii() and ch.isalnum() or "\u00c0" <= ch <= "\u024f"


def _tokens(pattern: str) -> tuple[tuple[str, str], ...]:
    """The tokens of a rule.

    ("ch", c) | ("ref", name) | ("gap", "…"/"……") | ("not", chars) | ("end", "") | ("num", "").
    """
    if not isinstance(pattern, str):
        raise PatternError(f"a rule must be text, not {type(pattern).__name__}")
    return _read_tokens(pattern)  # the regex, anchors and width each read every rule


@functools.lru_cache(maxsize=16384)
def _read_tokens(pattern: str) -> tuple[tuple[str, str], ...]:
    text = _fold_rule(pattern)
    if not text:
        raise PatternError("empty rule")
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "{":
            m = _REF.match(text, i)
            if not m:
                raise PatternError("'{' starts no concept name like {want}")
            out.append(("ref", m.group(1)))
            i = m.end()
            continue
        if ch == "}":
            raise PatternError("'}' without '{'")
        if ch == "…":
            n = 3 if text.startswith("………", i) else 2 if text.startswith("……", i) else 1
            out.append(("gap", "…" * n))
            i += n
            continue
        if ch == "!":
            j = i + 1
            while j < len(text) and text[j] not in " …{!$":
                j += 1
            if j == i + 1:
                raise PatternError("'!' must be followed by the letters that may not come next")
            out.append(("not", text[i + 1:j]))
            i = j
            continue
        if ch == "$":
            out.append(("end", ""))
            i += 1
            continue
        out.append(("num", "") if ch == "#" else ("ch", ch))
        i += 1
    for n, (kind, _) in enumerate(out):
        followed = n + 1 < len(out) and out[n + 1][0] not in ("gap", "not", "end")
        if kind in ("not", "end") and followed:
            raise PatternError("'!…' and '$' may only end a phrase")
    if out[0][0] in ("gap", "not", "end") or out[-1][0] == "gap":
        raise PatternError("a rule cannot start with '…', '!' or '$', nor end with '…'")
    if sum(kind == "gap" for kind, _ in out) > MAX_GAPS:
        raise PatternError(f"at most {MAX_GAPS} '…' in one rule")
    return tuple(out)


Seq = tuple[str, ...]


def _wordy(tok: tuple[str, str]) -> bool:
    return tok[0] == "num" or (tok[0] == "ch" and (_is_word(tok[1]) or tok[1] == "'"))


class _Compiler:
    """Turns the rules of one language into atom sequences (first atom always a literal)."""

    def __init__(self, lang: str, concepts: Mapping[str, list[str]]) -> None:
        self.lang = lang
        self.concepts = concepts
        self._group_cache: dict[str, str] = {}
        self._seq_cache: dict[str, list[Seq]] = {}
        self._anchor_cache: dict[str, frozenset[str]] = {}
        self._width_cache: dict[str, int] = {}

    # ---- what every match of a rule must contain, and how long it can be --------------

    def anchors(self, pattern: str, depth: int = 0) -> frozenset[str]:
        """Strings of which every match of ``pattern`` contains at least one, verbatim.

        Each run of letters the rule spells out is a candidate (the match holds it
        as written, in the folded text), and so is each concept (any of its entries'
        anchors); the cheapest candidate — long, rare strings — is kept. Never empty:
        every rule has at least one letter or concept.
        """
        best: frozenset[str] | None = None
        best_cost = 0.0
        toks = _tokens(pattern)
        candidates: list[frozenset[str]] = []
        i = 0
        while i < len(toks):
            kind, value = toks[i]
            if kind == "ch" and value != " ":
                # A run of letters; "'" may be left out in the text (don't = dont).
                j = i
                while j < len(toks) and toks[j][0] == "ch" and toks[j][1] != " ":
                    j += 1
                run = "".join(v for _, v in toks[i:j])
                if run.strip("'"):
                    before = toks[i - 1] if i else ("", "")
                    after = toks[j] if j < len(toks) else ("", "")
                    # Word edges the regex demands hold for the anchor too (a cheaper search).
                    left = _is_word(run[0]) and not _wordy(before)
                    right = _is_word(run[-1]) and not _wordy(after)
                    # The text has the letters with or without each "'" (all or none
                    # of them is enough: a run rarely has more than one).
                    variants = {run.strip("'"), run.replace("'", "")} - {""}
                    if run.count("'") <= 1 or run.strip("'").count("'") == 0:
                        candidates.append(frozenset(_edged(v, left, right) for v in variants))
                i = j
                continue
            if kind == "ref":
                candidates.append(self.concept_anchors(value, depth + 1))
            elif kind == "num":
                candidates.append(frozenset("0123456789"))
            i += 1
        for cand in candidates:
            cost = sum(map(_anchor_cost, cand))
            if best is None or cost < best_cost:
                best, best_cost = cand, cost
        if best is None:  # cannot happen with _tokens' checks; never filter such a rule out
            raise PatternError("a rule must spell out at least one letter")
        return best

    def concept_anchors(self, name: str, depth: int) -> frozenset[str]:
        self.concept_sequences(name, depth)  # the same errors as the regex build
        if name not in self._anchor_cache:
            found: set[str] = set()
            for entry in self.concepts[name]:
                found |= self.anchors(entry, depth + 1)
            self._anchor_cache[name] = _minimal(found)
        return self._anchor_cache[name]

    def width(self, pattern: str, depth: int = 0) -> int:
        """The most characters a match of ``pattern`` can span."""
        toks = _tokens(pattern)
        total = 0
        for kind, value in toks:
            if kind == "ref":
                total += self.concept_width(value, depth + 1)
            elif kind == "gap":
                total += {"…": 10, "……": 30}.get(value, 60)
            elif kind == "num":
                total += _NUMBER_MAX
            elif kind == "ch":
                total += _SEP_MAX if value == " " else 1
        return total

    def concept_width(self, name: str, depth: int) -> int:
        self.concept_sequences(name, depth)
        if name not in self._width_cache:
            self._width_cache[name] = max(self.width(e, depth + 1) for e in self.concepts[name])
        return self._width_cache[name]

    def concept_sequences(self, name: str, depth: int) -> list[Seq]:
        if name not in self.concepts:
            raise PatternError(f"there is no concept '{{{name}}}' in crisis.concepts ({self.lang})")
        if depth > MAX_DEPTH:
            raise PatternError(f"concepts nested more than {MAX_DEPTH} deep at '{{{name}}}'")
        if name not in self._seq_cache:
            seqs: list[Seq] = []
            for n, entry in enumerate(self.concepts[name]):
                try:
                    seqs += self.sequences(entry, depth + 1)
                except RuleError:
                    raise
                except PatternError as exc:
                    raise RuleError(self.lang, f"crisis.concepts.{name}", n, str(exc)) from None
            if not seqs:
                raise PatternError(f"concept '{{{name}}}' is empty ({self.lang})")
            self._seq_cache[name] = seqs
        return self._seq_cache[name]

    def concept_group(self, name: str, depth: int) -> str:
        if name not in self._group_cache:
            body = _trie([(s, None) for s in self.concept_sequences(name, depth)])
            self._group_cache[name] = "(?:" + body + ")"
        return self._group_cache[name]

    def sequences(self, pattern: str, depth: int = 0) -> list[Seq]:
        toks = _tokens(pattern)
        rest = self._atoms(toks, 1, depth)
        kind, value = toks[0]
        if kind == "ref":
            # Keep every branch starting with a literal, without repeating ``rest``
            # for every entry: entries are grouped by their first letter.
            by_first: dict[str, list[Seq]] = {}
            for seq in self.concept_sequences(value, depth + 1):
                by_first.setdefault(seq[0], []).append(seq[1:])
            rest_size = sum(map(len, rest)) * (len(by_first) - 1)
            if len(by_first) > GROUP_HEADS or rest_size > REST_BUDGET:
                # Many first letters: one branch behind a guard of those letters
                # (repeating ``rest`` for each would make the regex slow to build).
                chars = "".join(re.escape(_unescape(a)) for a in sorted(by_first, key=_unescape))
                return [(f"(?=[{chars}])", self.concept_group(value, depth + 1), *rest)]
            out = []
            for first, tails in by_first.items():
                if all(not t for t in tails):
                    out.append((first, *rest))
                else:
                    out.append((first, "(?:" + _trie([(t, None) for t in tails]) + ")", *rest))
            return out
        if kind == "num":
            return [(d, r"(?<![\d,].)[\d,]{0,15}(?:\.\d{1,6})?", *rest) for d in "0123456789"]
        head: Seq = (re.escape(value),)
        if _is_word(value):
            head += (_FIRST,)
            if not (len(toks) > 1 and (_wordy(toks[1]) or toks[1] == ("ch", " "))):
                head += (_LAST,)
        return [head + rest]

    def _atoms(self, toks: Sequence[tuple[str, str]], start: int, depth: int) -> Seq:
        out: list[str] = []
        for i in range(start, len(toks)):
            kind, value = toks[i]
            prev = toks[i - 1]
            nxt = toks[i + 1] if i + 1 < len(toks) else ("", "")
            if kind == "ref":
                out.append(self.concept_group(value, depth + 1))
            elif kind == "gap":
                out.append({"…": _GAP, "……": _LONG_GAP}.get(value, _ACROSS))
            elif kind == "not":
                out.append(f"(?![{re.escape(fold(value))}])")
            elif kind == "end":
                out.append(_END)
            elif kind == "num":
                out.append(_NUMBER)
            elif value == " ":
                latin = (_wordy(prev) or prev[0] == "ref") and (_wordy(nxt) or nxt[0] == "ref")
                out.append(_SEP if latin else " ?")
            elif value == "'":
                out.append("'?")
            else:
                out.append(re.escape(value))
                if _is_word(value):
                    if not (_wordy(prev) or prev == ("ch", " ")):
                        out.append(_FIRST)
                    if not (_wordy(nxt) or nxt == ("ch", " ")):
                        out.append(_LAST)
        return tuple(out)


# Strings that turn up everywhere make poor anchors: the prefilter would let almost
# every message through to the large regex.
_COMMON = frozenset("""the and to my me i it a of in on you is be if so that this was for with have
just not all at now he she they we do are or but what can get go an no up out like
will would should could want how from tell know said say think make take time people see one
him her them there then when where who why which been has had did does got going about after
before more some any very really also only back still way even new need feel here our us your
their by as into over than too off down again never always ever much well good bad every
someone something anything everything nothing thing things day today tonight tomorrow week
dont don't im i'm its it's ive i've id i'd ill i'll cant can't wont won't didnt didn't let
call video photo photos picture pictures pics money send sent post posted family friends parents
police school account pay paid message messages phone
ます です ない して から いる ている ので けど たら れば そう かな った って という こと もの ある
なる する した しい ていた でも まし ました たい のが のに には とか よう もう""".split())
_VERY_COMMON = frozenset("the and to my me i it a of in on you is be so do go that this was for "
                         "have he we".split())
_EDGE_LEFT, _EDGE_RIGHT = "\x02", "\x03"  # in an anchor: a word starts / ends here


def _edged(run: str, left: bool, right: bool) -> str:
    """An anchor string, with marks for the word edges the rule demands."""
    if left and len(run) > 0:
        run = run[0] + _EDGE_LEFT + run[1:]
    return run + _EDGE_RIGHT if right else run


def _anchor_cost(anchor: str) -> float:
    """How often an anchor is likely to occur in ordinary text (relative, lower is rarer)."""
    edges = anchor.count(_EDGE_LEFT) + anchor.count(_EDGE_RIGHT)
    anchor = anchor.replace(_EDGE_LEFT, "").replace(_EDGE_RIGHT, "")
    if anchor in _COMMON:
        return 200.0 if anchor in _VERY_COMMON else 60.0
    latin = anchor.isascii()
    kana = all("\u3041" <= ch <= "\u3096" for ch in anchor)
    kanji = any("\u3400" <= ch <= "\u9fff" for ch in anchor)
    if len(anchor) == 1:
        return 3.0 if kanji else 40.0
    if latin:  # a few letters match inside many words, unless the rule wants a whole word
        return {2: 20.0, 3: 5.0}.get(len(anchor), 2.0 / len(anchor)) / (1 + edges)
    if len(anchor) == 2:
        return 8.0 if kana else 0.3
    return 1.0 if kana else 0.2


def _minimal(anchors: set[str]) -> frozenset[str]:
    """Drop anchors that contain a shorter one (finding the shorter one is enough)."""
    keep = sorted(anchors, key=len)
    out: list[str] = []
    for a in keep:
        if not any(b in a for b in out):
            out.append(a)
    return frozenset(out)


# An anchor that is a whole Latin word (edges on both sides; one "'" at most inside).
_WHOLE_WORD = re.compile(f"[{_WORD}]{_EDGE_LEFT}[{_WORD}]*(?:'[{_WORD}]+)?{_EDGE_RIGHT}")
# The words of a message: whole (can't) and split at "'" (will's: will).
_LATIN_WORDS = re.compile(f"[{_WORD}]+(?:'[{_WORD}]+)?")
_LATIN_PARTS = re.compile(f"[{_WORD}]+")


@functools.lru_cache(maxsize=256)
def _word_finder(words: frozenset[str]) -> re.Pattern[str]:
    """Where the given whole words are in a message."""
    alts = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(f"(?<![{_WORD}])(?:{alts})(?![{_WORD}])")


def _literal_regex(words: Iterable[str]) -> str:
    """A regex for any of the literal ``words`` (a prefix tree: one branch per first letter)."""
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    marks = {_EDGE_LEFT: _FIRST, _EDGE_RIGHT: _LAST}

    def emit(node: dict[str, Any]) -> str:
        if "" in node:
            return ""  # a shorter anchor is enough
        alts = [(marks.get(ch) or re.escape(ch)) + emit(child)
                for ch, child in sorted(node.items())]
        return alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"

    return emit(trie)


def _trie(items: Iterable[tuple[Seq, Any]], leaves: list[Any] | None = None) -> str:
    """One regex for any of the sequences, shared prefixes merged.

    With ``leaves``, each sequence ends in an empty capturing group whose number
    (``match.lastindex``) tells which sequence matched; its payload is appended
    to ``leaves`` in group order. Longer sequences are tried before shorter ones
    that they extend, so the more specific rule (e.g. an act already done) wins.
    At the top, branches are grouped by their first letter behind cheap
    look-ahead guards, so each position of a message tries only a few of them.
    """
    end = ""
    trie: dict[str, Any] = {}
    for seq, payload in items:
        node = trie
        for atom in seq:
            node = node.setdefault(atom, {})
        node.setdefault(end, payload)

    def emit(node: dict[str, Any]) -> str:
        alts = [atom + emit(child) for atom, child in node.items() if atom != end]
        if end in node:
            if leaves is not None:
                leaves.append(node[end])
                alts.append("()")
            else:
                alts.append("")  # the shorter entry is complete here
        if len(alts) == 1:
            return alts[0]
        return "(?:" + "|".join(alts) + ")"

    def dispatch(atoms: list[str]) -> str:
        if len(atoms) <= 8:
            return "|".join(atom + emit(trie[atom]) for atom in atoms)
        half = len(atoms) // 2
        parts = []
        for bucket in (atoms[:half], atoms[half:]):
            chars = "".join(re.escape(_unescape(a)) for a in bucket)
            parts.append(f"(?=[{chars}])(?:{dispatch(bucket)})")
        return "|".join(parts)

    if leaves is None:
        return emit(trie)
    # Latin branches only where a word starts (one cheap test per position).
    firsts = sorted((a for a in trie if a != end and not a.startswith("(?=")), key=_unescape)
    latin = [a for a in firsts if _unescape(a) < "\u0250"]
    other = [a for a in firsts if _unescape(a) >= "\u0250"]
    guarded = [guard + emit(trie[guard]) for guard in trie if guard.startswith("(?=")]
    parts = []
    if guarded:
        # One look-ahead for all of them: most letters of a message start none.
        heads = "".join(sorted({ch for g in trie if g.startswith("(?=") for ch in _guard_chars(g)}))
        parts.append(f"(?=[{heads}])(?:{'|'.join(guarded)})")
    if latin:
        parts.append(f"(?<![{_WORD}])(?:{dispatch(latin)})")
    if other:
        chars = "".join(re.escape(_unescape(a)) for a in other)
        parts.append(f"(?=[{chars}])(?:{dispatch(other)})")
    return "|".join(parts)


def _guard_chars(guard: str) -> list[str]:
    """The letters of a ``(?=[...])`` guard, escaped again for a character class."""
    body, chars, i = guard[4:-2], [], 0
    while i < len(body):
        if body[i] == "\\":
            chars.append(body[i:i + 2])
            i += 2
        else:
            chars.append(re.escape(body[i]))
            i += 1
    return chars


def _unescape(atom: str) -> str:
    return atom[1:] if atom.startswith("\\") and len(atom) == 2 else atom


# ---- locale values ---------------------------------------------------------------------------


def _get(tree: Mapping[str, Any], key: str) -> Any:
    if key in tree:
        return tree[key]
    node: Any = tree
    for step in key.split("."):
        if not isinstance(node, Mapping) or step not in node:
            return None
        node = node[step]
    return node


def _named_lists(tree: Mapping[str, Any], key: str, lang: str) -> dict[str, list[str]]:
    """``crisis.concepts`` / ``crisis.rules`` as {name: [texts]} (nested tree or flat keys)."""
    found: dict[str, Any] = {}
    nested = _get(tree, key)
    if isinstance(nested, Mapping):
        found.update(nested)
    elif nested is not None:
        raise RuleError(lang, key, None, "must be a list of names, each with a list of texts")
    for flat, value in tree.items():
        if isinstance(flat, str) and flat.startswith(key + ".") and "." not in flat[len(key) + 1:]:
            found[flat[len(key) + 1:]] = value
    for name, value in found.items():
        if value is None:
            found[name] = []
        elif not isinstance(value, list) or not all(isinstance(x, str) for x in value):
            raise RuleError(lang, f"{key}.{name}", None, "must be a list of texts")
    return found


def _text_list(tree: Mapping[str, Any], key: str, lang: str) -> list[str]:
    value = _get(tree, key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise RuleError(lang, key, None, "must be a list of texts")
    return list(value)


_BUILT: dict[str, CrisisDetector] = {}  # the detector is immutable once built


@dataclass(frozen=True)
class _Leaf:
    category: str
    urgent: bool
    lang: str
    rule: str


class CrisisDetector:
    """Decides whether a message needs the crisis screen, and how urgently."""

    def __init__(self, rules: Mapping[str, Mapping[str, list[str]]],
                 concepts: Mapping[str, Mapping[str, list[str]]] | None = None,
                 exclusions: Mapping[str, list[str]] | None = None,
                 urgent: Iterable[str] = ("act_done",)) -> None:
        """``rules``: {lang: {category: [rule]}}; ``concepts``: {lang: {name: [entry]}}."""
        self.urgent = frozenset(urgent)
        items: list[tuple[Seq, _Leaf]] = []
        excl: list[tuple[Seq, None]] = []
        anchors: set[str] = set()
        self.rule_anchors: dict[tuple[str, str, str], frozenset[str]] = {}  # (lang, category, rule)
        longest = excl_longest = 0
        widths: list[tuple[frozenset[str], int, str]] = []  # (anchors, width, lang) of each rule
        excl_widths: dict[str, int] = {}
        for lang, by_category in rules.items():
            compiler = _Compiler(lang, (concepts or {}).get(lang, {}))
            for category, patterns in by_category.items():
                if category not in CATEGORIES:
                    raise RuleError(lang, f"crisis.rules.{category}", None,
                                    f"unknown category (use one of: {', '.join(CATEGORIES)})")
                leaf = None
                for n, pattern in enumerate(patterns):
                    leaf = _Leaf(category, category in self.urgent, lang, pattern)
                    try:
                        items += [(seq, leaf) for seq in compiler.sequences(pattern)]
                        found = compiler.anchors(pattern)
                        self.rule_anchors[(lang, category, pattern)] = found
                        anchors |= found
                        widths.append((found, compiler.width(pattern), lang))
                        longest = max(longest, widths[-1][1])
                    except RuleError:
                        raise
                    except PatternError as exc:
                        raise RuleError(lang, f"crisis.rules.{category}", n, str(exc)) from None
            for n, pattern in enumerate((exclusions or {}).get(lang, [])):
                try:
                    excl += [(seq, None) for seq in compiler.sequences(pattern)]
                    excl_longest = max(excl_longest, compiler.width(pattern))
                    excl_widths[lang] = max(excl_widths.get(lang, 0), compiler.width(pattern))
                except RuleError:
                    raise
                except PatternError as exc:
                    raise RuleError(lang, "crisis.exclusions", n, str(exc)) from None
        if not items:
            raise PatternError("crisis detector has no rules (crisis.rules is empty)")
        leaves: list[_Leaf] = []
        # Urgent rules first: at one position of a message, an act already done wins.
        items.sort(key=lambda item: not item[1].urgent)
        source = _trie(items, leaves)
        self._leaves: list[_Leaf | None] = [None, *leaves]  # group 1 is leaves[0]
        # The acts already done, on their own: a plan that starts at the same letter
        # ("薬ためてた…") must not hide the act ("…全部飲んじゃった") in the combined search.
        urgent_leaves: list[_Leaf] = []
        urgent_items = [item for item in items if item[1].urgent]
        self._sources = (source, _trie(urgent_items, urgent_leaves) if urgent_items else None,
                         _trie(excl) if excl else None)
        self._urgent_leaves: list[_Leaf | None] = [None, *urgent_leaves]
        self.size = len(items)
        # The prefilter: every cue holds one of these anchors, and lies within ``reach``
        # characters of it, together with any exclusion that could hide it (and the
        # few letters the look-arounds read). Only those windows are searched.
        self.anchors = _minimal(anchors)
        self.reach = longest + excl_longest + 16  # the most any anchor needs
        # How far each anchor must reach: its longest rule, and the exclusions of that
        # language (a rule's anchors may have been replaced by a shorter one inside them).
        kept = {a.replace(_EDGE_LEFT, "").replace(_EDGE_RIGHT, "") for a in self.anchors}
        self._reach: dict[str, int] = {}
        for found, width, lang in widths:
            need = width + excl_widths.get(lang, 0) + 16
            for rule_anchor in found:
                text = rule_anchor.replace(_EDGE_LEFT, "").replace(_EDGE_RIGHT, "")
                for i in range(len(text)):  # every kept anchor inside this one
                    for j in range(i + 1, len(text) + 1):
                        if text[i:j] in kept:
                            self._reach[text[i:j]] = max(self._reach.get(text[i:j], 0), need)
        # Whole Latin words (most English anchors) are looked up in a set of the
        # message's words; the rest (Japanese, parts of words) by one small regex.
        self._words = frozenset(a.replace(_EDGE_LEFT, "").replace(_EDGE_RIGHT, "")
                                for a in self.anchors if _WHOLE_WORD.fullmatch(a))
        # (A few small regexes, split by the kind of their first letter, search much
        # faster than one: each can skip over the letters that start none of its anchors.)
        groups: dict[int, list[str]] = {}
        for a in self.anchors:
            if not _WHOLE_WORD.fullmatch(a):
                script = 0 if a[0] < "\u3041" else 1 if a[0] <= "\u309f" else 2
                groups.setdefault(script, []).append(a)
        self._anchor_sources = [_literal_regex(group) for _, group in sorted(groups.items())]
        self._anchor: list[re.Pattern[str]] | None = None
        # Compiling the regular expressions takes Python a second or two (they are large):
        # it happens in a background thread from now on, so start-up does not wait for
        # it; the first message waits only if it comes before the thread is done.
        self._any: re.Pattern[str] | None = None
        # The second net (``_crisis_model``): only ever adds a screen the rules did not open.
        self.model: NgramModel | None = None
        self._urgent: re.Pattern[str] | None = None
        self._hide: re.Pattern[str] | None = None
        self._error: BaseException | None = None
        self._lock = threading.Lock()
        threading.Thread(target=self._compile, name="crisis-rules", daemon=True).start()

    def _compile(self) -> None:
        with self._lock:
            if self._any is not None or self._error is not None:
                return
            try:
                main, urgent, hide = self._sources
                self._urgent = re.compile(urgent) if urgent else None
                self._hide = re.compile(hide) if hide else None
                self._anchor = [re.compile(source) for source in self._anchor_sources]
                self._any = re.compile(main)  # last: once set, everything is there
            except (re.error, RecursionError, MemoryError) as exc:
                self._error = exc

    def ready(self) -> CrisisDetector:
        """Wait until the rules are compiled (at most once per detector); returns ``self``."""
        if self._any is None:
            self._compile()
            if self._error is not None:
                raise PatternError(f"the crisis rules could not be compiled: {self._error}")
        return self

    @classmethod
    def from_locale_values(cls, values: Mapping[str, Mapping[str, Any]]) -> CrisisDetector:
        """Build from ``{lang: locale values}`` (nested tree or flat dotted keys)."""
        rules, concepts, exclusions = {}, {}, {}
        urgent: set[str] = set()
        for lang, tree in values.items():
            rules[lang] = _named_lists(tree, "crisis.rules", lang)
            concepts[lang] = _named_lists(tree, "crisis.concepts", lang)
            exclusions[lang] = _text_list(tree, "crisis.exclusions", lang)
            for n, name in enumerate(_text_list(tree, "crisis.urgent", lang)):
                if name not in CATEGORIES:
                    raise RuleError(lang, "crisis.urgent", n, f"unknown category '{name}'")
                urgent.add(name)
        # Tests and live reload build the same rules again and again: compile them once.
        key = repr((rules, concepts, exclusions, sorted(urgent)))
        if key not in _BUILT:
            if len(_BUILT) >= 8:
                _BUILT.pop(next(iter(_BUILT)))
            _BUILT[key] = cls(rules, concepts, exclusions, urgent)
            _BUILT[key].model = NgramModel.load()
        return _BUILT[key]

    from_texts = from_locale_values  # the name used in the first design notes

    def detect(self, text: str) -> CrisisMatch | None:
        """What crisis cue ``text`` holds (an urgent one if any), or None."""
        return self.detect_prepared(prepare(text))

    def detect_prepared(self, norm: str) -> CrisisMatch | None:
        """Like :meth:`detect`, for text already passed through ``prepare``."""
        norm = fold(norm)
        if self._any is None:
            self.ready()
        assert self._anchor is not None
        first: CrisisMatch | None = None
        for start, end in self.windows(norm):
            found = self._detect_in(norm[start:end])
            if found is not None:
                if found.urgent:
                    return found
                first = first or found
        if first is None and self.model is not None and self.model.fires(norm):
            return CrisisMatch(MODEL_CATEGORY, False, "", "model")
        return first

    def windows(self, norm: str) -> list[tuple[int, int]]:
        """The parts of a folded message that can hold a cue: around each anchor, merged.

        Every cue contains an anchor and is at most ``reach`` characters from it, and
        so are the exclusions that could hide it: a window of ``reach`` on each side
        holds the cue with all the text the rules read around it.
        """
        assert self._anchor is not None
        spans = [m.span() for rx in self._anchor for m in rx.finditer(norm)]
        found = set(_LATIN_PARTS.findall(norm))
        if "'" in norm:
            found.update(_LATIN_WORDS.findall(norm))
        if words := self._words.intersection(found):
            spans += [m.span() for m in _word_finder(frozenset(words)).finditer(norm)]
        spans.sort()
        out: list[tuple[int, int]] = []
        size, reach = len(norm), self._reach
        for a, b in spans:
            far = reach.get(norm[a:b], self.reach)
            start, end = max(0, a - far), min(size, b + far)
            if out and start <= out[-1][1]:
                out[-1] = (out[-1][0], max(end, out[-1][1]))
            else:
                out.append((start, end))
        return out

    def _detect_in(self, norm: str) -> CrisisMatch | None:
        assert self._any is not None
        hit = self._any.search(norm)
        if hit is None:
            return None  # the fast path: most messages stop here
        # Nothing before the first cue can fire: read on from a little before it (an
        # exclusion such as "お腹すいて死にそう" starts before the cue it hides).
        norm = norm[max(0, hit.start() - _BACK):]
        if self._hide is not None:
            norm = self._hide.sub(_HIDDEN, norm)
        first: _Leaf | None = None
        for m in self._any.finditer(norm):
            leaf = self._leaves[m.lastindex or 0]
            if leaf is None:
                continue
            if leaf.urgent:
                return CrisisMatch(leaf.category, True, leaf.lang, leaf.rule)
            first = leaf
            break
        if first is None:
            return None
        # Something fired: is an act already done hidden under (or after) it?
        if self._urgent is not None and (u := self._urgent.search(norm)) is not None:
            leaf = self._urgent_leaves[u.lastindex or 0]
            if leaf is not None:
                return CrisisMatch(leaf.category, True, leaf.lang, leaf.rule)
        return CrisisMatch(first.category, False, first.lang, first.rule)

    def rules_only(self) -> CrisisDetector:
        """The same detector without the n-gram model (answers to factual questions, where
        people quote the other side; tests and reviews of the rules). Built once."""
        if self.model is None:
            return self
        twin = self.__dict__.get("_rules_only")
        if twin is None:
            self.ready()  # the twin shares the compiled rules, so compile them first
            twin = copy.copy(self)
            twin.model = None
            self.__dict__["_rules_only"] = twin
        return twin

    def fires(self, text: str) -> bool:
        """True when ``text`` needs the crisis screen (the bool form of :meth:`detect`)."""
        return self.detect(text) is not None

    def find(self, text: str) -> list[str]:
        """Every rule that fired, as written (for tests and reviews; never log them)."""
        norm = fold(prepare(text))
        self.ready()
        assert self._any is not None
        if self._hide is not None:
            norm = self._hide.sub(_HIDDEN, norm)
        found = []
        for m in self._any.finditer(norm):
            leaf = self._leaves[m.lastindex or 0]
            if leaf is not None:
                found.append(f"{leaf.category}: {leaf.rule}")
        return found
