"""Dates and times typed by people ("今", "昨日の夜11時", "2 hours ago", "11/24 23:10").

Pure functions: the clock is passed in as ``now`` (timezone-aware); nothing here reads
the system clock or the locale. Results are in ``now``'s time zone, to the minute.

Rules for filling in what was not said:

* a time without a date is the latest such time that is not in the future
  ("23:10" at 01:30 is yesterday 23:10);
* a month and day without a year is the latest such date not in the future
  ("12/1" on 2026-11-25 is 2025-12-01);
* "in the future" means later than ``now`` + 5 minutes (clocks and typing lag);
* what was said explicitly (a year, "today", "yesterday") is taken as said;
* night hours after a day word belong to the night after that day
  ("昨日の深夜1時" is today 01:00), unless that moment is still to come.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo

__all__ = ["JST", "When", "format_when", "parse_when", "parse_when_ex"]

JST = timezone(timedelta(hours=9), "JST")
"""Japan time (no daylight saving), the default zone for date-only slot values."""

_SLACK = timedelta(minutes=5)
_MAX_BACK = timedelta(days=3660)
_MAX_INPUT = 100

_SLOT_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_SLOT_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?(?:Z|[+-]\d{2}:\d{2})", re.A)


@dataclass(frozen=True, slots=True)
class When:
    """A moment someone told us: ``at`` (aware) and whether a time of day was given."""

    at: datetime
    has_time: bool

    def __post_init__(self) -> None:
        if self.at.tzinfo is None or self.at.utcoffset() is None:
            raise ValueError("When.at must be timezone-aware")

    def to_slot(self) -> str:
        """``"2026-11-24T23:10+09:00"``, or ``"2026-11-24"`` when no time was given."""
        if self.has_time:
            return self.at.replace(second=0, microsecond=0).isoformat(timespec="minutes")
        return self.at.date().isoformat()

    @classmethod
    def from_slot(cls, value: str, tz: tzinfo = JST) -> When:
        """Read a value written by :meth:`to_slot`; ``tz`` is used for a bare date.

        Raises ``ValueError`` for anything else.
        """
        if isinstance(value, str):
            if _SLOT_DATE.fullmatch(value):
                d = date.fromisoformat(value)
                return cls(datetime(d.year, d.month, d.day, tzinfo=tz), False)
            if _SLOT_DATETIME.fullmatch(value):
                return cls(datetime.fromisoformat(value), True)
        raise ValueError(f"not a date/time slot value: {value!r}")


# --------------------------------------------------------------------------- formatting

_WEEKDAYS_JA = "月火水木金土日"
_WEEKDAYS_EN = "Mon Tue Wed Thu Fri Sat Sun".split()
_MONTHS_EN = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def format_when(dt: datetime, has_time: bool, lang: str) -> str:
    """``"2026年11月24日(火) 23:10"`` (ja) or ``"Tue 24 Nov 2026, 23:10"`` (other languages)."""
    if lang.lower().startswith("ja"):
        text = f"{dt.year}年{dt.month}月{dt.day}日({_WEEKDAYS_JA[dt.weekday()]})"
        return f"{text} {dt:%H:%M}" if has_time else text
    text = f"{_WEEKDAYS_EN[dt.weekday()]} {dt.day} {_MONTHS_EN[dt.month - 1]} {dt.year}"
    return f"{text}, {dt:%H:%M}" if has_time else text


# --------------------------------------------------------------------------- normalising

_KANJI_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4,
                 "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_KANJI_NUMBER = re.compile(r"[〇零一二三四五六七八九十百]+(?=\s?(?:年|月|日|時|分|週))")
# words typed in hiragana only (children often do): "きのうのよる11じ", "3じかんまえ"
_KANA_WORDS = {"ごぜん": "午前", "ごご": "午後", "よる": "夜", "あさ": "朝", "ひる": "昼",
               "ゆうがた": "夕方", "しんや": "深夜", "よなか": "夜中", "じかん": "時間",
               "じ": "時", "ふん": "分", "ぷん": "分", "まえ": "前", "はん": "半"}
_KANA = re.compile(
    r"ごぜん|ごご|よる|あさ|ひる|ゆうがた|しんや|よなか"
    r"|(?<=\d)\s?(?:じかん|じ|ふん|ぷん)|(?<=[時分間半])\s?まえ|(?<=[時間])はん"
)
_LEADING = re.compile(
    r"^(?:(?:(?:around|about|approx|approximately|roughly|maybe|probably|at|on)\b\.?"
    r"|~|〜|だいたい|大体|たぶん|多分|約|確か|たしか|おそらく)\s?)+"
)
_TRAILING = re.compile(
    r"(?:\s?(?:に|です|でした|だった|ごろ|頃|ころ|くらい|ぐらい|位|前後|ish|or so|[.。!?、,]))+$"
)


def _kanji_to_digits(match: re.Match[str]) -> str:
    total = current = 0
    chars = match.group()
    if "十" not in chars and "百" not in chars:
        return "".join(str(_KANJI_DIGITS[c]) for c in chars)
    for c in chars:
        if c in "十百":
            total += (current or 1) * (10 if c == "十" else 100)
            current = 0
        else:
            current = current * 10 + _KANJI_DIGITS[c]
    return str(total + current)


def _normalise(text: str) -> str:
    s = unicodedata.normalize("NFKC", text).lower()
    s = _KANJI_NUMBER.sub(_kanji_to_digits, s)
    for _ in range(3):  # "1じかんはんまえ" -> "1時間はんまえ" -> "1時間半まえ" -> "1時間半前"
        s = _KANA.sub(lambda m: _KANA_WORDS[m.group().strip()], s)
    s = re.sub(r"\s+", " ", s).strip()
    s = _LEADING.sub("", s)
    return _TRAILING.sub("", s).strip()


# --------------------------------------------------------------------------- vocabulary

_NOW = frozenset({"now", "just now", "right now", "今", "いま", "さっき", "ついさっき",
                  "今さっき", "たった今", "たったいま", "ちょうど今"})

# word -> (days from today, period of the day it implies)
_DAY_WORDS: dict[str, tuple[int, str | None]] = {
    "today": (0, None), "今日": (0, None), "きょう": (0, None), "本日": (0, None),
    "yesterday": (-1, None), "昨日": (-1, None), "きのう": (-1, None),
    "the day before yesterday": (-2, None), "day before yesterday": (-2, None),
    "一昨日": (-2, None), "おととい": (-2, None), "おとつい": (-2, None),
    "this morning": (0, "morning"), "今朝": (0, "morning"), "けさ": (0, "morning"),
    "this afternoon": (0, "pm"), "this evening": (0, "evening"),
    "tonight": (0, "night"), "今夜": (0, "night"), "今晩": (0, "night"),
    "last night": (-1, "night"), "昨夜": (-1, "night"), "昨晩": (-1, "night"),
    "ゆうべ": (-1, "night"), "一昨晩": (-2, "night"), "一昨夜": (-2, "night"),
}
_PERIODS = {
    "午前": "am", "午後": "pm", "早朝": "morning", "明け方": "morning", "朝": "morning",
    "昼": "noon", "夕方": "evening", "夜中": "late", "深夜": "late", "未明": "late",
    "夜": "night", "晩": "night",
    "morning": "morning", "afternoon": "pm", "evening": "evening", "night": "night",
}
_EN_PERIOD = "morning|afternoon|evening|night"
_JA_PERIOD = "|".join(sorted((k for k in _PERIODS if not k.isascii()), key=len, reverse=True))
_MONTH = (r"(?P<mon>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?"
          r"|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
_MONTH_NUMBERS = {name.lower(): i for i, name in enumerate(_MONTHS_EN, 1)}
_EN_WEEKDAY = r"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s)?"
_JA_WEEKDAY = r"(?:\s?\([月火水木金土日](?:曜日?)?\))?"
_DAY = r"(?P<d>\d{1,2})(?:st|nd|rd|th)?"

_DATE_PATTERNS = [re.compile(p) for p in (
    r"(?P<word>" + "|".join(sorted(map(re.escape, _DAY_WORDS), key=len, reverse=True))
    + r")(?:\s(?P<per>" + _EN_PERIOD + r"))?",
    r"(?P<y>\d{4})\s?年\s?(?P<m>\d{1,2})\s?月\s?(?P<d>\d{1,2})\s?日" + _JA_WEEKDAY,
    r"(?P<m>\d{1,2})\s?月\s?(?P<d>\d{1,2})\s?日" + _JA_WEEKDAY,
    r"(?P<y>\d{4})([-/.])(?P<m>\d{1,2})\2(?P<d>\d{1,2})(?!\d)" + _JA_WEEKDAY,
    r"(?P<m>\d{1,2})/(?P<d>\d{1,2})(?![\d/])" + _JA_WEEKDAY,
    _EN_WEEKDAY + _DAY + r"\s?" + _MONTH + r"(?:,?\s(?P<y>\d{4}))?(?![a-z\d])",
    _EN_WEEKDAY + _MONTH + r"\s" + _DAY + r"(?:,?\s(?P<y>\d{4}))?(?![a-z\d])",
)]
_TIME = re.compile(
    r"(?:(?P<per>" + _JA_PERIOD + r")\s?(?:の\s?)?)?"
    r"(?:(?P<noon>正午|noon)"
    r"|(?P<h>\d{1,2})(?::(?P<m>\d{2})(?::\d{2})?"
    r"|\s?時(?:\s?(?P<jm>\d{1,2})\s?分|\s?(?P<half>半))?)?)"
    r"(?:\s?(?P<ampm>[ap])\.?m\b\.?)?"
)
_PERIOD_ONLY = re.compile(r"(?:in the )?(?P<per>" + _JA_PERIOD + "|" + _EN_PERIOD + ")")
_SEPARATOR = re.compile(r"(?:\s|,|、|の|@|\bat\b|\bon\b)*")

_AGO_JA = re.compile(
    r"(?P<n>\d{1,6}(?:\.\d{1,3})?)\s?(?P<u>分|時間|日|週間|週)"
    r"(?:\s?(?P<half>半)|\s?(?P<m2>\d{1,2})\s?分)?\s?(?:くらい|ぐらい|ほど|位)?\s?前"
)
_AGO_EN = re.compile(
    r"(?P<n>\d{1,6}(?:\.\d{1,3})?|an?|one|half an?)\s?"
    r"(?P<u>minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|wks?)"
    r"(?:\s(?P<half>and a half)|\s(?:and\s)?(?P<m2>\d{1,2})\s?(?:minutes?|mins?|m))?\sago"
)
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}t\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:z|[+-]\d{2}:\d{2})?")
_UNIT_MINUTES = {"分": 1, "m": 1, "時間": 60, "h": 60, "日": 1440, "d": 1440,
                 "週": 10080, "週間": 10080, "w": 10080}


# --------------------------------------------------------------------------- parsing

def parse_when(text: str, now: datetime) -> datetime | None:
    """The moment ``text`` names, in ``now``'s zone (00:00 for a bare date), or None."""
    when = parse_when_ex(text, now)
    return when.at if when else None


