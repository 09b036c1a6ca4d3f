"""Languages are data: a new `locales/xx/` folder is a new language everywhere — the chat
flag, /lang, Telegram's command menus and language hint, reading scripts and lint — with
no code change. The new language here is a copy of English with every text marked `[xx] `."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot import load_content
from storage import MemoryStore
from tests.botapi_stub import BotApiStub, User
from tests.helpers import ROOT
from tests.telegram_fixtures import SECRET, RunningBot
from tests.test_startup import STRONG, bot, one_line

MARK = "[xx] "
# Keys that are not texts to translate: one language's crisis word lists, and the
# language's own settings (set below).
NOT_TEXTS = ("crisis.concepts.", "crisis.rules.", "lang.")
XX_LANG = {"name": "Xx-go", "joiner": " + ", "serves": ["xx"]}


def _marked(node: Any, prefix: str = "") -> Any:
    if isinstance(node, dict):
        return {key: _marked(value, f"{prefix}{_word(key)}.") for key, value in node.items()}
    if isinstance(node, str) and not prefix.startswith(NOT_TEXTS):
        return MARK + node
    return node  # lists (keyword lists) stay as they are


def _word(key: Any) -> str:
    return {True: "yes", False: "no"}.get(key, str(key)) if isinstance(key, bool) else str(key)


def add_language(root: Path, lang: str = "xx", drop: str | None = None) -> Path:
    """locales/<lang>/: English with every text marked; `drop` leaves one key out."""
    target = root / "locales" / lang
    target.mkdir()
    for source in sorted((root / "locales" / "en").glob("*.yaml")):
        data = _marked(yaml.safe_load(source.read_text(encoding="utf-8")) or {})
        if source.name == "common.yaml":
            data["lang"] = dict(XX_LANG)
        if drop and drop.split(".", 1)[0] in data:
            top, rest = drop.split(".", 1)
            data[top].pop(rest, None)
        text = yaml.safe_dump(data, allow_unicode=True)
        (target / source.name).write_text(text, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def xx_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("content")
    for folder in ("flows", "locales", "contacts"):
        shutil.copytree(ROOT / folder, root / folder)
    return add_language(root)


def kakekomi(tmp_path: Path, *args: str, stdin: str = ""):
    return bot(tmp_path, *args, stdin=stdin, KAKEKOMI_SECRET=STRONG)


def test_lint_accepts_the_new_language(tmp_path, xx_root):
    result = kakekomi(tmp_path, "lint", "--content", str(xx_root))
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "Traceback" not in result.stderr


def test_lint_names_a_key_the_new_language_lacks(tmp_path):
    root = tmp_path / "content"
    for folder in ("flows", "locales", "contacts"):
        shutil.copytree(ROOT / folder, root / folder)
    add_language(root, drop="common.next")
    result = kakekomi(tmp_path, "lint", "--content", str(root))
    assert result.returncode == 1
    assert "'common.next' has no 'xx' text" in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_terminal_chat_speaks_the_new_language(tmp_path, xx_root):
    result = kakekomi(tmp_path, "chat", "--lang", "xx", "--content", str(xx_root))
    assert result.returncode == 0, result.stderr[-2000:]
    welcome = load_content(xx_root).locales.text("xx", "engine.welcome")
    assert welcome.startswith(MARK) and welcome in result.stdout


def test_lang_command_switches_to_the_new_language(tmp_path, xx_root):
    result = kakekomi(tmp_path, "chat", "--content", str(xx_root), stdin="/lang xx\n")
    assert result.returncode == 0, result.stderr[-2000:]
    locales = load_content(xx_root).locales
    before, _, after = result.stdout.partition(locales.text("xx", "engine.lang_changed"))
    assert after, "the switch was not confirmed in the new language"
    assert locales.text("ja", "engine.welcome") in before  # it started in Japanese


def test_unknown_language_is_one_line_naming_those_available(tmp_path, xx_root):
    line = one_line(kakekomi(tmp_path, "chat", "--lang", "zz"))
    assert "--lang" in line and "ja, en" in line
    line = one_line(kakekomi(tmp_path, "chat", "--lang", "zz", "--content", str(xx_root)))
    assert "--lang" in line and "ja, en, xx" in line
    line = one_line(kakekomi(tmp_path, "script", "menu", "--lang", "zz", "--content", str(xx_root)))
    assert "ja, en, xx" in line


def test_reading_script_in_the_new_language(tmp_path, xx_root):
    result = kakekomi(tmp_path, "script", "menu", "--lang", "xx", "--content", str(xx_root))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Xx-go" in result.stdout  # the language's own name, from its locale
    content = load_content(xx_root)
    memo_title = content.locales.text("xx", content.flows["memo"].title)
    assert memo_title.startswith(MARK) and memo_title in result.stdout
    assert "(memo.xx.md)" in result.stdout  # links lead to the other scripts in xx


def test_the_language_settings_come_from_its_locale(xx_root):
    locales = load_content(xx_root).locales
    assert [locales.name(lang) for lang in locales.languages] == ["日本語", "English", "Xx-go"]
    assert locales.joiner("xx") == " + " and locales.joiner("ja") == "、"
    assert locales.language_for("xx-YY") == "xx"
    assert locales.language_for("ja") == "ja"
    assert locales.language_for("fr") == "en"  # English serves every other app language
    assert locales.language_for(None) is None


async def test_telegram_menu_and_hint_serve_the_new_language(xx_root):
    content = load_content(xx_root)
    async with BotApiStub() as stub:
        running = RunningBot(stub, content, MemoryStore(secret=SECRET))
        await running.start()
        try:
            assert set(stub.commands) == {"ja", "en", "xx", ""}
            menu = {c["command"]: c["description"] for c in stub.commands["xx"]}
            assert menu["start"] == content.locales.text("xx", "commands.start")
            assert menu["start"].startswith(MARK)
            person = User(731234599, "Xavi", "xx")
            stub.send_command(person, "start")
            await running.settle()
            assert stub.texts(person.id)[0].startswith(MARK)
        finally:
            await running.stop()
