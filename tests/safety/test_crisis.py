"""Crisis detection: the rule syntax, the detector, urgency, and the crisis texts.

The corpus (docs/crisis-corpus) is measured in tests/test_crisis_corpus.py.
"""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import pytest
import yaml

from bot.authoring._lint import run_lint
from bot.safety._crisis import CATEGORIES, CrisisDetector, CrisisMatch, RuleError
from bot.safety._textmatch import KeywordRules, PatternError, normalize, prepare

ROOT = Path(__file__).resolve().parents[2]


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
PER_LANGUAGE = ("crisis.concepts.", "crisis.rules.")  # rule data, not translations


@pytest.fixture(scope="module")
def detector() -> CrisisDetector:
    return CrisisDetector.from_locale_values(SAFETY)


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


def test_the_verb_to_die_is_caught_in_every_form_but_not_in_nouns(detector: CrisisDetector) -> None:
    for text in ("死にたい", "死のう", "死んだら楽", "死ねば楽になる", "死ねたらいいのに",
                 "死んで詫びる", "もう死ぬ", "死ぬしかない", "死んじゃう", "しぬ", "タヒにたい",
                 "氏にたい", "死にたみ"):
        assert detector.detect(text), text
    for text in ("必死に走った", "死角から撮られた", "陣地を死守する", "それは死語",
                 "生死不明のニュース", "死体が出てくるドラマ", "即死トラップ", "不死身"):
        assert not detector.detect(text), (text, detector.find(text))


def test_disappearing_is_about_the_person_not_the_photo(detector: CrisisDetector) -> None:
    assert detector.detect("消えたい") and detector.detect("もういなくなりたい")
    for text in ("画像を消したい", "画像が消えてほしい", "消えたインスタの投稿", "データが消えた"):
        assert not detector.detect(text), (text, detector.find(text))


def test_an_act_already_done_is_urgent_and_a_wish_is_not(detector: CrisisDetector) -> None:
    for text in ("薬を大量に飲んだ", "睡眠薬を30錠飲んだ", "手首を切った", "今屋上にいる",
                 "I took 20 pills", "i took a lot of pills", "I'm on the roof right now"):
        match = detector.detect(text)
        assert match and match.urgent and match.category == "act_done", (text, match)
    for text in ("死にたい", "薬を大量に飲もうと思う", "リスカしたい", "I want to die",
                 "I want to hurt myself"):
        match = detector.detect(text)
        assert match and not match.urgent, (text, match)


def test_acts_under_way_or_done_through_the_body_are_urgent_in_every_script(
    detector: CrisisDetector,
) -> None:
    # Past and progressive forms of the means, in kanji, kana and katakana (round 4).
    for text in ("てくびきりました", "ウデキッチャッタ", "首にひもを巻いてる",
                 "ベルトを首に巻きつけた", "手すりをこえました", "踏切の中に入った",
                 "さっき飲んだ薬が効いてきた",
                 "i'm cutting rn", "the pills are kicking in", "burned myself with a lighter",
                 "sitting on the ledge right now"):
        match = detector.detect(text)
        assert match and match.urgent and match.category == "act_done", (text, match)


def test_new_families_stay_quiet_on_the_same_shape_about_something_else(
    detector: CrisisDetector,
) -> None:
    for text in ("明日休むので後のことはお願いします", "今海に向かってる、サーフィン",
                 "首にタオル巻いてる", "髪切りてえ", "アリスカフェで待ち合わせ",
                 "アカウントの存在を消したい", "痛み止め、もう飲んだ",
                 "I won't be around next week, I'm on holiday",
                 "my legs are over the side of the pool",
                 "I feel like cutting my hair short", "pick a day for the meeting"):
        # The rule families (the model under them has its own false-alarm budget).
        assert not detector.rules_only().detect(text), (text, detector.find(text))


def test_threats_from_the_other_person_are_not_a_crisis(detector: CrisisDetector) -> None:
    for text in ("相手に死ねって言われた", "殺すぞって脅された", "he said he would kill me",
                 "he told me to kys", "my mom is going to kill me"):
        assert not detector.detect(text), (text, detector.find(text))


def test_detect_says_what_fired_and_fires_is_its_bool(detector: CrisisDetector) -> None:
    match = detector.detect("もう死にたい")
    assert isinstance(match, CrisisMatch) and match.category in CATEGORIES and bool(match)
    assert detector.fires("もう死にたい") is True and detector.fires("こんにちは") is False
    assert detector.detect("こんにちは") is None


