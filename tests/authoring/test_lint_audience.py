"""Every age is safe, and lint proves it: adult-only texts are out of reach for anyone who may
be under 18 (said so, rather not say, or never asked); unknown age gets the child lines and
the adult lines, on the crisis screen too; legal lines carry their sources."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from bot import load_content
from bot.authoring._audience import NOT_ADULT, analyse_ages, exposures
from bot.authoring._lint import is_error, lint, run_lint
from bot.safety._contacts import audiences_for_age
from tests.helpers import ROOT, Chat

DAY = "2026-11-25T14:00+09:00"
SUNDAY_NIGHT = "2026-11-29T02:00+09:00"


@pytest.fixture
def content_copy(tmp_path: Path) -> Path:
    """The real flows, locales and contacts, in a folder a test may break."""
    for folder in ("flows", "locales", "contacts"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    return tmp_path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(needle)


def age_errors(root: Path) -> list[str]:
    return [str(p) for p in lint(root) if is_error(p) and "adult-only" in p.message]


# --- the proof -------------------------------------------------------------------------------

def test_no_adult_only_text_is_reachable_by_a_minor_or_an_unknown_age_in_the_real_content():
    content = load_content(ROOT)
    assert list(exposures(content, analyse_ages(content))) == []


def test_the_self_check_questions_are_reached_only_by_adults():
    content = load_content(ROOT)
    ages = analyse_ages(content)
    assert ages.states[("selfcheck", "face")] == {"adult"}
    assert ages.states[("selfcheck", "young")] == {"under18", "unsaid"}
    # the menu is reached with every age, including never asked
    assert ages.states[("menu", "main")] >= NOT_ADULT | {"adult"}


def test_removing_the_age_guard_is_an_error_with_file_line_and_path(content_copy: Path):
    flow = content_copy / "flows" / "selfcheck.yaml"
    edit(flow, "      - {if: {slot: age, is: adult}, go: id}\n",
         "      - {if: {slot: age, filled: true}, go: id}\n")
    errors = age_errors(content_copy)
    assert errors, "lint must catch the missing guard"
    first_question = line_of(flow, "selfcheck.frame.intro")
    hit = [e for e in errors if e.startswith(f"flows/selfcheck.yaml:{first_question}:")]
    assert hit, errors
    assert "'selfcheck.frame.intro'" in hit[0] and "under18" in hit[0] and "unsaid" in hit[0]
    assert "Path: menu/main → [menu.selfcheck] → selfcheck/intro" in hit[0]
    assert "selfcheck/age" in hit[0] and "selfcheck/id" in hit[0]
    assert run_lint(content_copy, io.StringIO(), io.StringIO()) == 1


def test_a_not_under18_guard_is_not_enough_for_rather_not_say(content_copy: Path):
    flow = content_copy / "flows" / "selfcheck.yaml"
    edit(flow, "      - {if: {slot: age, is: adult}, go: id}\n",
         "      - {if: {not: {slot: age, is: under18}}, go: id}\n")
    errors = age_errors(content_copy)
    ages_of = [e.split(" can be shown when age is ")[1].split(":")[0] for e in errors]
    assert errors and all("unsaid" in e for e in errors), errors
    assert not [ages for ages in ages_of if "under18" in ages], errors


def test_an_adult_only_key_is_checked_wherever_it_is_used(content_copy: Path):
    # The adult rules, reused untagged in a step everyone sees: the tag follows the text.
    flow = content_copy / "flows" / "selfcheck.yaml"
    edit(flow, "    say: selfcheck.young.say_no\n",
         "    say:\n      - selfcheck.young.say_no\n      - selfcheck.choice.rules\n")
    errors = age_errors(content_copy)
    line = line_of(flow, "      - selfcheck.choice.rules")
    assert any(e.startswith(f"flows/selfcheck.yaml:{line}:") and "tagged adult-only at" in e
               for e in errors), errors


def test_adult_only_states_reached_through_a_sub_flow_return_are_followed(content_copy: Path):
    # An age question in a sub-flow changes what the caller may show after it returns.
    flow = content_copy / "flows" / "selfcheck.yaml"
    edit(flow, "      - {text: common.next, go: young_talk}\n",
         "      - {text: common.next, go: young_talk}\n"
         "      - {text: menu.contacts, call: contacts_now, go: risks}\n")
    errors = age_errors(content_copy)
    assert any("selfcheck.summary.risks_intro" in e and "[… sub-flow ends with age" in e
               for e in errors), errors


# --- unknown age: child lines AND adult lines --------------------------------------------------

def test_unknown_age_gets_both_child_and_adult_contacts():
    assert audiences_for_age(None) == ("minor", "adult")
    assert audiences_for_age("unsaid") == ("minor", "adult")
    assert audiences_for_age("under18") == ("minor",)
    assert audiences_for_age("adult") == ("adult",)


def _names(content, topic: str, group: str, now) -> set[str]:
    return {s.contact.display_name("ja") for s in content.directory.status(topic, group, now)}


def _only_for(content, topic: str, group: str, now) -> set[str]:
    other = "adult" if group == "minor" else "minor"
    return _names(content, topic, group, now) - _names(content, topic, other, now)


@pytest.mark.parametrize("age", [None, "unsaid"])
async def test_crisis_screen_for_an_unknown_age_lists_child_lines_and_adult_lines(age):
    chat = await Chat.start(lang="ja", now=SUNDAY_NIGHT)
    if age:
        await chat.press("menu.selfcheck")
        await chat.walk("selfcheck.start", "common.rather_not_say")
    await chat.type("もう死にたい")
    assert "contacts:crisis" in chat.keys
    content = load_content(ROOT)
    child_only = _only_for(content, "crisis", "minor", chat.now)
    adults = _names(content, "crisis", "adult", chat.now)
    assert child_only and adults
    assert all(name in chat.text for name in child_only), child_only
    assert all(name in chat.text for name in adults), adults


async def test_crisis_screen_for_an_adult_has_no_child_only_lines():
    chat = await Chat.start(lang="ja", now=SUNDAY_NIGHT)
    await chat.press("menu.selfcheck")
    await chat.walk("selfcheck.start", "selfcheck.age.adult")
    await chat.type("もう死にたい")
    content = load_content(ROOT)
    assert not any(name in chat.text for name in _only_for(content, "crisis", "minor", chat.now))


async def test_back_after_the_age_changed_never_shows_an_adult_only_text():
    chat = await Chat.start(lang="en", now=DAY)
    await chat.press("menu.selfcheck")
    await chat.walk("selfcheck.start", "selfcheck.age.adult")
    assert "selfcheck.frame.id" in chat.keys
    await chat.command("contacts")
    record = await chat.record()
    record["slots"]["age"] = "under18"       # as if they had said so since
    await chat.dialogue.store.save(chat.key, record)
    await chat.command("back")                # back to the adults' first question
    assert await chat.position() == ("selfcheck", "id")
    assert not [k for k in chat.keys if k.startswith("selfcheck.frame.")], chat.keys
