"""Start-up failures of the real `python -m bot` process: one line on stderr, never a traceback.

A setting, an option, the database or the content that stops kakekomi from starting is
one line naming what is wrong and what is allowed, exit 2; an unexpected error is one
line naming only its type (its text could hold the token), exit 1, and KAKEKOMI_DEBUG=1
shows the traceback with the token redacted. No secret value is ever printed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import ROOT, content

STRONG = "kakekomi-test-secret-Qx7vR2pL9mZ4wT8n"
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
HANG_GUARD = 120  # seconds; only so that a stuck process fails the test instead of hanging it


def run(tmp_path: Path, *args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("KAKEKOMI_", "TELEGRAM_"))}
    clean.update({"KAKEKOMI_DATA": str(tmp_path / "data"), "PYTHONPATH": str(ROOT), **env})
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=clean, input=stdin,
                          capture_output=True, text=True, timeout=HANG_GUARD)


def bot(tmp_path: Path, *args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess:
    return run(tmp_path, "-m", "bot", *args, stdin=stdin, **env)


def one_line(result: subprocess.CompletedProcess, code: int = 2) -> str:
    """The single stderr line of a refused start (and nothing else anywhere)."""
    assert "Traceback" not in result.stderr + result.stdout, result.stderr[-2000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr[-2000:]
    assert result.returncode == code, result.stderr
    assert lines[0].startswith("kakekomi: ")
    return lines[0]


# -- settings from the environment ------------------------------------------------------------


@pytest.mark.parametrize("value", ["0", "-1", "abc", "nan", "inf", "1e9", ""])
def test_bad_retention_is_refused_before_anything_is_erased(tmp_path, value):
    line = one_line(bot(tmp_path, "chat", KAKEKOMI_RETENTION_DAYS=value))
    assert line.startswith("kakekomi: KAKEKOMI_RETENTION_DAYS") and "1 to 3650" in line
    assert not (tmp_path / "data").exists()  # refused before the database was touched


@pytest.mark.parametrize("weak", ["a", "password123", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"])
def test_weak_master_secret_is_refused_and_never_printed(tmp_path, weak):
    line = one_line(bot(tmp_path, "chat", KAKEKOMI_SECRET=weak))
    assert line.startswith("kakekomi: KAKEKOMI_SECRET: too weak")
    assert "token_urlsafe" in line
    assert len(weak) < 4 or weak not in line


def test_data_folder_that_is_a_file(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    line = one_line(bot(tmp_path, "chat", KAKEKOMI_DATA=str(blocker)))
    assert line == f"kakekomi: KAKEKOMI_DATA={blocker}: is a file, not a folder"


@pytest.mark.parametrize("env, start", [
    ({"TELEGRAM_BOT_TOKEN": "not a token, 987654:zz"}, "TELEGRAM_BOT_TOKEN: is not a bot token"),
    ({"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": "ftp://127.0.0.1"},
     "TELEGRAM_API_BASE_URL: must be an http"),
    ({"TELEGRAM_BOT_TOKEN": TOKEN, "KAKEKOMI_WEBHOOK_URL": "https://example.org/k",
      "KAKEKOMI_WEBHOOK_SECRET": "no spaces allowed"}, "KAKEKOMI_WEBHOOK_SECRET: must be 1 to 256"),
    ({"TELEGRAM_BOT_TOKEN": TOKEN, "KAKEKOMI_WEBHOOK_URL": "https://example.org/k"},
     "--secret-token (or KAKEKOMI_WEBHOOK_SECRET): is needed"),
    ({"KAKEKOMI_DEBUG": "maybe"}, "KAKEKOMI_DEBUG: must be 1"),
])
def test_bad_telegram_settings_are_one_line_without_secrets(tmp_path, env, start):
    line = one_line(bot(tmp_path, "telegram", **env))
    assert line.startswith(f"kakekomi: {start}"), line
    for value in env.values():
        if value not in ("https://example.org/k", "maybe"):
            assert value not in line


def test_telegram_without_a_token_says_how_to_get_one(tmp_path):
    line = one_line(bot(tmp_path, "telegram"))
    assert "TELEGRAM_BOT_TOKEN" in line and "@BotFather" in line


# -- options ------------------------------------------------------------------------------------


@pytest.mark.parametrize("args, words", [
    (["telegram", "--port", "0"], "--port must be a port number from 1 to 65535"),
    (["telegram", "--port", "70000"], "--port must be a port number from 1 to 65535"),
    (["telegram", "--port", "abc"], "--port must be a port number from 1 to 65535"),
    (["telegram", "--listen", "not an address"], "--listen: must be an IP address"),
    (["telegram", "--webhook-url", "ftp://example.org"], "--webhook-url: must be an http"),
    (["telegram", "--api-base-url", "http://"], "--api-base-url: must be an http"),
    (["telegram", "--webhook-url", "https://example.org/k", "--secret-token", "bad secret!"],
     "--secret-token: must be 1 to 256"),
    (["chat", "--now", "yesterday"], "--now needs a time like 2026-11-29T02:00+09:00"),
    (["chat", "--now", "2026-11-29T02:00"], "--now needs a time zone"),
    (["chat", "--lang", "fr"], "--lang"),
    (["chat", "--user", ""], "--user must be 1 to 64 printable characters"),
    (["chat", "--db", "."], "--db=.: is a folder, not a file"),
    (["--root", "/nonexistent/kakekomi", "lint"],
     "--content=/nonexistent/kakekomi: is not a folder"),
    (["lint", "--content", "/"], "--content=/: has no flows/, locales/, contacts/"),
    (["chat", "--no-such-option"], "unrecognized arguments"),
])
def test_bad_options_are_one_line(tmp_path, args, words):
    line = one_line(bot(tmp_path, *args, TELEGRAM_BOT_TOKEN=TOKEN))
    assert words in line, line
    assert "bad secret!" not in line and TOKEN not in line


# -- unexpected errors --------------------------------------------------------------------------

BOOM = f"""
import sys
import bot.__main__ as cli

