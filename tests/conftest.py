"""Shared fixtures: real content, and a small engine-test content built in a temp folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "engine"
SHARED_LOCALES = ("engine.yaml", "safety.yaml", "contacts.yaml", "common.yaml")


def build_engine_content(target: Path) -> Path:
    """Copy the engine fixture plus the real engine/safety/contact texts into `target`."""
    shutil.copytree(FIXTURE, target, dirs_exist_ok=True)
    for lang in ("ja", "en"):
        for name in SHARED_LOCALES:
            source = ROOT / "locales" / lang / name
            if source.exists():
                shutil.copy(source, target / "locales" / lang / name)
    (target / "contacts").mkdir(exist_ok=True)  # git keeps no empty folder
    for source in (ROOT / "contacts").glob("*.yaml"):
        shutil.copy(source, target / "contacts" / source.name)
    return target


@pytest.fixture
def engine_root(tmp_path: Path) -> Path:
    return build_engine_content(tmp_path / "content")


# ---- flow coverage (issue 8) ---------------------------------------------------------------
# After a full, green run, fail if some flow state was never visited by any test.
# The logic lives in tests/test_zz_flow_coverage.py; `kakekomi coverage` reads the result.
def pytest_sessionfinish(session, exitstatus):
    try:
        from tests.test_zz_flow_coverage import check_flow_coverage
    except ModuleNotFoundError as exc:  # a checkout without the coverage check
        if exc.name != "tests.test_zz_flow_coverage":
            raise
        return
    check_flow_coverage(session, exitstatus)


# ---- crisis corpus (issue 13) ----------------------------------------------------------------
# Print the held-out recall / false-alarm table whenever its test ran.
def pytest_terminal_summary(terminalreporter, exitstatus, config):
    import sys

    # Found by its file name, so moving the test module cannot silently drop the table.
    module = next((m for name, m in list(sys.modules.items())
                   if name.endswith("test_crisis_corpus")), None)
    text = module.summary() if module is not None else ""
    if text:
        terminalreporter.write_sep("=", "crisis net: recall and false alarms (docs/crisis-corpus)")
        terminalreporter.write_line(text)


def pytest_collection_modifyitems(session, config, items):
    """Browser tests go last when one pytest runs everything: Playwright's sync API keeps an
    event loop running for the rest of the session, and async tests after it would fail.
    (`make test` runs them in a pytest of their own anyway.)"""
    items.sort(key=lambda item: item.nodeid.startswith("tests/browser/"))
