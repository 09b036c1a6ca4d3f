"""The content installs with the package and can be replaced.

A wheel built from this checkout, installed (not editable) into a fresh virtual
environment, chats from any folder with the flows, locales and contacts it carries;
KAKEKOMI_CONTENT / --content point the bot at an organisation's own content folder,
checked like every other setting. `make wheel-check` runs this file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from bot._settings import DEFAULT_CONTENT, Settings
from tests.helpers import ROOT, content
from tests.test_startup import STRONG, bot, one_line

HANG_GUARD = 600  # seconds; building may fetch the build backend from PyPI


def t(lang: str, key: str) -> str:
    return content().locales.text(lang, key)


def org_content(tmp_path: Path) -> Path:
    """A copy of the shipped content whose English welcome names the organisation."""
    target = tmp_path / "org-content"
    for name in ("flows", "locales", "contacts"):
        shutil.copytree(ROOT / name, target / name)
    engine = target / "locales/en/engine.yaml"
    text = engine.read_text(encoding="utf-8")
    first = t("en", "engine.welcome").splitlines()[0]
    assert first in text
    engine.write_text(text.replace(first, "Welcome to the Example Helpline.", 1),
                      encoding="utf-8")
    return target


def test_a_checkout_reads_its_own_folders():
    assert DEFAULT_CONTENT == ROOT
    assert Settings.from_env({"KAKEKOMI_DATA": "/tmp/x"}).content_root == ROOT


@pytest.mark.parametrize("how", ["env", "option"])
def test_an_organisation_can_use_its_own_content(tmp_path, how):
    folder = org_content(tmp_path)
    args = ["chat", "--lang", "en"] + (["--content", str(folder)] if how == "option" else [])
    env = {"KAKEKOMI_CONTENT": str(folder)} if how == "env" else {}
    result = bot(tmp_path, *args, stdin="", KAKEKOMI_SECRET=STRONG, **env)
    assert result.returncode == 0, result.stderr
    assert "Welcome to the Example Helpline." in result.stdout


def test_a_content_folder_is_checked_like_every_setting(tmp_path):
    folder = org_content(tmp_path)
    shutil.rmtree(folder / "contacts")
    line = one_line(bot(tmp_path, "chat", KAKEKOMI_CONTENT=str(folder)))
    assert f"KAKEKOMI_CONTENT={folder}: has no contacts/" in line
    line = one_line(bot(tmp_path, "lint", "--content", str(tmp_path / "nowhere")))
    assert "--content=" in line and "is not a folder" in line
    line = one_line(bot(tmp_path, "chat", KAKEKOMI_CONTENT=" "))
    assert "KAKEKOMI_CONTENT: is empty" in line


def test_broken_own_content_is_refused_with_a_pointer_to_lint(tmp_path):
    folder = org_content(tmp_path)
    (folder / "flows/menu.yaml").write_text("states: [", encoding="utf-8")
    line = one_line(bot(tmp_path, "chat", KAKEKOMI_CONTENT=str(folder)))
    assert "problem(s)" in line and "kakekomi lint" in line


@pytest.mark.slow
def test_an_installed_wheel_chats_from_any_folder(tmp_path):
    """Build the wheel, install it (no dependencies, no index) into a fresh venv, and chat
    from an empty folder; the dependencies come from this environment's site-packages."""
    wheels = tmp_path / "wheels"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)],
        capture_output=True, text=True, timeout=HANG_GUARD)
    if build.returncode != 0 and "hatchling" in build.stderr and "No matching" in build.stderr:
        pytest.skip("the build backend (hatchling) cannot be fetched from PyPI")
    assert build.returncode == 0, build.stderr[-3000:]
    (wheel,) = wheels.glob("kakekomi-*.whl")

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=HANG_GUARD)
    python = venv / "bin" / "python"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
         "--no-index", str(wheel)], capture_output=True, text=True, timeout=HANG_GUARD)
    assert install.returncode == 0, install.stderr[-3000:]

    elsewhere = tmp_path / "somewhere-else"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAKEKOMI_", "TELEGRAM_"))}
    # Only the dependencies from here: a PYTHONPATH entry reads no .pth file, so the
    # checkout's editable install stays out of the way.
    env.update(PYTHONPATH=sysconfig.get_paths()["purelib"], KAKEKOMI_SECRET=STRONG)
    where = subprocess.run([str(python), "-c", "import bot; print(bot.__file__)"], cwd=elsewhere,
                           env=env, capture_output=True, text=True, timeout=HANG_GUARD)
    assert where.stdout.startswith(str(venv)), (where.stdout, where.stderr)

    chat = subprocess.run([str(venv / "bin" / "kakekomi"), "chat", "--lang", "en"], input="1\n",
                          cwd=elsewhere, env=env, capture_output=True, text=True,
                          timeout=HANG_GUARD)
    assert chat.returncode == 0, chat.stderr[-3000:]
    assert "Traceback" not in chat.stderr
    assert t("en", "engine.welcome").splitlines()[0] in chat.stdout
    assert t("en", "engine.nav.back") in chat.stdout  # the first button took a step
    assert (elsewhere / "data" / "kakekomi.sqlite3").exists()  # data next to the person

    lint = subprocess.run([str(venv / "bin" / "kakekomi"), "lint"], cwd=elsewhere, env=env,
                          capture_output=True, text=True, timeout=HANG_GUARD)
    assert lint.returncode == 0, lint.stdout[-3000:] + lint.stderr[-3000:]
