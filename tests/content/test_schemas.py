"""Every content file follows a JSON Schema (docs/*.schema.json) that it names on its first
line for editors, and `kakekomi lint` reports each violation as file:line."""

from __future__ import annotations

import copy
import io
import json
import re
import shutil
from pathlib import Path

import jsonschema
import pytest

from bot.authoring._lint import content_files, run_lint, schema_problems
from bot.content._yamlsrc import load_yaml_as_written

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
FIRST_LINE = re.compile(r"# yaml-language-server: \$schema=(\S+)$")
FILES = list(content_files(ROOT))


def validator(schema: str) -> jsonschema.Draft202012Validator:
    spec = json.loads((DOCS / schema).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(spec)
    return jsonschema.Draft202012Validator(spec)


def messages(schema: str, data: object) -> list[str]:
    return [e.message for e in validator(schema).iter_errors(data)]


def test_every_kind_of_content_file_is_covered():
    kinds = {schema for _, schema in FILES}
    assert kinds == {"flow.schema.json", "blocks.schema.json", "locale.schema.json",
                     "contacts.schema.json"}
    assert len(FILES) == len(list(ROOT.glob("flows/*.yaml")) + list(ROOT.glob("locales/*/*.yaml"))
                             + list(ROOT.glob("contacts/*.yaml")))


FILE_IDS = [str(p.relative_to(ROOT)) for p, _ in FILES]


@pytest.mark.parametrize(("path", "schema"), FILES, ids=FILE_IDS)
def test_every_real_content_file_validates(path: Path, schema: str):
    assert messages(schema, load_yaml_as_written(path)) == []


@pytest.mark.parametrize(("path", "schema"), FILES, ids=FILE_IDS)
def test_first_line_names_the_right_existing_schema(path: Path, schema: str):
    first = path.read_text(encoding="utf-8").splitlines()[0]
    match = FIRST_LINE.fullmatch(first)
    assert match, f"{path}: first line should be '# yaml-language-server: $schema=...'"
    named = (path.parent / match.group(1)).resolve()
    assert named.is_file()
    assert named == (DOCS / schema).resolve()


def test_contacts_schema_rejects_a_wrong_type_in_hours():
    data = load_yaml_as_written(ROOT / "contacts" / "japan.yaml")
    broken = copy.deepcopy(data)
    timed = next(c for c in broken["contacts"] if isinstance(c.get("hours"), list))
    timed["hours"][0]["open"] = 830  # a number, not "08:30"
    assert messages("contacts.schema.json", broken)
    broken = copy.deepcopy(data)
    broken["contacts"][0]["hours"] = "sometimes"
    assert messages("contacts.schema.json", broken)


def test_unquoted_times_and_dates_read_as_the_editor_reads_them(tmp_path: Path):
    path = tmp_path / "x.yaml"
    path.write_text("open: 17:15\nchecked: 2026-11-20\nnumber: 110\n", encoding="utf-8")
    assert load_yaml_as_written(path) == {"open": "17:15", "checked": "2026-11-20", "number": 110}


def test_locale_schema_rejects_a_text_that_is_not_a_text():
    data = load_yaml_as_written(ROOT / "locales" / "en" / "menu.yaml")
    assert messages("locale.schema.json", data) == []
    broken = copy.deepcopy(data)
    broken["menu"]["extra"] = 12
    assert messages("locale.schema.json", broken)
    broken = copy.deepcopy(data)
    broken["menu"]["words"] = ["fine", None]
    assert messages("locale.schema.json", broken)


def test_blocks_schema_rejects_an_unknown_key():
    data = load_yaml_as_written(ROOT / "flows" / "blocks.yaml")
    broken = copy.deepcopy(data)
    broken["checklist"] = {}  # a typo for checklists
    assert any("checklist" in m for m in messages("blocks.schema.json", broken))
    broken = copy.deepcopy(data)
    broken["intents"][0]["flows"] = "menu"
    assert messages("blocks.schema.json", broken)


@pytest.fixture
def content_copy(tmp_path: Path) -> Path:
    for name in ("flows", "locales", "contacts"):
        shutil.copytree(ROOT / name, tmp_path / name)
    return tmp_path


def _replace(path: Path, old: str, new: str) -> int:
    text = path.read_text(encoding="utf-8")
    assert old in text
    before = text[: text.index(old)]
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return before.count("\n") + 1


def test_lint_names_file_and_line_of_each_violation_and_exits_1(content_copy: Path):
    hours_line = _replace(content_copy / "contacts" / "japan.yaml", 'open: "08:30"', "open: [8]")
    blocks_line = _replace(content_copy / "flows" / "blocks.yaml", "memo:\n", "memos:\n")
    out, err = io.StringIO(), io.StringIO()
    assert run_lint(content_copy, out, err) == 1
    printed = out.getvalue()
    assert f"contacts/japan.yaml:{hours_line}: " in printed
    assert f"flows/blocks.yaml:{blocks_line}: " in printed and "memos" in printed
    assert "Traceback" not in printed + err.getvalue()


def test_lint_reports_a_non_text_locale_value_once(content_copy: Path):
    path = content_copy / "locales" / "en" / "menu.yaml"
    line = _replace(path, "menu:\n", "menu:\n  stray: [1, 2]\n") + 1
    problems = [p for p in schema_problems(content_copy) if p.file == "locales/en/menu.yaml"]
    assert [p.line for p in problems] == [line]
    out = io.StringIO()
    assert run_lint(content_copy, out, io.StringIO()) == 1
    assert out.getvalue().count(f"locales/en/menu.yaml:{line}: ") == 1


def test_real_content_has_no_schema_problems():
    assert schema_problems(ROOT) == []


def test_without_jsonschema_lint_warns_once_and_still_checks_the_rest(
    content_copy: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setitem(__import__("sys").modules, "jsonschema", None)  # import fails
    problems = schema_problems(content_copy)
    assert len(problems) == 1 and "jsonschema is not installed" in problems[0].message
    _replace(content_copy / "flows" / "menu.yaml", "id: menu", "id: menu\nid: menu")
    out = io.StringIO()
    assert run_lint(content_copy, out, io.StringIO()) == 1  # the loader still finds the rest
    assert "jsonschema is not installed" in out.getvalue()