def boom(args):
    raise RuntimeError("the Bot API said: invalid token {TOKEN}")

cli._settings = boom
raise SystemExit(cli.main(sys.argv[1:]))
"""


def test_an_unexpected_error_names_only_its_type(tmp_path):
    result = run(tmp_path, "-c", BOOM, "chat", TELEGRAM_BOT_TOKEN=TOKEN)
    line = one_line(result, code=1)
    assert "RuntimeError" in line and "KAKEKOMI_DEBUG=1" in line
    assert "invalid token" not in line and TOKEN.split(":")[1] not in result.stderr


def test_debug_shows_the_traceback_with_the_token_redacted(tmp_path):
    result = run(tmp_path, "-c", BOOM, "chat", TELEGRAM_BOT_TOKEN=TOKEN, KAKEKOMI_DEBUG="1")
    assert result.returncode == 1
    assert "Traceback" in result.stderr and "RuntimeError" in result.stderr
    assert TOKEN.split(":")[1] not in result.stderr and "[redacted" in result.stderr


# -- the database and the content -------------------------------------------------------------

HOLDER = """
import asyncio, sys
from storage import SqliteStore, load_secret

async def main():
    store = await SqliteStore.open(sys.argv[1], secret=load_secret(sys.argv[2], None))
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    await store.close()

