"""Whatever text arrives, the bot answers it: no crash, no slow path, no traceback.

Text is cleaned once where it enters (``bot.engine._events.clean_text``, run for every Event):
lone surrogates become U+FFFD, control characters other than tab and newline go, and
at most 4,096 characters reach the engine. Numbers pick buttons only in the short form
buttons use (1-3 digits after NFKC); ``፩``, ``٣`` and a 5,000-digit line are text.
The terminal chat is run as a real process with bytes on stdin.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import Event
from bot.engine._events import MAX_TEXT, clean_text, small_number
from storage import MemoryStore, SqliteStore
from tests.botapi_stub import BotApiStub
from tests.helpers import ROOT, Chat, content
from tests.reliability_helpers import SECRET, check_reply
from tests.telegram_fixtures import ALICE, RunningBot

NOW = "2026-11-29T02:00+09:00"
HANG_GUARD = 120.0  # seconds: stops a hung test; never a speed limit


def t(lang: str, key: str) -> str:
    return content().locales.text(lang, key)

LONG_DIGITS = ["1" * 4096, "9" * 5000, "0" * 4301, "1" * 100_000]
ODD_DIGITS = ["፩", "፩፪", "٣", "३", "²", "①", "𝟙", "1\u20e3", "Ⅳ", "١٢٣٤"]


# -- the cleaning at the edge ----------------------------------------------------------------


def test_lone_surrogates_become_a_replacement_character():
    assert clean_text("a\ud800b\udfffc") == "a\ufffdb\ufffdc"
    clean_text("\ud83d").encode("utf-8")  # encodable: a channel can send it, a hash can take it


def test_control_characters_are_dropped_but_lines_and_tabs_stay():
    assert clean_text("a\x00b\x07c\x1b[31md\x7fe\x85f") == "abc[31mdef"
    assert clean_text("one\r\ntwo\rthree\tfour\n") == "one\ntwo\nthree\tfour\n"


def test_text_is_capped_at_telegrams_message_length():
    assert len(clean_text("あ" * 100_000)) == MAX_TEXT
    assert clean_text("x" * MAX_TEXT) == "x" * MAX_TEXT


def test_every_event_is_cleaned_whatever_the_channel():
    assert Event.text("a\ud800\x00").value == "a\ufffd"
    assert Event.button("1.\x002").value == "1.2"
    assert Event.command("start", "\ud800" * 5000).arg == "\ufffd" * MAX_TEXT
    assert Event("text", 12345).value == ""  # not text at all: nothing, never a crash


@pytest.mark.parametrize("typed, number", [
    ("1", 1), ("12", 12), ("１２", 12), (" 3 ", 3), ("²", 2), ("①", 1), ("007", 7),
    ("1234", None), ("፩", None), ("٣", None), ("१", None), ("1.5", None), ("-1", None),
    ("", None), ("1" * 5000, None), ("1 2", None),
])
def test_only_short_numbers_pick_a_button(typed, number):
    assert small_number(typed) == number


def test_button_data_and_stored_tokens_take_plain_ascii_digits_only():
    assert small_number("3", typed=False) == 3
    assert small_number("３", typed=False) is None
    assert small_number(" 3", typed=False) is None


# -- the engine, with the real content -------------------------------------------------------


async def at_menu(lang: str = "en") -> Chat:
    return await Chat.start(lang=lang, now=NOW)


@pytest.mark.parametrize("text", ODD_DIGITS)
async def test_digits_int_cannot_read_are_treated_as_words(text):
    chat = await at_menu()
    menu = chat.labels
    await chat.type(text)
    check_reply(chat.last)
    assert chat.last.messages, text
    if small_number(text) is None:  # not a number: asked again, nothing pressed
        assert "engine.unknown_text" in chat.keys
        assert chat.labels == menu
        assert await chat.position() == ("menu", "main")


async def test_a_full_width_number_still_picks_its_button():
    chat = await at_menu("ja")
    first = chat.labels[0]
    await chat.type("１")
    assert chat.last.pressed == first


@pytest.mark.parametrize("digits", LONG_DIGITS, ids=len)
async def test_a_very_long_number_is_answered_as_text(digits):
    chat = await at_menu()
    menu = chat.labels
    await chat.type(digits)
    check_reply(chat.last)
    assert "engine.unknown_text" in chat.keys
    assert chat.labels == menu


@pytest.mark.parametrize("digits", LONG_DIGITS, ids=len)
async def test_a_very_long_number_at_a_date_question_is_asked_again(digits):
    chat = await at_menu()
    await chat.command("memo")
    await chat.press("memo.btn.start")
    for _ in range(3):  # app, other person's id, room: to the first date question
        await chat.press("common.skip")
    assert await chat.position() == ("memo", "started_at")
    await chat.type(digits)
    check_reply(chat.last)
    assert "memo.invalid_datetime" in chat.keys
    assert await chat.position() == ("memo", "started_at")


async def test_a_memo_answer_with_lone_surrogates_is_saved_and_shown(tmp_path):
    store = await SqliteStore.open(tmp_path / "kakekomi.sqlite3", secret=SECRET)
    try:
        chat = await Chat.start(lang="ja", now=NOW, store=store)
        await chat.command("memo")
        await chat.press("memo.btn.start")
        await chat.type("Insta\ud800gram \udcff")  # as JSON "\ud800" delivers it
        check_reply(chat.last)
        assert await chat.position() == ("memo", "other_id")
        assert (await chat.slots())["memo_app"] == "Insta\ufffdgram \ufffd"
        await chat.command("memo")
        await chat.press("memo.btn.overview")
        assert "Insta\ufffdgram" in chat.text
        chat.text.encode("utf-8")
    finally:
        await store.close()


async def test_a_telegram_memo_answer_with_a_lone_surrogate_gets_the_next_question():
    """JSON can carry "\\ud800"; PTB hands it over as a lone surrogate."""
    async with BotApiStub() as stub:
        bot = RunningBot(stub, content(), MemoryStore(secret=SECRET), rate_limiter=False)
        await bot.start()
        try:
            stub.send_command(ALICE, "memo")
            await stub.wait_for(lambda: stub.buttons(ALICE.id), timeout=HANG_GUARD,
                                what="the memo's first screen")
            stub.press_label(ALICE, t("en", "memo.btn.start"))
            await bot.settle(timeout=HANG_GUARD)
            assert await bot.position(ALICE) == ("memo", "app")
            before = len(stub.bot_messages(ALICE.id))
            stub.send_text(ALICE, "Insta\ud800gram")
            await stub.wait_for(lambda: len(stub.bot_messages(ALICE.id)) > before,
                                timeout=HANG_GUARD, what="the reply to the answer")
            await bot.settle(timeout=HANG_GUARD)
            assert await bot.position(ALICE) == ("memo", "other_id")
            assert (await bot.record(ALICE))["slots"]["memo_app"] == "Insta\ufffdgram"
        finally:
            await bot.stop()


async def test_a_memo_saved_with_a_surrogate_before_cleaning_still_renders():
    chat = await at_menu("ja")
    await chat.command("memo")
    await chat.press("memo.btn.start")
    await chat.type("Instagram")
    record = await chat.record()
    record["slots"]["memo_app"] = "old\ud800answer"  # written by an earlier version
    await chat.dialogue.store.save(chat.key, record)
    await chat.command("memo")
    await chat.press("memo.btn.overview")
    assert "old\ufffdanswer" in chat.text
    for message in chat.last.messages:
        message.text.encode("utf-8")


async def test_crisis_words_after_control_characters_still_get_the_lines():
    chat = await at_menu("ja")
    await chat.type("\x00\x1b死に\x07たい\ud800")
    assert "crisis.message" in chat.keys


texts = st.one_of(
    st.text(max_size=60),
    st.text(st.characters(codec=None, categories=("Cs", "Cc", "Nd", "No", "Nl")), max_size=40),
    st.sampled_from(ODD_DIGITS + ["\ud800", "\udfff\ud800", "1\x00", "\r\n1\r\n"]),
    st.builds(lambda d, n: d * n, st.sampled_from(["1", "9", "፩", "１", "1,", "1.", "12:"]),
              st.integers(1000, 6000)),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sequence=st.lists(texts, min_size=1, max_size=3), lang=st.sampled_from(["ja", "en"]))
def test_any_text_through_the_engine_gets_a_reply(sequence, lang):
    import asyncio

    async def go() -> None:
        chat = await Chat.start(lang=lang, now=NOW)
        for text in sequence:
            reply = await chat.type(text)
            check_reply(reply)
            assert reply.messages or reply.exited  # typing the exit button's number hides the chat

    asyncio.run(go())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(texts, min_size=1, max_size=4), lang=st.sampled_from(["ja", "en"]))
def test_any_line_through_the_terminal_chat_gets_an_answer(lines, lang):
    import asyncio
    import io

    from bot import Dialogue
    from bot.channels.terminal import TerminalChat

    async def go() -> None:
        store = MemoryStore(secret=SECRET)
        dialogue = Dialogue(content(), store, clock=lambda: datetime.fromisoformat(NOW))
        lines_in = [line.replace("\n", " ").replace("\r", " ") for line in lines]
        out = io.StringIO()
        chat = TerminalChat(dialogue, "k", lang=lang, inp=io.StringIO("\n".join(lines_in)),
                            out=out)
        answered = []
        send = chat._send

        async def counting(reply):
            answered.append(reply)
            return await send(reply)

        chat._send = counting  # type: ignore[method-assign]
        await chat.run()
        expected = 1 + sum(1 for line in lines_in if line.strip())
        assert len(answered) == expected
        out.getvalue().encode("utf-8")  # nothing unprintable reached the screen

    asyncio.run(go())


# -- the terminal chat as a real process -----------------------------------------------------


def chat_process(stdin: bytes, tmp_path, *args: str) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAKEKOMI_", "TELEGRAM_"))}
    env.update(KAKEKOMI_DATA=str(tmp_path / "data"), PYTHONPATH=str(ROOT))
    # timeout: a hang guard only (a stuck chat would never end); never a speed limit.
    return subprocess.run([sys.executable, "-m", "bot", "chat", "--now", NOW, *args],
                          input=stdin, capture_output=True, cwd=ROOT, env=env, timeout=300)


def test_terminal_chat_answers_bad_bytes_odd_digits_and_huge_lines(tmp_path):
    lines = [b"\xff\xfe\xc3(", "፩".encode(), b"\x00\x01\x1b[31m\x07", b"1" * 5000,
             b"x" * 100_000, "٣".encode(), b"\xed\xa0\x80", b"1"]
    result = chat_process(b"\n".join(lines) + b"\n", tmp_path, "--lang", "en")
    out = result.stdout.decode("utf-8")
    err = result.stderr.decode("utf-8", errors="replace")
    assert result.returncode == 0, err[-2000:]
    assert "Traceback" not in err and "Traceback" not in out, err[-2000:]
    again = t("en", "engine.unknown_text")
    assert out.count(again) >= 6, out[-3000:]  # each odd line answered, not skipped
    # and the last line, "1", still picks the first button of the menu
    first_question = t("en", "after.danger.q").split("\n")[0]
    assert first_question in out.split(again)[-1], out[-3000:]


def test_terminal_chat_ends_cleanly_at_end_of_input_after_a_partial_line(tmp_path):
    result = chat_process(b"\xe3\x81", tmp_path)  # a cut multi-byte character, no newline
    assert result.returncode == 0
    assert b"Traceback" not in result.stderr + result.stdout
