"""The Telegram channel: a real PTB Application over real HTTP against the loopback stand-in.

Updates reach the bot through getUpdates long polling, exactly as in production; the
stand-in enforces Telegram's limits (text length, HTML, 64-byte callback data), so a
message the real API would refuse fails here too. Flows are the small engine fixture.
"""

from __future__ import annotations

import asyncio
import logging
import socket

import httpx
import pytest

from bot import Button, Event, OutMessage, Reply, Settings
from bot.channels.telegram import _channel as telegram_channel
from bot.channels.telegram import _webhook as telegram_webhook
from bot.channels.telegram._channel import api_urls
from bot.channels.telegram._logging import redact
from bot.channels.telegram._outbound import TEXT_LIMIT, keyboard
from bot.engine import split_text, utf16_len
from storage import MemoryStore, SqliteStore, load_secret
from tests.botapi_stub import BotApiStub, User
from tests.telegram_fixtures import ALICE, BOB, SECRET, RunningBot, engine_content


@pytest.fixture(scope="module")
def content(tmp_path_factory):
    return engine_content(tmp_path_factory.mktemp("content"))


@pytest.fixture
async def stub():
    async with BotApiStub() as server:
        yield server


@pytest.fixture
async def bot(stub, content):
    running = RunningBot(stub, content, MemoryStore(secret=SECRET))
    await running.start()
    yield running
    await running.stop()


def t(content, lang: str, key: str) -> str:
    return content.locales.text(lang, key)


async def press(bot: RunningBot, user: User, label: str) -> None:
    bot.stub.press_label(user, label)
    await bot.settle()


# ---- a whole conversation -------------------------------------------------------------


async def test_person_walks_a_flow_to_its_end_by_buttons(bot, stub, content):
    stub.send_command(ALICE, "start")
    await bot.settle()
    assert t(content, "en", "engine.welcome") in stub.texts(ALICE.id)[0]
    assert [label for label, _ in stub.buttons(ALICE.id)][:2] == ["[en] demo", "[en] demo late"]

    for label in ("[en] demo", "[en] adult", "[en] option b", "[en] done", "[en] done"):
        await press(bot, ALICE, label)

    texts = stub.texts(ALICE.id)
    assert any("[en] sub done" in text for text in texts)
    assert any("[en] summary" in text for text in texts)
    assert await bot.position(ALICE) == ("demo", "summary")
    # every press was answered, and each pressed message shows the choice, without buttons
    assert stub.unanswered_callbacks() == []
    marked = [m for m in stub.bot_messages(ALICE.id) if "\n\n▶ " in (m.text or "")]
    assert len(marked) == 5 and all(not m.buttons for m in marked)
    assert marked[1].text.endswith("▶ [en] adult")
    # every message went out as escaped HTML with link previews off
    sends = stub.calls_to("sendMessage")
    assert all(c.params["parse_mode"] == "HTML" for c in sends)
    assert all(c.params["link_preview_options"] == {"is_disabled": True} for c in sends)


async def test_command_menu_is_set_in_japanese_and_english(bot, stub, content):
    assert set(stub.commands) == {"ja", "en", ""}  # "" = every other app language (English)
    ja = {c["command"]: c["description"] for c in stub.commands["ja"]}
    en = {c["command"]: c["description"] for c in stub.commands[""]}
    assert ja["start"] == t(content, "ja", "commands.start")
    assert en["forget"] == t(content, "en", "commands.forget")


async def test_typed_text_is_escaped_and_a_number_picks_a_button(bot, stub, content):
    stub.send_command(ALICE, "start")
    stub.send_text(ALICE, "<b>hello</b> & bye")  # not a button: engine re-prompts
    stub.send_text(ALICE, "1")  # the first button: the demo
    await bot.settle()
    texts = stub.texts(ALICE.id)
    assert t(content, "en", "engine.unknown_text") in texts[1]
    assert "[en] how old?" in texts[-1]
    for label in ("[en] adult", "[en] option a", "[en] done"):
        await press(bot, ALICE, label)
    stub.send_text(ALICE, "<i>&")  # the nickname, echoed back in the summary
    stub.send_text(ALICE, "now")
    await bot.settle()
    await press(bot, ALICE, "[en] done")
    summary = next(x for x in stub.texts(ALICE.id) if "[en] summary for" in x)
    assert "[en] summary for <i>&" in summary  # shown literally: the HTML parsed cleanly
    assert all(c.status == 200 for c in stub.calls_to("sendMessage"))


