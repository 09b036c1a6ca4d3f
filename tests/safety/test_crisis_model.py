"""The crisis net's second layer: the character n-gram model under the rules."""

from __future__ import annotations

from benchmarks.crisis import MODEL_FALSE_ALARMS, train_groups
from benchmarks.stats import ROOT
from bot.safety._crisis import MODEL_CATEGORY, fold
from bot.safety._crisis_model import MODEL_FILE, NgramModel, corpus_digest, fit
from bot.safety._textmatch import prepare
from tests.helpers import content


def folded(text: str) -> str:
    return fold(prepare(text))


def test_the_shipped_model_was_fitted_on_the_train_split_as_it_is() -> None:
    model = NgramModel.load()
    assert model is not None, "bot/safety/crisis_model.json is missing"
    digest = corpus_digest((ROOT / "docs" / "crisis-corpus" / "train").glob("*.yaml"))
    assert model.meta.get("train_digest") == digest, (
        "train/ changed since the model was fitted: run `python -m benchmarks.crisis --fit`")
    assert model.meta.get("max_false_alarms") == dict(MODEL_FALSE_ALARMS)
    assert set(model.threshold) == {"ja", "en"}


def test_the_model_round_trips_through_its_file_format() -> None:
    model = NgramModel({"死に": 2.5, "たい": 1.0, "ok": -1.0}, -3.0, {"ja": 0.5, "en": 0.7})
    again = NgramModel.from_json(model.to_json())
    assert again.weights == model.weights and again.threshold == model.threshold
    assert again.score(folded("死にたい")) == model.score(folded("死にたい"))


def test_a_cue_deep_inside_a_long_message_is_read_in_its_window() -> None:
    model = NgramModel({"死に": 3.0, "にた": 2.0}, -4.0, {"ja": 0.5, "en": 0.5})
    filler = "今日は学校で友達と話して、帰りに本屋に寄りました。" * 200
    assert model.fires(folded("死にたい"))
    assert model.fires(folded(filler[:3000] + "死にたい" + filler[:1000]))
    assert not model.fires(folded(filler))


def test_fitting_separates_cues_from_ordinary_messages_on_writers_it_did_not_see() -> None:
    cue = ["もう死にたい", "死にたいです", "しにたい", "消えたい", "消えてしまいたい",
           "いなくなりたい"]
    ordinary = ["お金を払えと言われた", "画像を消したい", "どうしたらいい", "親にばれたくない",
                "警察に相談したい", "アカウントを消したい"]
    groups = {f"w{n}": [{"text": c, "trigger": True} for c in cue[n::3]]
              + [{"text": o, "trigger": False} for o in ordinary[n::3]] for n in range(3)}
    model, report = fit(groups, folded, max_false_alarms=0.0)
    assert report["writers"] == 3
    assert all(model.fires(folded(c)) for c in cue)
    assert not any(model.fires(folded(o)) for o in ordinary)


def test_the_model_only_adds_a_screen_and_never_takes_one_away() -> None:
    detector = content().crisis
    assert detector.model is not None
    # A rule's cue keeps its rule's category (and urgency) whatever the model says.
    match = detector.detect("薬を全部飲んだ")
    assert match is not None and match.urgent and match.category != MODEL_CATEGORY
    # What the model adds is never urgent (119 first is for what the rules can name).
    for group in train_groups().values():
        for item in group[:40]:
            found = detector.detect(item["text"])
            if found is not None and found.category == MODEL_CATEGORY:
                assert not found.urgent
    assert MODEL_FILE.name == "crisis_model.json"


def test_a_long_run_of_one_harmless_pattern_does_not_add_up_to_a_cue() -> None:
    # Found by the memo test: 1,999 × "あ" once scored as a cue when every repeat counted.
    detector = content().crisis
    for text in ("あ" * 1999 + "😱", "ありがとう" * 300, "w" * 4000, "ok " * 1000, "😱" * 500):
        assert detector.detect(text) is None, text[:20]
