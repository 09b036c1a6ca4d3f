"""The language a person chooses wins: `kakekomi chat --lang en` continues an earlier
Japanese conversation in English (and keeps it English), while a channel's mere hint
(Telegram's language_code) never overrides the language stored for a conversation."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot import Event
from storage import SqliteStore
from tests.botapi_stub import BotApiStub, User
from tests.helpers import Chat, content
from tests.telegram_fixtures import RunningBot, engine_content
from tests.test_startup import STRONG, bot

SECRET = b"lang-choice-test-secret-32-bytes-long!"


def t(lang: str, key: str) -> str:
    return content().locales.text(lang, key)


def chat(tmp_path: Path, *args: str, stdin: str = "") -> str:
    result = bot(tmp_path, "chat", "--user", "bob", *args, stdin=stdin, KAKEKOMI_SECRET=STRONG)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    return result.stdout


def test_lang_flag_wins_over_an_earlier_japanese_chat(tmp_path):
    first = chat(tmp_path, stdin="1\n")  # Japanese (the default), one step into a topic
    assert t("ja", "engine.nav.back") in first

    second = chat(tmp_path, "--lang", "en")
    assert t("en", "engine.nav.back") in second  # the same step again, in English
    assert t("ja", "engine.nav.back") not in second and t("ja", "engine.nav.menu") not in second

    third = chat(tmp_path)  # no flag: the stored conversation is English now
    assert t("en", "engine.nav.back") in third and t("ja", "engine.nav.back") not in third


def test_no_flag_keeps_the_stored_language(tmp_path):
    chat(tmp_path, "--lang", "en", stdin="1\n")
    again = chat(tmp_path)  # the default language (ja) is not a choice: English stays
    assert t("en", "engine.nav.back") in again and t("ja", "engine.nav.back") not in again


@pytest.fixture
async def store(tmp_path: Path):
    opened = await SqliteStore.open(tmp_path / "kakekomi.sqlite3", secret=SECRET)
    yield opened
    await opened.close()


async def test_a_hint_never_overrides_the_stored_language(store):
    person = await Chat.start(lang="ja", store=store)
    await person.press("menu.after_sending")
    reply = await person.event(Event.command("resume", lang_hint="en"))
    assert reply.lang == "ja"
    assert (await person.record())["lang"] == "ja"


async def test_a_chosen_language_switches_the_stored_conversation(store):
    person = await Chat.start(lang="ja", store=store)
    await person.press("menu.after_sending")
    where = await person.position()
    reply = await person.event(replace(Event.command("resume", lang_hint="en"), lang_chosen=True))
    assert reply.lang == "en"
    assert (await person.record())["lang"] == "en"
    assert await person.position() == where  # same place, other language


async def test_telegram_language_code_does_not_undo_a_choice(tmp_path):
    content_ = engine_content(tmp_path / "content")
    store = await SqliteStore.open(tmp_path / "tg.sqlite3", secret=SECRET)
    carol = User(731234577, "Carol", "en")  # her Telegram app is in English
    async with BotApiStub() as stub:
        running = RunningBot(stub, content_, store)
        await running.start()
        try:
            stub.send_command(carol, "start")
            await running.settle()
            assert content_.locales.text("en", "engine.welcome") in stub.texts(carol.id)[0]
            stub.send_command(carol, "lang", "ja")  # she chooses Japanese
            stub.send_text(carol, "1")
            await running.settle()
            assert "[ja] how old?" in stub.texts(carol.id)[-1]
            assert (await running.record(carol))["lang"] == "ja"
        finally:
            await running.stop()
            await store.close()
