"""bot.answers._memo: the consultation memo as text and as a file, and splitting long texts."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.answers import memo_document, render_memo, split_text

TOKYO = ZoneInfo("Asia/Tokyo")
NOW = datetime(2026, 11, 25, 1, 30, tzinfo=TOKYO)
FIELDS = ["memo_app", "memo_sent_at", "memo_started_at", "memo_threats", "evidence_done"]


def fake_text(key: str, **kw: Any) -> str:
    """Stands in for the locales: the key, plus its placeholders when there are any."""
    return key + (repr(kw) if kw else "")


def units(s: str) -> int:
    return len(s.encode("utf-16-le")) // 2


ALL_FILLED = {
    "memo_app": "Instagram",
    "memo_sent_at": "2026-11-24T23:10+09:00",
    "memo_started_at": "2026-11-20",
    "memo_threats": "拡散するぞ\n友達に送る",
    "evidence_done": ["chat", "profile"],
}


def test_every_field_filled_ja() -> None:
    memo = render_memo(FIELDS, ALL_FILLED, "ja", fake_text, NOW)
    assert memo.split("\n") == [
        "memo.title",
        "memo.created{'when': '2026年11月25日(水) 01:30'}",
        "",
        "memo.field.memo_app：Instagram",
        "memo.field.memo_sent_at：2026年11月24日(火) 23:10",
        "memo.field.memo_started_at：2026年11月20日(金)",
        "memo.field.memo_threats：拡散するぞ",
        "  友達に送る",
        "memo.field.evidence_done：memo.value.evidence_done.chat、memo.value.evidence_done.profile",
        "",
        "memo.footer",
    ]


def test_every_field_filled_en() -> None:
    memo = render_memo(FIELDS, ALL_FILLED, "en", fake_text, NOW)
    assert "memo.created{'when': 'Wed 25 Nov 2026, 01:30'}" in memo.split("\n")
    assert "memo.field.memo_sent_at: Tue 24 Nov 2026, 23:10" in memo
    assert "memo.field.memo_started_at: Fri 20 Nov 2026" in memo
    assert (
        "memo.field.evidence_done: memo.value.evidence_done.chat, memo.value.evidence_done.profile"
        in memo
    )


def test_skipped_fields_are_shown_as_not_given() -> None:
    slots = {"memo_app": "LINE", "memo_threats": "   ", "evidence_done": [], "memo_sent_at": None}
    lines = render_memo(FIELDS, slots, "ja", fake_text, NOW).split("\n")
    assert lines[3:8] == [
        "memo.field.memo_app：LINE",
        "memo.field.memo_sent_at：memo.not_given",
        "memo.field.memo_started_at：memo.not_given",
        "memo.field.memo_threats：memo.not_given",
        "memo.field.evidence_done：memo.not_given",
    ]


def test_nothing_given_still_lists_every_field() -> None:
    memo = render_memo(FIELDS, {}, "en", fake_text, NOW)
    assert memo.count("memo.not_given") == len(FIELDS)
    assert memo.startswith("memo.title\n") and memo.endswith("\n\nmemo.footer")


def test_tricky_answers_are_kept_verbatim() -> None:
    long_answer = ("あ" * 999 + "\n") * 2 + "end"
    slots = {
        "memo_app": "<b>&amp;</b>",
        "memo_threats": "😱🙏 help",
        "memo_started_at": long_answer,
    }
    memo = render_memo(FIELDS, slots, "ja", fake_text, NOW)
    assert "memo.field.memo_app：<b>&amp;</b>" in memo
    assert "memo.field.memo_threats：😱🙏 help" in memo
    assert "memo.field.memo_started_at：" + "あ" * 999 + "\n  " + "あ" * 999 + "\n  end" in memo
    assert len(long_answer) > 2000


def test_line_breaks_of_every_kind_become_indented_lines() -> None:
    slots = {"memo_threats": "one\r\ntwo\rthree\n\nfour"}
    memo = render_memo(["memo_threats"], slots, "en", fake_text, NOW)
    assert "memo.field.memo_threats: one\n  two\n  three\n\n  four\n" in memo
    assert "\r" not in memo


def test_other_value_kinds() -> None:
    from bot.answers._datetimes import When

    slots = {
        "a": When(datetime(2026, 11, 24, 23, 10, tzinfo=TOKYO), True),
        "b": datetime(2026, 11, 24, 23, 10, tzinfo=TOKYO),
        "c": 17,
        "d": "under18",
        "e": {"x", "a"},
    }
    memo = render_memo(list(slots), slots, "en", fake_text, NOW, coded={"d"})
    assert "memo.field.a: Tue 24 Nov 2026, 23:10" in memo
    assert "memo.field.b: Tue 24 Nov 2026, 23:10" in memo
    assert "memo.field.c: 17" in memo
    assert "memo.field.d: memo.value.d.under18" in memo
    assert "memo.field.e: memo.value.e.a, memo.value.e.x" in memo


def test_document_is_the_memo_with_crlf() -> None:
    slots = dict(ALL_FILLED, memo_app="<b>&amp;</b> 😱🙏")
    name, data = memo_document(FIELDS, slots, "ja", fake_text, NOW)
    assert name == "kakekomi-memo-2026-11-25.txt"
    assert not data.startswith(b"\xef\xbb\xbf")
    body = data.decode("utf-8")
    memo = render_memo(FIELDS, slots, "ja", fake_text, NOW)
    assert body == memo.replace("\n", "\r\n")
    assert "\n" not in body.replace("\r\n", "")


def test_split_short_text_is_one_chunk() -> None:
    assert split_text("hello\nworld") == ["hello\nworld"]
    assert split_text("") == []
    assert split_text("\n\n") == []


def test_split_at_line_breaks() -> None:
    lines = [f"line {i:03} 😱" for i in range(300)]
    text = "\n".join(lines)
    chunks = split_text(text, 500)
    assert len(chunks) > 1
    assert all(units(c) <= 500 for c in chunks)
    assert "\n".join(chunks) == text  # nothing lost, each break either kept or the cut


def test_split_giant_line_with_emoji() -> None:
    text = "😱" * 5000  # 10,000 UTF-16 code units
    chunks = split_text(text, 4000)
    assert [units(c) for c in chunks] == [4000, 4000, 2000]
    assert "".join(chunks) == text
    odd = "a" + "🙏" * 3000
    chunks = split_text(odd, 4000)
    assert all(units(c) <= 4000 for c in chunks) and "".join(chunks) == odd


def test_split_keeps_emoji_sequences_together() -> None:
    family = "👨\u200d👩\u200d👧"  # one picture, five code points
    text = "x" * 3995 + family
    chunks = split_text(text, 4000)
    assert chunks == ["x" * 3995, family]


def test_split_prefers_a_space_in_a_long_line() -> None:
    text = "word " * 1000
    chunks = split_text(text, 4000)
    assert all(units(c) <= 4000 for c in chunks)
    assert all(c.endswith(" ") for c in chunks[:-1])
    assert "".join(chunks) == text


def test_split_a_long_memo() -> None:
    slots = {name: "長い回答😱\n" * 300 for name in FIELDS}
    memo = render_memo(FIELDS, slots, "ja", fake_text, NOW)
    chunks = split_text(memo, 3800)
    assert len(chunks) > 1 and all(units(c) <= 3800 for c in chunks)


def test_split_rejects_a_silly_limit() -> None:
    with pytest.raises(ValueError):
        split_text("abc", 1)


PIECES = ["a", " ", "\n", "😱", "あ", "\u200d", "\u0301"]  # with a ZWJ and a combining mark


@given(
    st.text(alphabet=st.sampled_from(PIECES), max_size=400),
    st.integers(min_value=2, max_value=60),
)
def test_split_never_exceeds_the_limit(text: str, limit: int) -> None:
    chunks = split_text(text, limit)
    assert all(units(c) <= limit for c in chunks)
    assert all(c.strip() for c in chunks)
    assert "".join("".join(chunks).split()) == "".join(text.split())  # only blanks dropped