class FakeDialogue:
    """Stands in for the engine where a test needs a reply it cannot produce."""

    default_lang = "en"

    def __init__(self, content):
        self.content = content

    async def flush(self) -> None:
        pass


async def test_long_reply_is_split_under_the_limit(stub, content):
    class Long(FakeDialogue):
        async def handle(self, key, event, send):
            text = ("😀" * 1500 + "\n") * 3 + "end"  # 3 lines of 3000 UTF-16 units
            return await send(Reply(messages=[OutMessage(text, [[Button("1.0", "ok")]])]))

    running = RunningBot(stub, content, MemoryStore(secret=SECRET), dialogue=Long(content))
    await running.start()
    try:
        stub.send_text(ALICE, "hi")
        await running.settle()
    finally:
        await running.stop()
    sends = stub.calls_to("sendMessage")
    assert len(sends) == 3 and all(c.ok for c in sends)
    assert "reply_markup" in sends[-1].params and "reply_markup" not in sends[0].params
    assert "".join(stub.texts(ALICE.id)).replace("\n", "") == ("😀" * 4500 + "end")


# ---- buttons that are not what they seem ------------------------------------------------


async def test_stale_button_shows_where_the_person_is_now(bot, stub, content):
    stub.send_command(ALICE, "start")
    await bot.settle()
    menu = stub.last(ALICE.id)
    await press(bot, ALICE, "[en] demo")
    await press(bot, ALICE, "[en] adult")
    before = await bot.record(ALICE)
    stub.press(ALICE, "1.1", message_id=menu.message_id)  # "demo late" on the old menu
    await bot.settle()
    assert t(content, "en", "engine.stale_button") in stub.texts(ALICE.id)[-1]
    assert "[en] pick things" in stub.texts(ALICE.id)[-1]
    assert await bot.position(ALICE) == ("demo", "pick")
    assert (await bot.record(ALICE))["slots"] == before["slots"]
    assert stub.unanswered_callbacks() == []


async def test_forged_callback_data_changes_nothing(bot, stub, content):
    stub.send_command(ALICE, "start")
    await bot.settle()
    await press(bot, ALICE, "[en] demo")
    for forged in ("zzz", "2.99", "999.0", "<b>", "💥" * 16):
        stub.press(ALICE, forged)
    await bot.settle()
    assert await bot.position(ALICE) == ("demo", "age")
    assert "[en] how old?" in stub.texts(ALICE.id)[-1]
    assert stub.unanswered_callbacks() == []
    assert all(c.status == 200 for c in stub.calls if c.method != "getUpdates")


async def test_quick_double_tap_advances_once_and_answers_both(bot, stub, content):
    stub.send_command(ALICE, "start")
    await bot.settle()
    await press(bot, ALICE, "[en] demo")
    message = stub.last(ALICE.id)
    data = dict(message.buttons)
    stub.press(ALICE, data["[en] adult"], message_id=message.message_id)
    stub.press(ALICE, data["[en] under 18"], message_id=message.message_id)
    await bot.settle()
    assert stub.unanswered_callbacks() == []
    record = await bot.record(ALICE)
    assert record["slots"]["age"] == "adult"  # the first tap won; the second was stale
    assert record["state"] == "pick"
    assert stub.message(ALICE.id, message.message_id).text.endswith("▶ [en] adult")


async def test_button_on_an_inaccessible_message_still_works(bot, stub, content):
    stub.send_command(ALICE, "start")
    await bot.settle()
    data = dict(stub.buttons(ALICE.id))["[en] demo"]
    stub.press(ALICE, data, inaccessible=True)
    await bot.settle()
    assert await bot.position(ALICE) == ("demo", "age")
    assert stub.calls_to("editMessageText") == []


