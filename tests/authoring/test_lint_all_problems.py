"""`kakekomi lint` on deliberately broken copies of the content: every problem of every file
at once, each as one `file:line: message` (the place named once), exit 1, never a traceback.

(A malformed crisis keyword is covered by tests/test_crisis.py::
test_a_broken_rule_is_reported_by_lint_with_file_and_line.)
"""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

from bot.authoring._lint import run_lint
from tests.helpers import ROOT

LOCATION = re.compile(r"^([\w./-]+\.yaml):(\d+): ")


def copy_content(target: Path) -> Path:
    for name in ("flows", "locales", "contacts"):
        shutil.copytree(ROOT / name, target / name)
    return target


def break_line(path: Path, old: str, new: str, nth: int = 1) -> int:
    """Replace the `nth` line equal to `old` (stripped) by `new`; return its line number."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found = [i for i, line in enumerate(lines) if line.strip() == old]
    index = found[nth - 1]
    lines[index] = lines[index].replace(old, new)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return index + 1


def lint(root: Path) -> tuple[int, list[str], str]:
    out, err = io.StringIO(), io.StringIO()
    code = run_lint(root, out, err)
    text = out.getvalue() + err.getvalue()
    assert "Traceback" not in text
    errors = [line for line in out.getvalue().splitlines() if ": warning: " not in line]
    return code, errors, text


def test_every_broken_contact_in_every_file_is_reported_once(tmp_path):
    root = copy_content(tmp_path)
    kind = break_line(root / "contacts/japan.yaml", "kind: phone", "kind: pigeon", nth=2)
    checked = break_line(root / "contacts/japan.yaml", "checked: 2026-11", "checked: soon", nth=3)
    url = break_line(root / "contacts/abroad.yaml", "url: https://988lifeline.org/",
                     "url: 988lifeline.org")

    code, errors, _ = lint(root)

    assert code == 1
    expected = {f"contacts/japan.yaml:{kind}:", f"contacts/japan.yaml:{checked}:",
                f"contacts/abroad.yaml:{url}:"}
    for start in expected:
        assert [line for line in errors if line.startswith(start)], (start, errors)
    for line in errors:  # the place is named once, at the start
        assert line.count(".yaml:") == 1 or "first at" in line, line
        assert LOCATION.match(line), line


def test_problems_of_all_kinds_come_together(tmp_path):
    root = copy_content(tmp_path)
    engine_en = root / "locales/en/engine.yaml"
    engine_en.write_text(re.sub(r"(?m)^  help: How to use\n", "",
                                engine_en.read_text(encoding="utf-8")).replace(
        "  help: |-", "  helpp: |-", 1), encoding="utf-8")
    kind = break_line(root / "contacts/japan.yaml", "kind: phone", "kind: pigeon")
    (root / "flows/blocks.yaml").write_text("checklists: 5\n", encoding="utf-8")

    code, errors, text = lint(root)

    assert code == 1
    assert any(line.startswith("locales/ja/engine.yaml:") and "'engine.help' has no 'en' text"
               in line for line in errors), errors
    assert any(line.startswith(f"contacts/japan.yaml:{kind}:") for line in errors), errors
    assert any(line.startswith("flows/blocks.yaml:1:") and "checklists" in line
               for line in errors), errors
    assert re.search(r"\d+ problem\(s\)", text)


def test_a_content_shape_no_check_expects_is_a_problem_not_a_crash(tmp_path):
    root = copy_content(tmp_path)
    (root / "flows/blocks.yaml").write_text("intents: {a: 1}\nmemo: 3\n", encoding="utf-8")
    (root / "locales/en/zz.yaml").write_text("- just\n- a list\n", encoding="utf-8")
    (root / "contacts/empty.yaml").write_text("", encoding="utf-8")

    code, errors, _ = lint(root)

    assert code == 1
    assert any(line.startswith("flows/blocks.yaml:") for line in errors), errors
    assert any(line.startswith("locales/en/zz.yaml:1:") for line in errors), errors
    assert any(line.startswith("contacts/empty.yaml:1:") for line in errors), errors


def test_a_malformed_intent_keyword_is_named_at_its_line(tmp_path):
    root = copy_content(tmp_path)
    line = break_line(root / "locales/en/safety.yaml", "- threatens", "- …")

    code, errors, _ = lint(root)

    assert code == 1
    assert any(e.startswith(f"locales/en/safety.yaml:{line}: intents.threat.keywords:")
               for e in errors), errors


# ---- one error root per package, as docs/architecture.md draws it --------------------------


def test_every_error_has_one_root_per_package_and_the_docs_name_them_all():
    import inspect

    import bot._errors
    import bot.content._machines
    import bot.safety._contacts
    import bot.safety._crisis
    import bot.safety._textmatch
    import storage
    from bot._errors import ContentError, KakekomiError
    from storage import StorageError

    bot_errors = {obj for module in (bot._errors, bot.safety._contacts, bot.safety._crisis,
                                     bot.content._machines, bot.safety._textmatch)
                  for _, obj in inspect.getmembers(module, inspect.isclass)
                  if issubclass(obj, Exception) and obj.__module__.startswith("bot.")}
    assert {e.__name__ for e in bot_errors} >= {"PatternError", "RuleError", "DirectoryError",
                                                "ContentError", "SettingsError"}
    assert all(issubclass(e, KakekomiError) for e in bot_errors), bot_errors
    for name in ("PatternError", "RuleError", "DirectoryError"):
        assert issubclass(next(e for e in bot_errors if e.__name__ == name), ContentError)
    storage_errors = {obj for _, obj in inspect.getmembers(storage, inspect.isclass)
                      if issubclass(obj, Exception)}
    assert storage_errors and all(issubclass(e, StorageError) for e in storage_errors)
    assert not any(issubclass(e, KakekomiError) for e in storage_errors)  # storage stands alone

    docs = (ROOT / "docs/architecture.md").read_text(encoding="utf-8")
    section = docs.split("## Errors", 1)[1].split("\n## ", 1)[0]
    for error in bot_errors | storage_errors:
        assert error.__name__ in section, error.__name__


def test_a_contact_file_error_is_a_content_error_with_its_place(tmp_path):
    from bot._errors import ContentError
    from bot.safety._contacts import ContactDirectory

    path = tmp_path / "x.yaml"
    path.write_text("regions: {}\ncontacts: []\n", encoding="utf-8")
    try:
        ContactDirectory.load([path])
    except ContentError as exc:
        assert [(p.file, p.line) for p in exc.problems] == [(str(path), 1)]
    else:
        raise AssertionError("an empty region list was accepted")
