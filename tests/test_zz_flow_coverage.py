"""Flow coverage: every state of every flow must be reached by some test.

`tests/helpers.py` records each (flow, state) the engine renders in VISITED. After a
full, green run of the suite, the `pytest_sessionfinish` hook in tests/conftest.py
calls `check_flow_coverage`: it writes .kakekomi-coverage.json (read by `kakekomi
coverage`) and fails the run when a state was never visited. A partial run (-k, -m,
a file or test id, --lf, --deselect) or a run with failures checks nothing.
"""

from __future__ import annotations

import json
import os
import sys
import time
from io import StringIO
from pathlib import Path
from typing import Any

from bot import load_content
from bot.authoring._tools import COVERAGE_FILE, all_states, print_coverage, write_coverage
from tests.helpers import ROOT, VISITED, Chat

TESTS = Path(__file__).resolve().parent


def whole_suite_ran(session: Any) -> bool:
    """True when every test of tests/ was collected and none was deselected."""
    config = session.config
    if config.option.collectonly or session.testscollected == 0:
        return False
    option = config.option
    if option.keyword or option.markexpr or getattr(option, "deselect", None):
        return False
    if getattr(option, "lf", False):
        return False
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and reporter.stats.get("deselected"):  # any other way to leave some out
        return False
    base = Path(config.invocation_params.dir)
    paths = {(base / arg.split("::")[0]).resolve() for arg in config.args}
    if any("::" in arg for arg in config.args):
        return False
    return all(path in (TESTS, ROOT) for path in paths)


def check_flow_coverage(session: Any, exitstatus: int) -> None:
    """Write .kakekomi-coverage.json and fail the session if a flow state was never visited."""
    if exitstatus != 0 or not whole_suite_ran(session):
        return
    try:
        content = load_content(ROOT)
    except Exception:  # noqa: BLE001 - the content tests report this themselves
        return
    # Test files import the helpers as `tests.helpers` or as `helpers`: two modules, two sets.
    visited = set(VISITED) | set(getattr(sys.modules.get("helpers"), "VISITED", ()))
    missing = write_coverage(ROOT, content, visited)
    if not missing:
        return
    lines = ["", f"FLOW COVERAGE: {len(missing)} flow state(s) no test visits:"]
    for flow, state in missing:
        lines.append(f"  {content.flows[flow].file}:{content.flows[flow].states[state].line}: "
                     f"{flow} / {state}")
    lines.append("Add a test that walks there (tests/helpers.py Chat), or remove the state. "
                 "`kakekomi coverage` shows this list again.")
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    for line in lines:
        reporter.write_line(line, red=True) if reporter else print(line)
    session.exitstatus = 1


# ---- the tools behind it -----------------------------------------------------------------
async def test_branch_states_count_as_visited_when_passed_through(engine_root: Path):
    content = load_content(engine_root)
    visited: list[tuple[str, str]] = []
    chat = await Chat.start(lang="en", content_=content)
    chat.dialogue.on_visit = lambda flow, state: visited.append((flow, state))
    await chat.walk("t.go_demo", "t.adult", "t.done")
    assert ("demo", "route") in visited  # a branch shows nothing, yet it was passed
    assert ("demo", "pick_again") in visited


def test_coverage_file_lists_unvisited_states_and_the_command_prints_them(engine_root: Path):
    content = load_content(engine_root)
    states = all_states(content)
    assert ("demo", "route") in states and ("sub", "finish") in states
    visited = [s for s in states if s != ("demo", "late_entry")]
    missing = write_coverage(engine_root, content, visited)
    assert missing == [("demo", "late_entry")]
    record = json.loads((engine_root / COVERAGE_FILE).read_text(encoding="utf-8"))
    assert record["unvisited"][0]["where"].startswith("flows/demo.yaml:")
    out = StringIO()
    assert print_coverage(engine_root, out) == 1
    assert "seconds ago" in out.getvalue()
    assert "demo / late_entry" in out.getvalue()


def test_coverage_command_notes_content_edited_since(engine_root: Path):
    content = load_content(engine_root)
    write_coverage(engine_root, content, all_states(content))
    old = time.time() - 3600
    os.utime(engine_root / COVERAGE_FILE, (old, old))
    out = StringIO()
    assert print_coverage(engine_root, out) == 0
    assert "Every state" in out.getvalue()
    assert "changed since" in out.getvalue()
    assert "60 minutes ago" in out.getvalue()


def test_coverage_command_without_a_run_says_what_to_do(tmp_path: Path):
    out = StringIO()
    assert print_coverage(tmp_path, out) == 1
    assert "make test" in out.getvalue()