async def test_not_modified_edit_counts_as_success(bot, stub, content):
    stub.send_command(ALICE, "start")
    await bot.settle()
    stub.fail("editMessageText", "not_modified")
    await press(bot, ALICE, "[en] demo")
    assert stub.calls_to("editMessageText")[0].status == 400
    assert "[en] how old?" in stub.texts(ALICE.id)[-1]


# ---- media, groups, blocking -------------------------------------------------------------


@pytest.mark.parametrize("kind", ["photo", "video", "voice"])
async def test_media_is_deleted_unread_and_explained(bot, stub, content, kind):
    stub.send_command(ALICE, "start")
    message_id = stub.send_media(ALICE, kind, caption="secret caption")
    await bot.settle()
    assert [c.params["message_id"] for c in stub.calls_to("deleteMessage")] == [message_id]
    assert stub.message(ALICE.id, message_id).deleted
    assert stub.calls_to("getFile") == [] and stub.calls_to("downloadFile") == []
    first_line = t(content, "en", "engine.media_deleted").splitlines()[0]
    assert first_line in stub.texts(ALICE.id)[-1]


async def test_sticker_is_not_deleted_and_gets_a_prompt(bot, stub, content):
    stub.send_command(ALICE, "start")
    message_id = stub.send_media(ALICE, "sticker")
    await bot.settle()
    assert not stub.message(ALICE.id, message_id).deleted
    assert t(content, "en", "engine.non_text") in stub.texts(ALICE.id)[-1]


async def test_group_chat_gets_a_notice_and_the_bot_leaves(bot, stub, content):
    group = -1001234567890
    stub.send_group_text(BOB, "/start")
    stub.send_group_text(ALICE, "/help")  # queued before the bot left: no second notice
    stub.send_group_text(ALICE, "I am scared", chat_id=-1009999999999)
    await bot.settle()
    sends = stub.calls_to("sendMessage")
    assert [c.params["text"] for c in sends if c.params["chat_id"] == group] == [
        t(content, "ja", "engine.private_only")
    ]
    assert {c.params["chat_id"] for c in stub.calls_to("leaveChat")} == {group, -1009999999999}
    assert stub.calls_to("getFile") == []
    assert await bot.record(BOB) is None and await bot.record(ALICE) is None


async def test_bot_added_to_a_group_leaves_at_once(bot, stub, content):
    stub.add_to_group(ALICE, chat_id=-100777)
    await bot.settle()
    assert [c.params["chat_id"] for c in stub.calls_to("leaveChat")] == [-100777]


async def test_blocked_bot_erases_the_person_and_stops_sending(bot, stub, content):
    stub.send_command(ALICE, "start")
    await bot.settle()
    assert await bot.record(ALICE) is not None
    stub.block(ALICE.id)
    before = len(stub.calls_to("sendMessage"))
    stub.send_media(ALICE, "photo")  # delete, then a reply: the first 403 stops both
    await bot.settle()
    attempts = stub.calls_to("sendMessage")[before:] + stub.calls_to("deleteMessage")
    assert [c.status for c in attempts] == [403]
    assert await bot.record(ALICE) is None


async def test_block_reported_by_telegram_erases_the_person(bot, stub, content):
    stub.send_command(BOB, "start")
    await bot.settle()
    stub.user_blocks_bot(BOB)
    await bot.settle()
    assert await bot.record(BOB) is None


# ---- the network misbehaving --------------------------------------------------------------


async def test_flood_wait_is_survived_and_the_message_delivered(bot, stub, content):
    stub.fail("sendMessage", "retry_after", retry_after=1)
    stub.send_command(ALICE, "start")
    await bot.settle()
    assert [c.status for c in stub.calls_to("sendMessage")] == [429, 200]
    assert t(content, "en", "engine.welcome") in stub.texts(ALICE.id)[0]


async def test_bad_gateway_on_send_is_retried(bot, stub, content):
    stub.fail("sendMessage", "bad_gateway")
    stub.send_command(ALICE, "start")
    await bot.settle()
    assert [c.status for c in stub.calls_to("sendMessage")] == [502, 200]
    assert len(stub.texts(ALICE.id)) == 1