asyncio.run(main())
"""


def test_a_second_process_on_the_database_is_refused_naming_the_holder(tmp_path):
    db = tmp_path / "data" / "kakekomi.sqlite3"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(db), STRONG], cwd=ROOT, env=env,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        for command in (["chat"], ["telegram", "--api-base-url", "http://127.0.0.1:9"]):
            line = one_line(bot(tmp_path, *command, stdin="/forget\n", KAKEKOMI_SECRET=STRONG,
                                TELEGRAM_BOT_TOKEN=TOKEN))
            assert str(db) in line and f"process {holder.pid}" in line, line
    finally:
        holder.kill()
        holder.wait(timeout=HANG_GUARD)
    # Killed without closing: the lock went with it, and the next start works.
    result = bot(tmp_path, "chat", KAKEKOMI_SECRET=STRONG)
    assert result.returncode == 0, result.stderr[-2000:]


def test_what_forget_erased_never_comes_back_from_a_second_bot(tmp_path):
    """Issue 15: two bots on one file, one erases, the other's cache saves it back. Now the
    second cannot start at all, and after the first ends the record is gone."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAKEKOMI_", "TELEGRAM_"))}
    env.update(KAKEKOMI_DATA=str(tmp_path / "data"), PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    db = tmp_path / "data" / "kakekomi.sqlite3"
    first = subprocess.Popen([sys.executable, "-m", "bot", "chat", "--lang", "en"], cwd=ROOT,
                             env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        lock = Path(f"{db}.lock")
        deadline = time.monotonic() + HANG_GUARD  # a hang guard, not a speed limit
        while not (lock.exists() and lock.read_text().strip() == str(first.pid)):
            assert first.poll() is None and time.monotonic() < deadline, first.stderr
            time.sleep(0.05)
        assert first.stdin is not None
        first.stdin.write("1\n")  # a step: the conversation is saved (and cached)
        first.stdin.flush()
        second = bot(tmp_path, "chat", "--lang", "en", stdin="/forget\n1\n")
        assert f"process {first.pid}" in one_line(second)
        yes = content().locales.text("en", "engine.forget.yes")
        out, err = first.communicate(f"/forget\n{yes}\n", timeout=HANG_GUARD)
        assert first.returncode == 0, err[-2000:]
        assert content().locales.text("en", "engine.forget.done").split("\n")[0] in out
    finally:
        if first.poll() is None:
            first.kill()
            first.wait(timeout=HANG_GUARD)
    check = f"""
import asyncio
from pathlib import Path
from storage import SqliteStore, load_secret
async def main():
    key_file = Path({str(tmp_path / "data" / "secret.key")!r})
    store = await SqliteStore.open({str(db)!r}, secret=load_secret(None, key_file))
    print(await store.load(store.pseudonym("terminal", "local")))
    await store.close()
asyncio.run(main())
"""
    result = run(tmp_path, "-c", check)
    assert result.stdout.strip() == "None", result.stderr[-2000:]


def test_a_lost_key_file_is_refused_not_replaced(tmp_path):
    first = bot(tmp_path, "chat", stdin="1\n")  # makes the key file and saves a step
    assert first.returncode == 0, first.stderr[-2000:]
    key_file = tmp_path / "data" / "secret.key"
    key_file.unlink()
    line = one_line(bot(tmp_path, "chat", stdin="1\n"))
    assert "exists but its key file" in line and str(key_file) in line
    assert not key_file.exists()


def test_an_empty_database_file_is_refused(tmp_path):
    db = tmp_path / "data" / "kakekomi.sqlite3"
    db.parent.mkdir()
    db.write_bytes(b"")
    line = one_line(bot(tmp_path, "chat", KAKEKOMI_SECRET=STRONG))
    assert str(db) in line and "empty (0 bytes)" in line
    assert db.read_bytes() == b""


def test_content_problems_are_one_line_pointing_at_lint(tmp_path):
    root = tmp_path / "content"
    for folder in ("flows", "locales", "contacts"):
        (root / folder).mkdir(parents=True)
    (root / "flows" / "menu.yaml").write_text("states: [", encoding="utf-8")
    line = one_line(bot(tmp_path, "--root", str(root), "chat"))
    assert "problem(s)" in line and "kakekomi lint" in line
