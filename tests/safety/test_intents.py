"""Free-text intents: what the bot understood from a typed message."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.safety._intents import INTENT_ORDER, IntentDetector
from bot.safety._textmatch import KeywordRules, PatternError

ROOT = Path(__file__).resolve().parents[2]
SAFETY = {
    lang: yaml.safe_load((ROOT / f"locales/{lang}/safety.yaml").read_text(encoding="utf-8"))
    for lang in ("ja", "en")
}


@pytest.fixture(scope="module")
def detector() -> IntentDetector:
    return IntentDetector.from_locale_values(SAFETY)


def test_recorded_video_call_and_money_demand_in_japanese(detector: IntentDetector) -> None:
    text = "インスタで知らない人とビデオ通話したら録画されてて10万払えって言われた"
    assert detector.detect(text) == ["threat", "money", "video_call"]


def test_recorded_video_call_and_money_demand_in_english(detector: IntentDetector) -> None:
    assert detector.detect("he recorded our video call and wants $500") == [
        "threat",
        "money",
        "video_call",
    ]


STORIES = [
    # Japanese
    ("ばらまくぞって脅されています", ["threat"]),
    ("ｱﾏｷﾞﾌで5万円送れと言われた", ["money"]),
    ("もう3万払ってしまった", ["money", "paid"]),
    ("一度払ったらまた要求された", ["money", "paid"]),
    ("払ったら消してくれますか？", ["money"]),
    ("払ったほうがいいですか", ["money"]),
    ("フォロワーに送られたみたい", ["posted"]),
    ("Twitterに晒された", ["posted"]),
    ("画像がネットに出回ってる", ["posted"]),
    ("晒すぞって言われた", ["threat"]),
    ("中2です。ビデオ通話で裸を見せてしまった", ["video_call", "minor"]),
    ("うちの子が脅されているようです", ["threat", "minor"]),
    ("このアプリを入れてって言われてインストールした", ["app_link"]),
    ("リンクを踏んだら電話帳を抜かれたかも", ["app_link"]),
    ("ゲームアプリをダウンロードさせられた", ["app_link"]),
    # English
    ("he's blackmailing me and wants bitcoin", ["threat", "money"]),
    ("I already paid $200 but he wants more", ["money", "paid"]),
    ("they said they'll post it unless I pay", ["threat", "money"]),
    ("my nudes got leaked", ["posted"]),
    ("I'm 15 and scared", ["minor"]),
    ("my son is being sextorted", ["threat", "minor"]),
    ("he made me install an app and now has my contact list", ["app_link"]),
    ("we were on FaceTime", ["video_call"]),
]


@pytest.mark.parametrize(
    ("text", "expected"), STORIES, ids=[f"story-{i:02d}" for i in range(len(STORIES))]
)
def test_story(detector: IntentDetector, text: str, expected: list[str]) -> None:
    assert detector.detect(text) == expected, detector.explain(text)


QUIET = [
    # words that only *contain* a keyword
    "my camera app is broken",  # cam, app
    "I'm so happy today",  # app
    "installation went fine",  # install
    "a minor issue with my phone",  # minor
    "the recording studio",  # recorded
    "he repaid the loan to the bank",  # paid (repaid is another word)
    "hello, can you help me?",
    "万が一のために知りたい",  # 万
    "フォロワーが10万人いる",  # 万人
    "酔っ払いに絡まれた",  # 払
    "円満に解決したい",  # 円
    "テレビを見ていた",  # テレビ電話
    "スクショを保存しました",
    "相談したいです",
]


@pytest.mark.parametrize("text", QUIET, ids=[f"quiet-{i:02d}" for i in range(len(QUIET))])
def test_no_intent_inside_unrelated_words(detector: IntentDetector, text: str) -> None:
    assert detector.detect(text) == [], detector.explain(text)


def test_order_is_stable_whatever_the_sentence_order(detector: IntentDetector) -> None:
    a = detector.detect("払えと言われた。ビデオ通話を録画された。中学生です")
    b = detector.detect("中学生です。ビデオ通話を録画された。払えと言われた")
    assert a == b == ["threat", "money", "video_call", "minor"]
    assert detector.names == list(INTENT_ORDER)


def test_every_intent_has_a_label_and_keywords_in_both_languages() -> None:
    for lang, tree in SAFETY.items():
        intents = tree["intents"]
        assert list(intents) == list(INTENT_ORDER), lang
        for name, spec in intents.items():
            assert isinstance(spec["label"], str) and spec["label"].strip(), (lang, name)
            assert spec["keywords"], (lang, name)
            assert isinstance(spec.get("exclusions"), list), (lang, name)
            KeywordRules(spec["keywords"], spec["exclusions"])  # compiles


def test_flat_locale_values_work_too() -> None:
    flat = {
        "ja": {
            "intents.money.keywords": ["払"],
            "intents.money.exclusions": ["酔っ払"],
            "intents.money.label": "お金",
        },
        "en": {"intents.money.keywords": ["pay"], "intents.money.label": "money"},
    }
    detector = IntentDetector.from_locale_values(flat)
    assert detector.detect("払えと言われた") == ["money"]
    assert detector.detect("please pay") == ["money"]
    assert detector.detect("酔っ払い") == []


def test_intent_without_keywords_is_refused() -> None:
    with pytest.raises(PatternError):
        IntentDetector.from_locale_values({"ja": {"intents": {"threat": {"label": "x"}}}})


def test_explain_names_the_keywords(detector: IntentDetector) -> None:
    assert detector.explain("ビデオ通話") == {"video_call": ["ビデオ通話"]}