async def test_duplicate_update_is_handled_once(bot, stub, content):
    stub.send_command(ALICE, "start")
    await bot.settle()
    message_id = stub.send_text(ALICE, "1")
    update = stub._queue[-1]
    stub.enqueue(dict(update))  # Telegram redelivers the same update_id
    await bot.settle()
    assert stub.pending_updates == 0 and message_id
    assert len(stub.calls_to("sendMessage")) == 2
    assert await bot.position(ALICE) == ("demo", "age")


async def test_restart_mid_flow_continues_where_the_person_was(stub, content, tmp_path):
    path = tmp_path / "kakekomi.sqlite3"
    first = RunningBot(stub, content, await SqliteStore.open(path, secret=SECRET))
    await first.start()
    stub.send_command(ALICE, "start")
    await first.settle()
    await press(first, ALICE, "[en] demo")
    await press(first, ALICE, "[en] adult")
    await first.stop()  # closes the store

    second = RunningBot(stub, content, await SqliteStore.open(path, secret=SECRET))
    await second.start()
    try:
        await press(second, ALICE, "[en] option b")  # a button shown by the first process
        assert await second.position(ALICE) == ("demo", "pick")
        assert "✅ [en] option b" in [label for label, _ in stub.buttons(ALICE.id)]
        assert t(content, "en", "engine.stale_button") not in stub.texts(ALICE.id)[-1]
    finally:
        await second.stop()


# ---- several people -----------------------------------------------------------------------


async def test_two_people_at_once_each_get_their_own_replies_in_order(bot, stub, content):
    for user in (ALICE, BOB):
        stub.send_command(user, "start")
    for text_a, text_b in (("1", "2"), ("2", "1"), ("3", "3")):
        stub.send_text(ALICE, text_a)  # demo, adult, done  /  demo late, option a, done
        stub.send_text(BOB, text_b)
    await bot.settle()
    alice, bob = stub.texts(ALICE.id), stub.texts(BOB.id)
    assert "[en] how old?" in alice[1] and "[en] pick things" in alice[2]
    assert "[en] pick at least one" in alice[3]  # nothing ticked: asked again
    assert "[ja]" in bob[0] and "[ja]" in bob[1]  # Bob's app speaks Japanese
    assert (await bot.record(BOB))["slots"]["things"] == ["a"]
    assert await bot.position(ALICE) == ("demo", "pick")
    assert await bot.position(BOB) == ("demo", "name")


async def test_one_persons_updates_are_handled_in_the_order_sent(bot, stub, content):
    stub.send_command(ALICE, "start")
    await bot.settle()
    stub.fail("deleteMessage", "slow", seconds=0.3)  # the photo's handling starts slowly
    stub.send_media(ALICE, "photo")
    stub.send_text(ALICE, "1")
    await bot.settle()
    texts = stub.texts(ALICE.id)
    assert t(content, "en", "engine.media_deleted").splitlines()[0] in texts[1]
    assert "[en] how old?" in texts[2] and len(texts) == 3


async def test_many_people_in_parallel_are_not_serialised(stub, content):
    slow = asyncio.Event()

    class Gate(MemoryStore):
        async def save(self, key, record):
            await asyncio.wait_for(slow.wait(), 120)  # holds every person's first save
            await super().save(key, record)

    running = RunningBot(stub, content, Gate(secret=SECRET))
    await running.start()
    try:
        people = [User(900000000 + n, language_code="en") for n in range(5)]
        for person in people:
            stub.send_command(person, "start")
        # All five are held in their saves at once (an event, not a pause: a busy machine
        # may take its time to get there); the wait is a hang guard.
        await stub.wait_for(lambda: running.app.update_processor.current_concurrent_updates
                            == 5, timeout=120, what="five people handled at the same time")
        slow.set()
        await running.settle()
        assert all(stub.texts(p.id) for p in people)
    finally:
        slow.set()
        await running.stop()


