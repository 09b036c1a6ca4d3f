"""bot.answers._datetimes: parsing typed dates and times, formatting them, slot values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.answers._datetimes import JST, When, format_when, parse_when, parse_when_ex

TOKYO = ZoneInfo("Asia/Tokyo")
NOW = datetime(2026, 11, 25, 1, 30, tzinfo=TOKYO)  # a Wednesday, 01:30 at night


def at(month: int, day: int, hour: int = 0, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=TOKYO)


# (text, expected moment, whether a time of day was given)
ACCEPTED = [
    # now
    ("now", at(11, 25, 1, 30), True),
    ("just now", at(11, 25, 1, 30), True),
    ("今", at(11, 25, 1, 30), True),
    ("いま", at(11, 25, 1, 30), True),
    ("さっき", at(11, 25, 1, 30), True),
    ("今です", at(11, 25, 1, 30), True),
    # days
    ("today", at(11, 25), False),
    ("今日", at(11, 25), False),
    ("きょう", at(11, 25), False),
    ("yesterday", at(11, 24), False),
    ("昨日", at(11, 24), False),
    ("きのう", at(11, 24), False),
    ("一昨日", at(11, 23), False),
    ("おととい", at(11, 23), False),
    ("day before yesterday", at(11, 23), False),
    # full dates and times
    ("2026-11-24 23:10", at(11, 24, 23, 10), True),
    ("2026/11/24 23:10", at(11, 24, 23, 10), True),
    ("11/24 23:10", at(11, 24, 23, 10), True),
    ("11/24", at(11, 24), False),
    ("11月24日", at(11, 24), False),
    ("11月24日 23時10分", at(11, 24, 23, 10), True),
    ("11月24日23時", at(11, 24, 23, 0), True),
    ("2026年11月24日", at(11, 24), False),
    ("11月24日の夜", at(11, 24), False),
    # a time alone: today, or yesterday when that time is still to come
    ("23:10", at(11, 24, 23, 10), True),
    ("01:00", at(11, 25, 1, 0), True),
    ("1:33", at(11, 25, 1, 33), True),  # within the 5 minutes of slack
    ("午前2時", at(11, 24, 2, 0), True),
    ("夜11時半", at(11, 24, 23, 30), True),
    ("11pm", at(11, 24, 23, 0), True),
    ("11:30 p.m.", at(11, 24, 23, 30), True),
    ("12am", at(11, 25, 0, 0), True),
    ("正午", at(11, 24, 12, 0), True),
    ("夕方6時", at(11, 24, 18, 0), True),
    ("11時ごろ", at(11, 24, 11, 0), True),
    # day + time
    ("昨日 23:10", at(11, 24, 23, 10), True),
    ("昨日の夜11時", at(11, 24, 23, 0), True),
    ("昨日の夜11時ごろです。", at(11, 24, 23, 0), True),
    ("今日の午後3時", at(11, 25, 15, 0), True),  # said explicitly: taken as said
    ("昨日の昼12時", at(11, 24, 12, 0), True),
    ("昨日の夜12時", at(11, 25, 0, 0), True),  # midnight at the end of yesterday
    ("昨日の深夜1時", at(11, 25, 1, 0), True),  # the night after yesterday
    ("昨日の深夜2時", at(11, 24, 2, 0), True),  # ... unless that is still to come
    ("yesterday 11pm", at(11, 24, 23, 0), True),
    ("yesterday at 23:10", at(11, 24, 23, 10), True),
    ("at 11pm yesterday", at(11, 24, 23, 0), True),
    ("23:10 yesterday", at(11, 24, 23, 10), True),
    ("last night at 11", at(11, 24, 23, 0), True),
    ("11pm last night", at(11, 24, 23, 0), True),
    ("noon yesterday", at(11, 24, 12, 0), True),
    ("last night", at(11, 24), False),
    ("昨日の夜", at(11, 24), False),
    ("this morning", at(11, 25), False),
    # English dates
    ("Nov 24 23:10", at(11, 24, 23, 10), True),
    ("24 Nov", at(11, 24), False),
    ("24th November", at(11, 24), False),
    ("November 24, 2026", at(11, 24), False),
    # relative
    ("3時間前", at(11, 24, 22, 30), True),
    ("30分前", at(11, 25, 1, 0), True),
    ("1時間半前", at(11, 25, 0, 0), True),
    ("1時間30分前", at(11, 25, 0, 0), True),
    ("3時間くらい前", at(11, 24, 22, 30), True),
    ("3日前", at(11, 22), False),
    ("2 hours ago", at(11, 24, 23, 30), True),
    ("about 2 hours ago", at(11, 24, 23, 30), True),
    ("half an hour ago", at(11, 25, 1, 0), True),
    ("an hour and a half ago", at(11, 25, 0, 0), True),
    ("2 days ago", at(11, 23), False),
    # full-width digits and spaces (NFKC), kanji numerals, hiragana only
    ("１１／２４　２３：１０", at(11, 24, 23, 10), True),
    ("２３時１０分", at(11, 24, 23, 10), True),
    ("２０２６－１１－２４", at(11, 24), False),
    ("十一月二十四日", at(11, 24), False),
    ("三時間前", at(11, 24, 22, 30), True),
    ("きのうのよる11じ", at(11, 24, 23, 0), True),
    ("3じかんまえ", at(11, 24, 22, 30), True),
    # what format_when and When.to_slot write reads back
    ("2026年11月24日(火) 23:10", at(11, 24, 23, 10), True),
    ("Tue 24 Nov 2026, 23:10", at(11, 24, 23, 10), True),
    ("2026-11-24T23:10+09:00", at(11, 24, 23, 10), True),
    ("2026-11-24T14:10Z", at(11, 24, 23, 10), True),
    # no year and in the future: the year before
    ("12/1", at(12, 1, year=2025), False),
    ("12月31日 22:00", at(12, 31, 22, 0, year=2025), True),
    ("11/25 23:00", at(11, 25, 23, 0, year=2025), True),
    ("11/25", at(11, 25), False),  # today is not the future
    ("2/29", at(2, 29, year=2024), False),  # the latest 29 February
]


@pytest.mark.parametrize(("text", "expected", "has_time"), ACCEPTED)
def test_accepted(text: str, expected: datetime, has_time: bool) -> None:
    when = parse_when_ex(text, NOW)
    assert when is not None, text
    assert (when.at, when.has_time) == (expected, has_time)
    assert when.at.tzinfo is TOKYO
    assert parse_when(text, NOW) == expected


@pytest.mark.parametrize(
    "text",
    [
        "banana", "13/45", "13/45 23:10", "25時", "昨日 25時", "", "   ", "24:00", "23:60",
        "11/31", "2/30", "2026-13-01", "9999-01-01", "12", "yesterday at 11",  # morning or night?
        "tomorrow", "明日", "あさって", "夜", "yesterday yesterday", "last night morning",
        "3 bananas ago", "1.5日前", "1234567時間前", "午後13時半前", "今日は怖い", "x" * 500,
    ],
)
def test_rejected(text: str) -> None:
    assert parse_when_ex(text, NOW) is None
    assert parse_when(text, NOW) is None


def test_result_keeps_the_zone_of_now() -> None:
    utc_now = NOW.astimezone(UTC)
    when = parse_when_ex("3 hours ago", utc_now)
    assert when is not None and when.at.tzinfo is UTC
    assert when.at == NOW - timedelta(hours=3)
    assert parse_when("now", NOW.replace(second=42, microsecond=7)) == NOW  # to the minute


def test_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        parse_when("now", datetime(2026, 11, 25, 1, 30))


def test_format_when() -> None:
    moment = at(11, 24, 23, 10)
    assert format_when(moment, True, "ja") == "2026年11月24日(火) 23:10"
    assert format_when(moment, False, "ja") == "2026年11月24日(火)"
    assert format_when(moment, True, "en") == "Tue 24 Nov 2026, 23:10"
    assert format_when(moment, False, "en") == "Tue 24 Nov 2026"
    assert format_when(at(1, 5, 7, 3), True, "ja") == "2026年1月5日(月) 07:03"


@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize("has_time", [True, False])
def test_formatted_text_reads_back(lang: str, has_time: bool) -> None:
    for moment in (at(11, 24, 23, 10), at(3, 1, 0, 5), at(12, 31, 9, 59, year=2025)):
        when = parse_when_ex(format_when(moment, has_time, lang), NOW)
        expected = moment if has_time else moment.replace(hour=0, minute=0)
        assert when == When(expected, has_time)


def test_slot_round_trip() -> None:
    when = When(at(11, 24, 23, 10), True)
    assert when.to_slot() == "2026-11-24T23:10+09:00"
    assert When.from_slot(when.to_slot()) == when
    day = When(at(11, 24), False)
    assert day.to_slot() == "2026-11-24"
    back = When.from_slot("2026-11-24")
    assert back == day and back.has_time is False and back.at.tzinfo is JST
    assert When.from_slot("2026-11-24", TOKYO).at.tzinfo is TOKYO
    for text, *_ in ACCEPTED:
        parsed = parse_when_ex(text, NOW)
        assert parsed is not None
        assert When.from_slot(parsed.to_slot()) == parsed


@pytest.mark.parametrize(
    "value", ["", "2026-11-24 23:10", "2026-02-30", "昨日", "2026-11-24T23:10", "24/11/2026"]
)
def test_from_slot_rejects(value: str) -> None:
    with pytest.raises(ValueError):
        When.from_slot(value)


def test_when_must_be_aware() -> None:
    with pytest.raises(ValueError):
        When(datetime(2026, 11, 24, 23, 10), True)


@pytest.mark.parametrize("text", [
    "፩時", "፩/፪", "²時", "①時", "٣:٠٠", "𝟐𝟑:𝟏𝟎", "1" * 101, "1" * 4096, "9" * 5000,
    "ﷺ" * 100, "㍻" * 100, "\ud800時", "1\x00時", "一" * 99 + "年",
])
def test_odd_digits_and_long_input_never_raise(text: str) -> None:
    when = parse_when_ex(text, NOW)
    assert when is None or when.at.tzinfo is not None


def test_long_input_is_refused_outright() -> None:
    assert parse_when("1" * 4096, NOW) is None
    assert parse_when("23:10" + " " * 200, NOW) is None
