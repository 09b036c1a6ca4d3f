"""Loading refuses broken content and says where: file and line for every problem."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot import ContentError, load_content
from bot.authoring._lint import lint


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def problems_of(root: Path) -> list[str]:
    with pytest.raises(ContentError) as caught:
        load_content(root)
    return [str(p) for p in caught.value.problems]


def line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(needle)


def test_the_fixture_content_is_valid(engine_root):
    content = load_content(engine_root)
    assert set(content.flows) == {"menu", "demo", "sub"}


def test_unknown_target_state_names_file_and_line(engine_root):
    demo = engine_root / "flows" / "demo.yaml"
    edit(demo, "go: when\n", "go: nowhere\n")
    problems = problems_of(engine_root)
    line = line_of(demo, "go: nowhere")
    assert any(p.startswith(f"flows/demo.yaml:{line}:") and "'nowhere'" in p
               for p in problems), problems


def test_broken_yaml_names_file_and_line(engine_root):
    demo = engine_root / "flows" / "demo.yaml"
    edit(demo, "  pick_again:\n", "  pick_again: [unclosed\n")
    problems = problems_of(engine_root)
    assert any(re.match(r"flows/demo\.yaml:\d+: YAML syntax", p) for p in problems), problems


def test_unreachable_state_is_reported(engine_root):
    demo = engine_root / "flows" / "demo.yaml"
    edit(demo, "  pick_again:\n", "  orphan:\n    say: t.late\n    end: true\n  pick_again:\n")
    problems = problems_of(engine_root)
    line = line_of(demo, "  orphan:")
    assert f"flows/demo.yaml:{line}: state 'orphan' can never be reached in flow 'demo'" in problems


def test_state_with_no_way_on_is_reported(engine_root):
    demo = engine_root / "flows" / "demo.yaml"
    edit(demo, "    add: {warned: empty}\n    go: pick\n", "    add: {warned: empty}\n")
    problems = problems_of(engine_root)
    assert any("'pick_again' has no way on" in p and p.startswith("flows/demo.yaml:")
               for p in problems)


def test_missing_locale_key_in_one_language(engine_root):
    path = engine_root / "locales" / "en" / "t.yaml"
    edit(path, '  late: "[en] entered late"\n', "")
    problems = problems_of(engine_root)
    assert any(p.startswith("locales/ja/t.yaml:") and "'t.late' has no 'en' text" in p
               for p in problems)


def test_key_used_by_a_flow_but_missing_everywhere(engine_root):
    demo = engine_root / "flows" / "demo.yaml"
    edit(demo, "say: t.pick_again", "say: t.no_such_text")
    problems = problems_of(engine_root)
    line = line_of(demo, "t.no_such_text")
    assert any(p.startswith(f"flows/demo.yaml:{line}:") and "t.no_such_text" in p for p in problems)


def test_placeholders_must_match_between_languages(engine_root):
    path = engine_root / "locales" / "en" / "t.yaml"
    edit(path, "summary for {nickname}", "summary for {nick}")
    problems = problems_of(engine_root)
    line = line_of(path, "{nick}")
    assert any(p.startswith(f"locales/en/t.yaml:{line}:") and "placeholders" in p for p in problems)


def test_branch_on_a_slot_nothing_sets(engine_root):
    demo = engine_root / "flows" / "demo.yaml"
    edit(demo, "{slot: things, has: a}\n        go: name",
         "{slot: thingz, has: a}\n        go: name")
    problems = problems_of(engine_root)
    assert any("slot 'thingz'" in p and p.startswith("flows/demo.yaml:") for p in problems)


def test_unknown_sub_flow_and_entry_state(engine_root):
    edit(engine_root / "flows" / "demo.yaml", "call: sub", "call: subb")
    edit(engine_root / "flows" / "menu.yaml", "at: late_entry", "at: no_entry")
    problems = problems_of(engine_root)
    assert any("there is no flow 'subb'" in p for p in problems)
    assert any(p.startswith("flows/menu.yaml:") and "has no state 'no_entry'" in p
               for p in problems)


def test_duplicate_key_and_unknown_state_key(engine_root):
    demo = engine_root / "flows" / "demo.yaml"
    edit(demo, "    say: t.late\n", "    say: t.late\n    says: t.late\n")
    problems = problems_of(engine_root)
    assert any("unknown key(s) ['says']" in p for p in problems)


def test_condition_without_an_operator(engine_root):
    edit(engine_root / "flows" / "demo.yaml", "{slot: age, is: under18}", "{slot: age}")
    assert any("needs exactly one of is / in / has / filled" in p for p in problems_of(engine_root))


def test_lint_reports_the_same_problems(engine_root):
    edit(engine_root / "flows" / "demo.yaml", "go: when\n", "go: nowhere\n")
    assert any("'nowhere'" in str(p) for p in lint(engine_root))


def test_the_real_content_is_valid():
    from bot.authoring._lint import is_error
    from tests.helpers import ROOT

    assert [str(p) for p in lint(ROOT) if is_error(p)] == []