async def test_a_surge_of_presses_is_acknowledged_before_any_is_handled(stub, content):
    """Telegram wants presses answered within seconds: answers go first, handling waits."""
    from bot.channels.telegram._inbound import ANSWERS_AT_ONCE

    running = RunningBot(stub, content, MemoryStore(secret=SECRET), rate_limiter=False)
    await running.start()
    try:
        people = [User(910000000 + n, language_code="en") for n in range(ANSWERS_AT_ONCE + 36)]
        for person in people:
            stub.send_command(person, "start")
        await running.settle()
        before = len(stub.calls)
        stub.fail("answerCallbackQuery", "slow", times=len(people), seconds=0.3)
        for person in people:
            stub.press(person, stub.buttons(person.id)[0][1])
        await stub.wait_for(lambda: all(len(stub.bot_messages(p.id)) >= 2 for p in people),
                            timeout=120, what="every press handled")  # a hang guard
        calls = [c.method for c in stub.calls[before:] if c.method != "getUpdates"]
        first_handling = next(i for i, m in enumerate(calls) if m != "answerCallbackQuery")
        # Handling started only once no more than ANSWERS_AT_ONCE answers were left.
        assert calls[:first_handling].count("answerCallbackQuery") >= len(people) - ANSWERS_AT_ONCE
        assert stub.unanswered_callbacks() == []
    finally:
        await running.stop()


# ---- webhook --------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_webhook_rejects_a_wrong_secret_and_accepts_the_right_one(stub, content, monkeypatch):
    compared = []
    real_compare = telegram_webhook.hmac.compare_digest
    monkeypatch.setattr(
        telegram_webhook.hmac,
        "compare_digest",
        lambda a, b: compared.append(a) or real_compare(a, b),
    )
    port = _free_port()
    running = RunningBot(stub, content, MemoryStore(secret=SECRET))
    await running.start(
        webhook_url=f"http://127.0.0.1:{port}/tg-hook",
        listen="127.0.0.1",
        port=port,
        secret_token="right-secret_123",
    )
    try:
        assert stub.webhook == {
            "url": f"http://127.0.0.1:{port}/tg-hook",
            "secret_token": "right-secret_123",
        }
        stub.send_command(ALICE, "start")
        update = stub._queue.pop()
        url = f"http://127.0.0.1:{port}/tg-hook"
        async with httpx.AsyncClient() as client:
            wrong = await client.post(
                url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "right-secret_124"}
            )
            missing = await client.post(url, json=update)
            right = await client.post(
                url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "right-secret_123"}
            )
        assert (wrong.status_code, missing.status_code, right.status_code) == (403, 403, 200)
        assert compared == [b"right-secret_124", b"right-secret_123"]  # constant-time check
        await stub.wait_for(lambda: stub.texts(ALICE.id), what="a reply via the webhook")
        assert len(stub.calls_to("sendMessage")) == 1
    finally:
        await running.stop()


# ---- the blocking entry point ---------------------------------------------------------------


async def test_serve_telegram_runs_until_stopped_and_closes_the_store(stub, content, tmp_path):
    settings = Settings(
        db_path=tmp_path / "kakekomi.sqlite3",
        key_file=tmp_path / "secret.key",
        token=stub.token,
        api_base_url=stub.url,
        lang="en",
    )
    stop = asyncio.Event()
    serving = asyncio.create_task(telegram_channel.serve_telegram(settings, content, stop))
    stub.send_command(ALICE, "start")
    await stub.wait_for(lambda: stub.texts(ALICE.id), timeout=10, what="a reply")
    stop.set()
    await asyncio.wait_for(serving, 10)
    assert not (tmp_path / "kakekomi.sqlite3-wal").exists()  # closed cleanly
    store = await SqliteStore.open(settings.db_path, secret=load_secret(None, settings.key_file))
    try:
        assert await store.load(store.pseudonym("telegram", str(ALICE.id))) is not None
    finally:
        await store.close()


# ---- privacy of logs ------------------------------------------------------------------------


