"""Crisis words open the crisis screen wherever they are typed, through the real Dialogue
over a real SQLite store; an act already done puts 119 first; a threat in the same
message is not dropped."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from storage import SqliteStore
from tests.helpers import Chat

NIGHT = "2026-11-29T02:00+09:00"
SCREEN = ["crisis.message", "contacts:crisis", "crisis.ask"]
SECRET = b"crisis-anywhere-test-secret-32-bytes-long!"


@pytest.fixture
async def store(tmp_path: Path):
    opened = await SqliteStore.open(tmp_path / "kakekomi.sqlite3", secret=SECRET)
    yield opened
    await opened.close()


async def start(store, lang: str = "ja") -> Chat:
    return await Chat.start(lang=lang, now=NIGHT, store=store)


def assert_screen(chat: Chat) -> None:
    assert chat.keys[:3] == SCREEN, chat.keys
    labels = chat.labels
    assert chat.t("crisis.safe_now") in labels and chat.t("crisis.not_safe") in labels


# ---- a threat in the same message is kept -----------------------------------------------------


@pytest.mark.parametrize(("lang", "text"), [
    ("ja", "消えたい。親に送るって言われた"),
    ("en", "I want to disappear. He says he'll send it to my parents"),
])
async def test_crisis_first_then_the_threat_route_once_safe(store, lang, text):
    chat = await start(store, lang)
    await chat.type(text)
    assert_screen(chat)
    await chat.press("crisis.safe_now")
    assert chat.keys == ["engine.intent.confirm"], chat.keys
    assert chat.t("intents.threat.label") in chat.text
    await chat.press("engine.intent.yes")
    record = await chat.record()
    assert record["flow"] == "after_sending" and "threat" in record["slots"]["happening"]


async def test_not_safe_then_continue_also_resumes_the_threat(store):
    chat = await start(store, "en")
    await chat.type("I want to die, he is threatening to post my video")
    await chat.press("crisis.not_safe")
    assert "crisis.danger" in chat.keys and "110" in chat.text
    await chat.press("crisis.continue")
    assert chat.keys == ["engine.intent.confirm"]


async def test_a_crisis_message_without_a_threat_goes_back_where_it_was(store):
    chat = await start(store)
    await chat.type("死にたい")
    await chat.press("crisis.safe_now")
    assert "engine.intent.confirm" not in chat.keys
    assert (await chat.record())["flow"] == "menu"


# ---- urgency ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("lang", "text"), [("ja", "薬を全部飲んだ"), ("en", "I took 20 pills")])
async def test_an_act_already_done_puts_119_first(store, lang, text):
    chat = await start(store, lang)
    await chat.type(text)
    assert chat.keys[0] == "crisis.call_now" and chat.keys[1:4] == SCREEN, chat.keys
    assert chat.text.index("119") < chat.text.index(chat.t("crisis.message").splitlines()[0])
    await chat.press("crisis.not_safe")  # still urgent after the buttons
    assert "crisis.danger" in chat.keys


async def test_a_wish_gets_the_screen_without_the_urgent_line(store):
    chat = await start(store)
    await chat.type("死にたい")
    assert chat.keys[:3] == SCREEN and "crisis.call_now" not in chat.keys


# ---- typed anywhere ---------------------------------------------------------------------------


async def open_memo(store) -> Chat:
    chat = await start(store)
    await chat.press("menu.memo")
    await chat.press("memo.btn.start")
    assert "memo.app.q" in chat.keys
    return chat


async def test_in_a_free_text_memo_answer_the_answer_is_saved(store):
    chat = await open_memo(store)
    await chat.type("インスタ。もう死にたい")
    assert_screen(chat)
    assert (await chat.record())["slots"]["memo_app"] == "インスタ。もう死にたい"
    await chat.press("crisis.safe_now")
    assert "memo.other_id.q" in chat.keys  # the next question, nothing lost


async def test_in_a_multi_select_list(store):
    chat = await open_memo(store)
    while "memo.evidence.q" not in chat.keys:
        await chat.press("common.skip")
    await chat.press("memo.btn.open_checklist")
    await chat.press("evidence.btn.chat")
    before = (await chat.record())["slots"]
    await chat.type("もう消えたい")
    assert_screen(chat)
    await chat.press("crisis.safe_now")
    after = await chat.record()
    assert after["flow"] == "evidence" and after["slots"] == before


async def test_on_the_contacts_screen(store):
    chat = await start(store)
    await chat.command("contacts")
    await chat.type("生きるのがつらい")
    assert_screen(chat)


async def test_after_exit(store):
    chat = await start(store, "en")
    await chat.command("exit")
    await chat.type("i can't take it anymore")
    assert_screen(chat)


async def test_on_the_forget_confirmation_nothing_is_erased(store):
    chat = await start(store)
    await chat.press("menu.memo")
    await chat.command("forget")
    assert "engine.forget.confirm" in chat.keys
    await chat.type("死にたい")
    assert_screen(chat)
    assert not chat.last.erased and await chat.record() is not None


async def test_on_the_intent_confirmation(store):
    chat = await start(store)
    await chat.type("10万払えって言われた")
    assert chat.keys == ["engine.intent.confirm"]
    await chat.type("もう死にたい")
    assert_screen(chat)


@pytest.mark.parametrize(("text", "first"),
                         [("死にたい", "crisis.danger"), ("手首を切った", "crisis.call_now")])
async def test_in_the_damaged_storage_apology(store, tmp_path, text, first):
    chat, other = await start(store), await Chat.start(now=NIGHT, store=store, user="other")
    # chat's record gets another's ciphertext
    with sqlite3.connect(tmp_path / "kakekomi.sqlite3") as db:
        db.execute("UPDATE conversations SET blob = (SELECT blob FROM conversations WHERE key = ?)"
                   " WHERE key = ?", (other.key, chat.key))
    store._cache.clear()  # as after a restart
    await chat.type(text)
    keys = chat.keys
    assert keys[0] == first and "contacts:crisis" in keys, keys
    assert keys.index("contacts:crisis") < keys.index("engine.damaged.text")
