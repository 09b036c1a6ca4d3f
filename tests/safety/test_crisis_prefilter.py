"""The crisis net's prefilter: the large regex only reads the text around anchors.

Every rule's anchors are derived from its own letters and concepts when the rules are
built; these tests check that the derivation can never make a cue disappear: each match
of each rule on the train corpus holds one of that rule's anchors, and a message read
through the windows gives exactly the answer of a search over the whole message.
"""

from __future__ import annotations

import pytest

from benchmarks.crisis import PARA_EN, PARA_JA, load_split
from bot.safety._crisis import CrisisDetector, fold
from bot.safety._textmatch import prepare
from tests.helpers import content

TRAIN = load_split("train") or {}
MARKS = str.maketrans("", "", "\x02\x03")


@pytest.fixture(scope="module")
def detector() -> CrisisDetector:
    # The prefilter is the rules' own: the n-gram model under them reads every message.
    return content().crisis.ready().rules_only()


def _whole_scan(detector: CrisisDetector, text: str):
    """The answer without the prefilter: the whole folded message searched at once."""
    return detector._detect_in(fold(prepare(text)))


def _key(match):
    return match and (match.category, match.urgent)


def test_every_rule_has_anchors_that_the_prefilter_looks_for(detector: CrisisDetector) -> None:
    assert detector.rule_anchors, "no rule was given anchors"
    searched = {a.translate(MARKS) for a in detector.anchors}
    for (lang, category, rule), anchors in detector.rule_anchors.items():
        assert anchors, (lang, category, rule)
        for anchor in anchors:
            # The prefilter keeps the shortest of nested anchors: one of them is inside.
            assert any(s in anchor.translate(MARKS) for s in searched), (lang, rule, anchor)


def test_every_match_on_the_train_corpus_holds_one_of_its_rules_anchors(
    detector: CrisisDetector,
) -> None:
    checked = 0
    for lang in ("ja", "en"):
        for item in TRAIN.get(lang, []):
            norm = fold(prepare(item["text"]))
            for m in detector._any.finditer(norm):
                leaf = detector._leaves[m.lastindex or 0]
                if leaf is None:
                    continue
                anchors = detector.rule_anchors[(leaf.lang, leaf.category, leaf.rule)]
                assert any(a.translate(MARKS) in m.group() for a in anchors), \
                    (item["text"], leaf.rule, anchors)
                checked += 1
    assert checked > 500


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_a_cue_anywhere_in_a_long_message_gives_the_whole_scan_answer(
    detector: CrisisDetector, lang: str
) -> None:
    filler = ((PARA_JA if lang == "ja" else PARA_EN) * 40)[:3000]
    items = TRAIN.get(lang, [])[::6]  # every sixth sentence keeps the test quick
    assert items
    for item in items:
        for text in (item["text"] + filler, filler[:1500] + item["text"] + filler[1500:],
                     filler + item["text"]):
            assert _key(detector.detect(text)) == _key(_whole_scan(detector, text)), item["text"]
        if item["trigger"] and detector.detect(item["text"]) is not None:
            assert detector.detect(filler + " " + item["text"]) is not None, item["text"]


def test_a_long_ordinary_message_has_no_window_to_read(detector: CrisisDetector) -> None:
    text = (PARA_JA * 40)[:4000]
    assert detector.windows(fold(prepare(text))) == []
    assert detector.detect(text) is None
    assert detector.detect(text[:-10] + "薬を全部飲んだ").urgent


def test_windows_reach_far_enough_for_the_longest_rule(detector: CrisisDetector) -> None:
    # A cue with long gaps ("………", up to 60 characters) still sits inside one window.
    norm = fold(prepare("x" * 500 + "バレたら" + "あ" * 25 + "死ぬ" + "y" * 500))
    windows = detector.windows(norm)
    start = norm.index("ばれたら")
    assert any(a <= start and norm.index("死ぬ") + 2 <= b for a, b in windows), windows
    assert detector.detect("x" * 500 + "バレたら" + "あ" * 25 + "死ぬ" + "y" * 500) is not None


def test_no_rule_is_anchored_on_a_word_nearly_every_message_holds(detector: CrisisDetector) -> None:
    # A rule whose cheapest anchor is "i" or "s" makes almost every English message read
    # its windows (round 4: the 4,000-character median went from 0.7 ms to 3.4 ms).
    everyday = {"i", "a", "s", "t", "me", "my", "it", "to", "the", "and", "for", "you", "will",
                "is", "be", "of"}
    plain = {a.replace("\x02", "").replace("\x03", "") for a in detector.anchors}
    assert not plain & everyday, sorted(plain & everyday)
    assert not [a for a in plain if len(a) == 1 and a.isascii()]