async def test_logs_carry_no_text_token_or_raw_id_after_a_failure(stub, content, caplog):
    caplog.set_level(logging.DEBUG)

    class Exploding(FakeDialogue):
        async def handle(self, key, event: Event, send):
            raise RuntimeError(f"boom on {event.value!r} from {ALICE.id} via {stub.token}")

    running = RunningBot(stub, content, MemoryStore(secret=SECRET), dialogue=Exploding(content))
    await running.start()
    try:
        stub.send_text(ALICE, "my secret words")
        await running.settle()
        logging.getLogger("kakekomi.test").warning("url was %s", f"{stub.base_url}{stub.token}")
    finally:
        await running.stop()
    failures = [r for r in caplog.records if r.getMessage().startswith("update failed")]
    assert len(failures) == 1 and "RuntimeError" in failures[0].getMessage()
    assert running.key(ALICE)[:8] in failures[0].getMessage()
    logged = caplog.text + "".join(r.getMessage() for r in caplog.records)
    for secret in ("my secret words", str(ALICE.id), stub.token, stub.token.split(":")[1]):
        assert secret not in logged


# ---- the small pieces -----------------------------------------------------------------------


def test_split_keeps_every_chunk_under_4096_utf16_units_and_pairs_intact():
    text = "あ" * 3000 + "\n" + "😀" * 3000 + " tail " + "x" * 5000
    chunks = split_text(text, TEXT_LIMIT)
    assert all(0 < utf16_len(c) <= 4096 for c in chunks)
    assert "".join(chunks).replace("\n", "").replace(" ", "") == text.replace("\n", "").replace(
        " ", ""
    )
    for chunk in chunks:
        chunk.encode("utf-8")  # a lone surrogate would raise here
    assert split_text("short") == ["short"] and split_text(" \n ") == []


def test_split_prefers_paragraphs_then_lines():
    text = "a" * 3000 + "\n\n" + "b" * 3000
    assert split_text(text, TEXT_LIMIT) == ["a" * 3000, "b" * 3000]


def test_callback_data_over_64_bytes_is_refused_before_sending():
    keyboard([[Button("x" * 64, "ok")]])
    with pytest.raises(ValueError):
        keyboard([[Button("あ" * 22, "too long in bytes")]])


def test_api_base_url_takes_a_server_root():
    assert api_urls("http://127.0.0.1:8081/") == (
        "http://127.0.0.1:8081/bot",
        "http://127.0.0.1:8081/file/bot",
    )
    assert api_urls("http://h/bot")[0] == "http://h/bot"
    assert api_urls(None)[0] == "https://api.telegram.org/bot"


def test_redaction_covers_both_token_shapes():
    assert "ABC" not in redact("GET https://api.telegram.org/bot123456:ABC-def_ghi/getMe")
    assert redact("token 1234567890:AAAAAAAAAAAAAAAAAAAAAAAAA ok") == "token [REDACTED] ok"
    assert redact("/file/bot123456%3AABCDEFGHIJKLMNOPQRSTUVWX/x") == "/file/[REDACTED]/x"


# ---- quick exit and erase -------------------------------------------------------------------


async def test_exit_deletes_every_message_sent_and_received_and_keeps_the_place(bot, stub, content):
    stub.send_command(ALICE, "start")
    await bot.settle()
    await press(bot, ALICE, "[en] demo")
    stub.send_text(ALICE, "hello?")
    await bot.settle()
    before = {m.message_id for m in stub.messages[ALICE.id]}
    assert len(before) >= 5
    stub.send_command(ALICE, "exit")
    await bot.settle()
    messages = stub.messages[ALICE.id]
    assert all(m.deleted for m in messages), [m.message_id for m in messages if not m.deleted]
    deleted = {c.params.get("message_id") for c in stub.calls_to("deleteMessage")}
    for call in stub.calls_to("deleteMessages"):
        deleted |= set(call.params["message_ids"])
    assert before <= deleted  # exactly what was shown, received or sent, is gone
    assert await bot.position(ALICE) == ("demo", "age")


async def test_forget_erases_the_record_and_clears_the_chat(bot, stub, content):
    stub.send_command(BOB, "start")
    await bot.settle()
    await press(bot, BOB, "[ja] demo")  # Bob's Telegram is in Japanese
    stub.send_command(BOB, "forget")
    await bot.settle()
    await press(bot, BOB, t(content, "ja", "engine.forget.yes"))
    left = [m for m in stub.messages[BOB.id] if not m.deleted]
    assert [m.text for m in left] == [t(content, "ja", "engine.forget.done")]
    assert await bot.record(BOB) is None
