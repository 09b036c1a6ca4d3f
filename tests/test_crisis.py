"""Crisis detection: the published corpus, the matching rules, and the crisis texts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot._crisis import CrisisDetector
from bot._textmatch import KeywordRules, PatternError, normalize, prepare

ROOT = Path(__file__).resolve().parent.parent
CORPUS = yaml.safe_load((ROOT / "tests/data/crisis_corpus.yaml").read_text(encoding="utf-8"))


def load_locale(lang: str, name: str) -> dict:
    return yaml.safe_load((ROOT / f"locales/{lang}/{name}.yaml").read_text(encoding="utf-8"))


def flatten(tree: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
    return out


SAFETY = {lang: load_locale(lang, "safety") for lang in ("ja", "en")}


@pytest.fixture(scope="module")
def detector() -> CrisisDetector:
    return CrisisDetector.from_locale_values(SAFETY)


def _cases():
    for lang, items in CORPUS.items():
        for n, item in enumerate(items, 1):
            mark = "trigger" if item["trigger"] else "quiet"
            yield pytest.param(item["text"], item["trigger"], id=f"{lang}-{n:03d}-{mark}")


# ---- the corpus --------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), list(_cases()))
def test_corpus_sentence(detector: CrisisDetector, text: str, expected: bool) -> None:
    assert detector.detect(text) is expected, f"{text!r}: fired on {detector.find(text)}"


def test_corpus_is_large_and_balanced() -> None:
    ja, en = CORPUS["ja"], CORPUS["en"]
    assert len(ja) >= 60 and len(en) >= 30
    for items in (ja, en):
        quiet = sum(not item["trigger"] for item in items)
        assert 0.35 <= quiet / len(items) <= 0.65
        assert all(isinstance(item["trigger"], bool) for item in items)


def test_corpus_has_no_duplicates() -> None:
    texts = [item["text"] for items in CORPUS.values() for item in items]
    assert len(texts) == len(set(texts))


# ---- normalisation -----------------------------------------------------------------------


def test_normalize_folds_width_case_kana_spaces_and_invisible_marks() -> None:
    assert normalize("ｼﾆﾀｲ") == "しにたい"
    assert normalize("シニタイ") == "しにたい"
    assert normalize("ＳＵＩＣＩＤＥ") == "suicide"
    assert normalize("  I\u3000WANT \n\t to\u200b die ") == "i want to die"
    assert normalize("don’t") == "don't"
    assert normalize("死\u200dにたい\ufeff") == "死にたい"


def test_prepare_keeps_katakana_but_folds_the_rest() -> None:
    assert prepare("ｼﾆﾀｲ  ＯＫ") == "シニタイ ok"


# ---- keyword rules -----------------------------------------------------------------------


def test_latin_words_need_word_edges() -> None:
    rules = KeywordRules(["killed", "suicide", "od"])
    assert not rules.matches("a skilled worker")
    assert not rules.matches("suicidesquad")
    assert not rules.matches("good odds")
    assert rules.matches("he KILLED it")
    assert rules.matches("odした")  # a Japanese letter is a word edge too


def test_spaces_hyphens_and_apostrophes_in_english_patterns() -> None:
    rules = KeywordRules(["self harm", "don't want to live"])
    for text in (
        "self-harm",
        "self  harm",
        "self_harm",
        "i dont want to live",
        "I don’t want to live",
    ):
        assert rules.matches(text), text
    assert not rules.matches("selfharm")


def test_japanese_patterns_skip_spaces_and_long_vowel_marks() -> None:
    rules = KeywordRules(["死にたい"])
    for text in ("死 に た い", "死にたーい", "死にた〜い", "死にたぁい", "死ニタイ", "死ﾆﾀｲ"):
        assert rules.matches(text), text
    assert not KeywordRules(["死にたい"]).matches("シニタイ")  # kana spelling: its own pattern


def test_hiragana_pattern_does_not_bleed_into_a_katakana_word() -> None:
    rules = KeywordRules(["消えたい"])
    assert not rules.matches("消えたインスタの投稿")
    assert rules.matches("消えたい")
    assert rules.matches("消エタイ。")
    assert KeywordRules(["しにたい"]).matches("モウシニタイヨ")  # all katakana is fine


def test_a_then_b_within_ten_characters() -> None:
    rules = KeywordRules(["install…app"])
    assert rules.matches("he made me install this new app")
    assert not rules.matches("install it! an app")  # another sentence
    assert not rules.matches("install the new version of the chat app")  # too far


def test_number_placeholder() -> None:
    rules = KeywordRules(["#万", "$#"], ["#万人"])
    assert rules.find("10万払え") == ["#万"]
    assert rules.find("he wants $1,500") == ["$#"]
    assert not rules.matches("フォロワー10万人")
    assert not rules.matches("万が一")


def test_exclusion_cancels_only_the_match_it_covers() -> None:
    rules = KeywordRules(["自殺", "自殺したい"], ["自殺行為"])
    assert not rules.matches("それは自殺行為だ")
    assert rules.find("自殺行為だけど、正直自殺したい") == ["自殺", "自殺したい"]


def test_longer_trigger_survives_a_shorter_exclusion() -> None:
    rules = KeywordRules(["払った", "払ったらまた"], ["払ったら"])
    assert not rules.matches("払ったら消してくれる？")
    assert rules.find("一度払ったらまた要求された") == ["払ったらまた"]


def test_bad_patterns_are_refused() -> None:
    with pytest.raises(PatternError):
        KeywordRules(["…たい"])
    with pytest.raises(PatternError):
        KeywordRules(["  "])


# ---- the detector -------------------------------------------------------------------------


def test_languages_are_mixed_freely(detector: CrisisDetector) -> None:
    assert detector.detect("honestly i just 死にたい")
    assert detector.detect("もう suicide しか考えられない")


def test_detector_accepts_flat_locale_values() -> None:
    flat = {lang: flatten(tree) for lang, tree in SAFETY.items()}
    detector = CrisisDetector.from_locale_values(flat)
    assert detector.detect("消えたい") and not detector.detect("skilled")


def test_detector_without_triggers_refuses_to_start() -> None:
    with pytest.raises(PatternError):
        CrisisDetector.from_locale_values({"ja": {}, "en": {}})


# ---- the crisis screen texts ---------------------------------------------------------------

SCREEN_KEYS = ("message", "ask", "safe_now", "not_safe", "danger", "continue", "lines_title", "come_back")


def test_locales_have_the_same_keys_and_placeholders() -> None:
    ja, en = flatten(SAFETY["ja"]), flatten(SAFETY["en"])
    assert ja.keys() == en.keys()
    for key in ja:
        if isinstance(ja[key], str):
            assert set(re.findall(r"\{(\w+)\}", ja[key])) == set(
                re.findall(r"\{(\w+)\}", en[key])
            ), key
        else:
            assert isinstance(en[key], list), key


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_crisis_screen_texts_are_plain_and_present(lang: str) -> None:
    crisis = SAFETY[lang]["crisis"]
    for key in SCREEN_KEYS:
        assert isinstance(crisis[key], str) and crisis[key].strip(), key
        assert not re.search(r"<[a-z/]", crisis[key]), f"HTML in crisis.{key}"
    assert "110" in crisis["danger"] and "119" in crisis["danger"]
    assert len(crisis["safe_now"]) <= 30 and len(crisis["not_safe"]) <= 30  # button labels


def test_crisis_screen_asks_about_safety_now() -> None:
    assert "安全" in SAFETY["ja"]["crisis"]["ask"]
    assert "safe" in SAFETY["en"]["crisis"]["ask"]