ADVERSARIAL = [
    "死" * 10_000, "し" * 10_000, "死に" * 5_000, "ー" * 10_000, "a " * 5_000, "i " * 5_000,
    "1" * 10_000, "1," * 5_000, "kill " * 2_000, "want to " * 1_250, "i'm " * 2_500,
    "…" * 10_000, "薬を" * 5_000, "if " * 3_333, "シ" * 10_000, "ａ" * 10_000, " " * 10_000,
    ("死 " * 3_000) + "にたい", "\u200b" * 10_000, "-" * 10_000 + "self harm",
]


@pytest.mark.parametrize("text", ADVERSARIAL, ids=range(len(ADVERSARIAL)))
def test_adversarial_long_inputs_always_get_an_answer(detector: CrisisDetector, text: str) -> None:
    # Linear-time safety: the rules cannot nest unbounded repetitions. No timing here
    # (benchmarks/crisis.py measures it); a catastrophic pattern would hang this test.
    result = detector.detect(text)
    assert result is None or isinstance(result, CrisisMatch)


def test_rule_syntax_concepts_not_followed_by_and_sentence_end() -> None:
    detector = CrisisDetector(
        {"ja": {"act_done": ["リスカした!いくら"], "ideation": ["{shinu}$"]},
         "en": {"ideation": ["{i} {going} die"]}},
        concepts={"ja": {"shinu": ["死ぬ", "しぬ"]},
                  "en": {"i": ["i", "i'm"], "going": ["gonna", "going to"]}},
    )
    assert detector.detect("リスカした").urgent
    assert not detector.detect("リスカしたい")
    assert detector.detect("もう死ぬ。") and detector.detect("しぬ")
    assert not detector.detect("死ぬほど")
    assert detector.detect("im gonna die") and not detector.detect("im gonna diet")


@pytest.mark.parametrize("rule", ["{nope}", "…たい", "死に{", "!い", "a…b…c…d…e", ""])
def test_bad_rules_are_refused_with_their_key(rule: str) -> None:
    with pytest.raises(RuleError) as info:
        CrisisDetector({"ja": {"wish_dead": [rule]}}, concepts={"ja": {}})
    assert info.value.key == "crisis.rules.wish_dead" and info.value.index == 0


def test_a_broken_rule_is_reported_by_lint_with_file_and_line(tmp_path: Path) -> None:
    for name in ("flows", "locales", "contacts"):
        shutil.copytree(ROOT / name, tmp_path / name)
    path = tmp_path / "locales/ja/safety.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    number = next(n for n, line in enumerate(lines, 1) if line.strip() == '- "{shi}{want}"')
    lines[number - 1] = lines[number - 1].replace("{want}", "{wnat}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    assert run_lint(tmp_path, out, err) == 1
    assert f"locales/ja/safety.yaml:{number}: crisis.rules.wish_dead:" in out.getvalue()
    assert "wnat" in out.getvalue() and "Traceback" not in out.getvalue() + err.getvalue()


def test_languages_are_mixed_freely(detector: CrisisDetector) -> None:
    assert detector.detect("honestly i just 死にたい")
    assert detector.detect("もう suicide しか考えられない")


def test_detector_accepts_flat_locale_values() -> None:
    flat = {lang: flatten(tree) for lang, tree in SAFETY.items()}
    detector = CrisisDetector.from_locale_values(flat)
    assert detector.detect("消えたい") and not detector.detect("skilled")
    assert detector.detect("薬を大量に飲んだ").urgent


def test_detector_without_rules_refuses_to_start() -> None:
    with pytest.raises(PatternError):
        CrisisDetector.from_locale_values({"ja": {}, "en": {}})


# ---- the crisis screen texts ---------------------------------------------------------------

SCREEN_KEYS = ("message", "ask", "safe_now", "not_safe", "danger", "continue", "lines_title",
               "come_back", "call_now")


def test_locales_have_the_same_keys_and_placeholders() -> None:
    ja, en = flatten(SAFETY["ja"]), flatten(SAFETY["en"])
    ja = {k: v for k, v in ja.items() if not k.startswith(PER_LANGUAGE)}
    en = {k: v for k, v in en.items() if not k.startswith(PER_LANGUAGE)}
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
    # The urgent first line names the ambulance number before anything else.
    assert crisis["call_now"].index("119") < crisis["call_now"].index("110")
    assert len(crisis["safe_now"]) <= 30 and len(crisis["not_safe"]) <= 30  # button labels


def test_crisis_screen_asks_about_safety_now() -> None:
    assert "安全" in SAFETY["ja"]["crisis"]["ask"]
    assert "safe" in SAFETY["en"]["crisis"]["ask"]
