"""A safety net under every turn: whatever breaks, the person hears sorry and gets the crisis
lines, the log names only the error's type, and the conversation is not lost.

Faults are injected into the real engine (a Turn method raising RuntimeError) running over a
real SQLite store; the terminal and Telegram channels are driven the way people use them.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest

from bot import Event, Reply
from bot.channels.terminal import TerminalChat
from bot.engine._turn import Turn
from storage import SqliteStore
from tests.botapi_stub import BotApiStub
from tests.helpers import Chat
from tests.telegram_fixtures import ALICE, RunningBot, engine_content

NIGHT = "2026-11-29T02:00+09:00"
SECRET = b"safety-net-test-secret-32-bytes-long!!"
# Words the person might have typed, and the text of the error: neither may reach a log line.
PRIVATE = "he has my photos and wants 50000 yen"
ERROR_TEXT = "internal detail 7f3a"


@pytest.fixture
async def store(tmp_path: Path):
    opened = await SqliteStore.open(tmp_path / "kakekomi.sqlite3", secret=SECRET)
    yield opened
    await opened.close()


def broken(*_args, **_kwargs):
    raise RuntimeError(ERROR_TEXT)


async def broken_async(*_args, **_kwargs):
    raise RuntimeError(ERROR_TEXT)


def assert_apology_with_lines(chat: Chat, reply: Reply) -> None:
    assert chat.t("engine.unexpected") in reply.text
    assert "110" in reply.text  # the police line, among the lines open now
    assert "0120-279-338" in reply.text  # and a line to talk to, open 24 hours


def assert_type_only(caplog: pytest.LogCaptureFixture) -> None:
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "RuntimeError" in logged
    assert ERROR_TEXT not in logged and PRIVATE not in logged
    assert all(r.exc_info is None for r in caplog.records)  # no traceback with the message


@pytest.mark.parametrize("lang", ["ja", "en"])
async def test_a_bug_in_a_button_press_still_gets_sorry_and_the_lines(store, monkeypatch, caplog,
                                                                      lang):
    chat = await Chat.start(lang=lang, now=NIGHT, store=store)
    await chat.press("menu.after_sending")
    before = await chat.record()
    shown = chat.last
    monkeypatch.setattr(Turn, "press", broken_async)

    with caplog.at_level(logging.INFO):
        reply = await chat.data(shown.buttons[0].data)

    assert_apology_with_lines(chat, reply)
    assert_type_only(caplog)
    assert await chat.record() == before  # nothing of the failed turn was stored

    monkeypatch.undo()  # the bug is fixed (or was a one-off): the same press now works
    chat.last = shown
    reply = await chat.data(shown.buttons[0].data)
    assert chat.t("engine.unexpected") not in reply.text
    assert chat.t("engine.stale_button") not in reply.text  # the press still counts
    assert await chat.record() != before


async def test_a_bug_while_typing_keeps_the_conversation_and_its_language(store, monkeypatch,
                                                                          caplog):
    chat = await Chat.start(lang="en", now=NIGHT, store=store)
    await chat.press("menu.after_sending")
    position = await chat.position()
    monkeypatch.setattr("bot.engine._dialogue.Dialogue._text", broken_async)

    chat.lang = "ja"  # the channel's hint says Japanese; the conversation is in English
    with caplog.at_level(logging.INFO):
        reply = await chat.type(PRIVATE)

    assert reply.lang == "en"
    assert_apology_with_lines(chat, reply)
    assert_type_only(caplog)
    assert await chat.position() == position
    monkeypatch.undo()
    reply = await chat.command("help")
    assert chat.t("engine.unexpected") not in reply.text and reply.lang == "en"
    assert await chat.position() == position


async def test_when_even_the_contact_list_fails_the_emergency_numbers_still_go_out(
        store, monkeypatch, caplog):
    chat = await Chat.start(lang="en", now=NIGHT, store=store)
    before = await chat.record()
    monkeypatch.setattr(Turn, "special", broken_async)
    monkeypatch.setattr(Turn, "render_block", broken)

    with caplog.at_level(logging.INFO):
        reply = await chat.command("menu")

    assert chat.t("engine.unexpected") in reply.text
    assert chat.t("crisis.danger") in reply.text  # 110 and 119, as plain text
    assert "110" in reply.text and "119" in reply.text
    assert_type_only(caplog)
    assert await chat.record() == before


async def test_a_failing_send_is_logged_and_the_apology_is_tried(store, caplog):
    chat = await Chat.start(lang="en", now=NIGHT, store=store)
    calls: list[Reply] = []

    async def flaky_send(reply: Reply) -> list[int]:
        calls.append(reply)
        if len(calls) == 1:
            raise RuntimeError(ERROR_TEXT)
        return [900]

    with caplog.at_level(logging.INFO):
        await chat.dialogue.handle(chat.key, Event.command("help", lang_hint="en"), flaky_send)

    assert len(calls) == 2
    assert chat.t("engine.unexpected") in calls[1].text and "110" in calls[1].text
    assert_type_only(caplog)
    # The help was committed before the send failed: the next event works as usual.
    reply = await chat.command("menu")
    assert chat.t("engine.unexpected") not in reply.text


async def test_a_send_that_always_fails_never_raises_into_the_channel(store, caplog):
    chat = await Chat.start(lang="en", now=NIGHT, store=store)

    async def dead_send(reply: Reply) -> list[int]:
        raise ConnectionError(ERROR_TEXT)

    with caplog.at_level(logging.INFO):
        reply = await chat.dialogue.handle(chat.key, Event.text(PRIVATE, lang_hint="en"),
                                           dead_send)
    assert reply is not None
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "ConnectionError" in logged and ERROR_TEXT not in logged and PRIVATE not in logged


# ---- through the channels ----------------------------------------------------------------------


async def test_terminal_chat_goes_on_after_a_bug(store, monkeypatch):
    chat = await Chat.start(lang="en", now=NIGHT, store=store, command=None)
    calls = {"n": 0}
    real_press = Turn.press

    async def press_once_broken(self, choice):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError(ERROR_TEXT)
        return await real_press(self, choice)

    monkeypatch.setattr(Turn, "press", press_once_broken)
    out = io.StringIO()
    terminal = TerminalChat(chat.dialogue, chat.key, lang="en", inp=io.StringIO("1\n1\n"),
                            out=out)
    await terminal.run()

    text = out.getvalue()
    sorry = chat.dialogue.content.locales.text("en", "engine.unexpected")
    assert sorry in text and "110" in text
    assert calls["n"] == 2  # the second "1" was pressed and handled
    assert (await chat.position())[0] != "menu"


async def test_telegram_person_gets_sorry_and_the_lines(tmp_path, monkeypatch):
    content = engine_content(tmp_path / "content")
    store = await SqliteStore.open(tmp_path / "tg.sqlite3", secret=SECRET)
    async with BotApiStub() as stub:
        bot = RunningBot(stub, content, store)
        await bot.start()
        try:
            stub.send_command(ALICE, "start")
            await bot.settle()
            before = await bot.record(ALICE)
            monkeypatch.setattr(Turn, "press", broken_async)
            stub.press_label(ALICE, "[en] demo")
            await bot.settle()
            last = stub.texts(ALICE.id)[-1]
            assert content.locales.text("en", "engine.unexpected") in last
            assert "110" in last
            assert await bot.record(ALICE) == before
            monkeypatch.undo()
            stub.send_text(ALICE, "1")
            await bot.settle()
            assert "[en] how old?" in stub.texts(ALICE.id)[-1]
        finally:
            await bot.stop()
            await store.close()