def parse_when_ex(text: str, now: datetime) -> When | None:
    """Like :func:`parse_when`, but also tells whether a time of day was given."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if not isinstance(text, str) or len(text) > _MAX_INPUT:
        return None
    s = _normalise(text)
    if not s:
        return None
    if s in _NOW:
        return When(now.replace(second=0, microsecond=0), True)
    try:
        if _ISO.fullmatch(s):
            at = datetime.fromisoformat(s.upper())
            at = at.replace(tzinfo=now.tzinfo) if at.tzinfo is None else at.astimezone(now.tzinfo)
            return When(at.replace(second=0, microsecond=0), True)
        return _ago(s, now) or _explicit(s, now)
    except (ValueError, OverflowError):
        return None


def _ago(s: str, now: datetime) -> When | None:
    """'3時間前', '30分前', '1時間半前', '2 hours ago', 'half an hour ago', '3 days ago'."""
    m = _AGO_JA.fullmatch(s) or _AGO_EN.fullmatch(s)
    if not m:
        return None
    raw = m["n"]
    n = {"a": 1.0, "an": 1.0, "one": 1.0, "half a": 0.5, "half an": 0.5}.get(raw) or float(raw)
    unit = _UNIT_MINUTES.get(m["u"]) or _UNIT_MINUTES[m["u"][0]]
    if m["half"]:
        n += 0.5
    minutes = n * unit
    if m["m2"]:
        if unit != 60 or n != int(n) or int(m["m2"]) > 59:
            return None
        minutes += int(m["m2"])
    if unit >= 1440 and (n != int(n) or m["half"]):
        return None
    delta = timedelta(minutes=minutes)
    if delta > _MAX_BACK:
        return None
    if unit >= 1440:
        return _midnight(now.date() - timedelta(days=int(minutes // 1440)), now.tzinfo)
    at = (now.astimezone(UTC) - delta).astimezone(now.tzinfo)
    return When(at.replace(second=0, microsecond=0), True)


def _explicit(s: str, now: datetime) -> When | None:
    """A date, a time, or both (in either order)."""
    for pattern in _DATE_PATTERNS:
        d = pattern.match(s)
        if d:
            rest = _skip_separators(s, d.end())
            if rest == len(s) or _PERIOD_ONLY.fullmatch(s, rest):
                return _resolve(d, None, now)  # "昨日", "昨日の夜": the day only
            t = _TIME.match(s, rest)
            if t and t.end() == len(s):
                return _resolve(d, t, now)
            break
    t = _TIME.match(s)
    if not t:
        return None
    rest = _skip_separators(s, t.end())
    if rest == len(s):
        return _resolve(None, t, now)
    for pattern in _DATE_PATTERNS:
        d = pattern.match(s, rest)
        if d and d.end() == len(s):
            return _resolve(d, t, now)
    return None


def _skip_separators(s: str, pos: int) -> int:
    m = _SEPARATOR.match(s, pos)
    return m.end() if m else pos


def _days(d: re.Match[str], now: datetime) -> tuple[list[date], str | None, bool] | None:
    """Candidate days (latest first), the period of day a word implies, and whether explicit."""
    parts = d.groupdict()
    if parts.get("word"):
        offset, period = _DAY_WORDS[parts["word"]]
        if parts["per"]:
            if period is not None:
                return None  # "last night morning"
            period = _PERIODS[parts["per"]]
        return [now.date() + timedelta(days=offset)], period, True
    month = _MONTH_NUMBERS[parts["mon"][:3]] if parts.get("mon") else int(parts["m"])
    day = int(parts["d"])
    if parts.get("y"):
        year = int(parts["y"])
        if not 1900 <= year <= now.year + 1:
            return None
        return [date(year, month, day)], None, True
    days = [c for y in range(now.year, now.year - 5, -1) if (c := _date_or_none(y, month, day))]
    return (days, None, False) if days else None


def _resolve(d: re.Match[str] | None, t: re.Match[str] | None, now: datetime) -> When | None:
    """Turn the matched date and time parts into a moment, filling gaps toward the past."""
    tz = now.tzinfo
    latest = now + _SLACK
    days: list[date] = []
    period: str | None = None
    explicit = False
    if d is not None:
        found = _days(d, now)
        if found is None:
            return None
        days, period, explicit = found
    if t is None:
        for day in days:
            when = _midnight(day, tz)
            if explicit or when.at <= latest:
                return when
        return None
    clock = _clock(t, period)
    if clock is None:
        return None
    hour, minute, night_after = clock
    if d is None:  # a time alone: today, or yesterday if that is still to come
        days = [now.date(), now.date() - timedelta(days=1)]
        night_after = False
    for day in days:
        at = datetime.combine(day, time(hour, minute), tzinfo=tz)
        if night_after and at + timedelta(days=1) <= latest:
            at += timedelta(days=1)
        if explicit or at <= latest:
            return When(at, True)
    return None


def _clock(t: re.Match[str], day_period: str | None) -> tuple[int, int, bool] | None:
    """(hour, minute, belongs to the night after the day) from a matched time, or None."""
    if t["noon"]:
        return (12, 0, False) if not t["ampm"] else None
    hour = int(t["h"])
    minute = int(t["m"] or t["jm"] or 0) + (30 if t["half"] else 0)
    if minute > 59:
        return None
    bare = t["m"] is None and "時" not in t.group()
    if t["ampm"]:
        period: str | None = "am" if t["ampm"] == "a" else "pm"
    else:
        period = _PERIODS[t["per"]] if t["per"] else day_period
    if bare and period is None:
        return None  # "yesterday at 11": morning or night? Ask again.
    converted = _to_24h(hour, period)
    if converted is None:
        return None
    return converted[0], minute, converted[1]


def _to_24h(h: int, period: str | None) -> tuple[int, bool] | None:
    """Apply a period of the day to an hour: (0-23 hour, is in the night after the day)."""
    if period is None:
        ok = 0 <= h <= 23
        return (h, False) if ok else None
    if period == "am":
        return (h % 12, False) if 0 <= h <= 12 else None
    if period == "pm":
        return ((h % 12) + 12, False) if 0 <= h <= 12 else ((h, False) if h <= 23 else None)
    if period == "morning":
        return (h, False) if 0 <= h <= 11 else None
    if period == "noon":
        return ((h + 12, False) if 1 <= h <= 6 else (h, False) if 10 <= h <= 17 else None)
    if period == "evening":
        return ((h + 12, False) if 1 <= h <= 11 else (h, False) if 13 <= h <= 23 else None)
    if period == "night":
        if 6 <= h <= 11:
            return h + 12, False
        if h == 12 or 0 <= h <= 5:
            return h % 12, True
        return (h, False) if 18 <= h <= 23 else None
    # "late": 深夜 / 夜中 / 未明
    if 0 <= h <= 5 or h == 12:
        return h % 12, True
    if h in (10, 11):
        return h + 12, False
    return (h, False) if h in (22, 23) else None


def _date_or_none(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _midnight(d: date, tz: tzinfo | None) -> When:
    return When(datetime.combine(d, time(0, 0), tzinfo=tz), False)
