"""The dialogue engine on a small fixture flow set: every engine feature, both languages."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import Event, load_content
from bot.engine._conversation import Conversation
from storage import MemoryStore
from tests.helpers import Chat


@pytest.fixture
def content(engine_root: Path):
    return load_content(engine_root)


async def start(content, lang="en", now="2026-11-25T21:00+09:00", store=None):
    return await Chat.start(lang=lang, now=now, content_=content, store=store)


async def test_start_shows_menu_with_welcome_for_a_new_person(content):
    chat = await start(content)
    assert "engine.welcome" in chat.keys
    assert "t.menu_intro" in chat.keys
    assert chat.labels[:2] == ["[en] demo", "[en] demo late"]
    assert chat.labels[-1] == chat.t("engine.nav.exit")


async def test_japanese_is_the_default_and_english_on_request(content):
    ja = await start(content, lang="ja")
    assert ja.labels[0] == "[ja] demo"
    await ja.command("lang")
    assert ja.labels[0] == "[en] demo"
    assert "engine.lang_changed" in ja.keys


async def test_button_sets_slot_and_condition_changes_wording(content):
    chat = await start(content)
    await chat.walk("t.go_demo", "t.under18")
    assert (await chat.slots())["age"] == "under18"
    assert "t.minor_note" in chat.keys
    adult = await start(content)
    await adult.walk("t.go_demo", "t.adult")
    assert "t.minor_note" not in adult.keys


async def test_toggle_ticks_and_unticks_with_a_mark(content):
    chat = await start(content)
    await chat.walk("t.go_demo", "t.adult", "t.opt_a")
    assert "✅ [en] option a" in chat.labels
    await chat.press("t.opt_a")
    assert "[en] option a" in chat.labels
    assert (await chat.slots())["things"] == []


async def test_branch_without_any_tick_loops_back_with_a_note(content):
    chat = await start(content)
    await chat.walk("t.go_demo", "t.adult", "t.done")
    assert chat.keys[:2] == ["t.pick_again", "t.pick_q"]
    assert await chat.position() == ("demo", "pick")


async def test_branch_combines_conditions(content):
    chat = await start(content)
    await chat.walk("t.go_demo", "t.adult", "t.opt_b", "t.done")
    # adult + b → straight to the sub-flow
    assert await chat.position() == ("sub", "ask")
    minor = await start(content)
    await minor.walk("t.go_demo", "t.under18", "t.opt_b", "t.done")
    assert await minor.position() == ("demo", "pick")


async def test_free_text_is_validated_and_stored(content):
    chat = await start(content)
    await chat.walk("t.go_demo", "t.adult", "t.opt_a", "t.done")
    assert "t.name_q" in chat.keys
    await chat.type("x")
    assert "engine.too_short" in chat.keys
    await chat.type("y" * 11)
    assert "engine.too_long" in chat.keys and "11" in chat.text
    await chat.type("<Kei & 😱>")
    assert (await chat.slots())["nickname"] == "<Kei & 😱>"
    assert "t.when_q" in chat.keys


async def test_datetime_answer_is_understood_or_reprompted(content):
    chat = await start(content, now="2026-11-25T01:30+09:00")
    await chat.walk("t.go_demo", "t.adult", "t.opt_a", "t.done", "t.skip")
    await chat.type("banana")
    assert "engine.invalid_datetime" in chat.keys
    await chat.type("昨日 23:10")
    assert (await chat.slots())["when"] == "2026-11-24T23:10+09:00"


async def test_sub_flow_returns_to_the_caller_and_fills_placeholders(content):
    chat = await start(content, now="2026-11-25T23:30+09:00")
    await chat.walk("t.go_demo", "t.adult", "t.opt_a", "t.done")
    await chat.type("Kei")
    await chat.type("now")
    assert await chat.position() == ("sub", "ask")
    await chat.walk("t.tick", "t.done")
    assert "t.sub_done" in chat.keys
    assert await chat.position() == ("demo", "summary")
    assert "[en] summary for Kei" in chat.text
    assert "t.late_note" in chat.keys  # 23:30 is late at night
    assert "✅ [en] item one" in chat.text  # the checklist block
    assert chat.labels == [chat.t("engine.nav.menu"), chat.t("engine.nav.exit")]


async def test_entering_a_flow_at_a_named_state(content):
    chat = await start(content)
    await chat.press("t.go_demo_late")
    assert chat.keys[:2] == ["t.late", "t.pick_q"]


async def test_stale_button_shows_the_current_step_and_moves_nothing(content):
    chat = await start(content)
    old = chat.button_for("t.go_demo").data
    await chat.walk("t.go_demo", "t.adult")
    before = await chat.record()
    await chat.data(old)
    assert "engine.stale_button" in chat.keys and "t.pick_q" in chat.keys
    after = await chat.record()
    kept = ("flow", "state", "slots")
    assert [after[k] for k in kept] == [before[k] for k in kept]


@pytest.mark.parametrize("forged", ["zzz", "", "9999.0", "1.99", "-1.-1", "1." * 40, "１.０"])
async def test_forged_button_data_never_moves_the_conversation(content, forged):
    chat = await start(content)
    await chat.data(forged)
    assert "engine.stale_button" in chat.keys
    assert await chat.position() == ("menu", "main")


async def test_unknown_text_gets_a_reprompt_and_numbers_pick_buttons(content):
    chat = await start(content)
    await chat.type("what is this")
    assert "engine.unknown_text" in chat.keys and "t.menu_intro" in chat.keys
    await chat.type("１")  # full-width digit picks the first button
    assert "t.age_q" in chat.keys
    await chat.type("[EN] Adult")  # the label's words pick it too
    assert await chat.position() == ("demo", "pick")


async def test_back_returns_to_the_previous_question(content):
    chat = await start(content)
    await chat.walk("t.go_demo", "t.adult")
    await chat.command("back")
    assert await chat.position() == ("demo", "age")
    await chat.press("engine.nav.back")
    assert await chat.position() == ("menu", "main")
    await chat.command("back")
    assert "engine.back.none" in chat.keys


async def test_restart_goes_to_the_start_of_the_top_flow_keeping_answers(content):
    chat = await start(content)
    await chat.walk("t.go_demo", "t.adult", "t.opt_b", "t.done")
    assert (await chat.position())[0] == "sub"
    await chat.command("restart")
    assert await chat.position() == ("demo", "age")
    assert (await chat.slots())["things"] == ["b"]


async def test_media_is_refused_and_the_step_shown_again(content):
    chat = await start(content)
    await chat.media("photo")
    assert chat.keys[0] == "engine.media_deleted"
    await chat.media("sticker")
    assert chat.keys[0] == "engine.non_text"
    assert await chat.position() == ("menu", "main")


async def test_unknown_command_is_explained(content):
    chat = await start(content)
    await chat.command("frobnicate")
    assert "engine.unknown_command" in chat.keys


async def test_record_round_trips_and_continues_identically(content):
    store_a, store_b = MemoryStore(secret=b"a"), MemoryStore(secret=b"a")
    a = await start(content, store=store_a)
    await a.walk("t.go_demo", "t.adult", "t.opt_a")
    record = await a.record()
    # A copy restored from the plain record continues exactly like the original.
    assert Conversation.from_record(record).to_record() == record
    b = await start(content, store=store_b)
    await store_b.save(b.key, record)
    b.last = a.last
    await a.press("t.done")
    await b.press("t.done")
    assert a.keys == b.keys and a.labels == b.labels
    ra, rb = await a.record(), await b.record()
    for record in (ra, rb):  # which messages and which process differ; nothing else
        record.pop("messages"), record.pop("boot")
    assert ra == rb


async def test_a_conversation_saved_in_a_removed_state_resumes_at_the_flow_start(content):
    store = MemoryStore(secret=b"a")
    chat = await start(content, store=store)
    await chat.walk("t.go_demo", "t.adult")
    record = await chat.record()
    record["state"] = "a_state_deleted_by_an_edit"
    await store.save(chat.key, record)
    await chat.type("hello")
    assert "engine.flow_changed" in chat.keys
    assert await chat.position() == ("demo", "age")
    assert (await chat.slots())["age"] == "adult"


async def test_exit_deletes_every_message_of_the_conversation(content):
    chat = await start(content)
    await chat.walk("t.go_demo", "t.adult")
    await chat.command("exit")
    shown = {i for i in range(101, chat._msg + 1)}
    assert set(chat.last.delete) <= shown and len(chat.last.delete) >= 5
    assert chat.last.messages == []
    assert await chat.position() == ("demo", "pick")  # the state is kept


async def test_forget_asks_first_then_erases_everything(content):
    store = MemoryStore(secret=b"a")
    chat = await start(content, store=store)
    await chat.walk("t.go_demo", "t.adult")
    await chat.command("forget")
    assert "engine.forget.confirm" in chat.keys
    await chat.press("engine.forget.no")
    assert await chat.position() == ("demo", "pick")
    await chat.command("forget")
    await chat.press("engine.forget.yes")
    assert chat.last.erased and chat.last.delete
    assert await store.load(chat.key) is None
    await chat.type("hi")
    assert "engine.welcome" in chat.keys


async def test_storage_failure_apologises_and_keeps_the_last_good_state(content):
    from storage import StorageUnavailable

    class FailingStore(MemoryStore):
        fail = False

        async def save(self, key, record):
            if self.fail:
                raise StorageUnavailable("disk full")
            await super().save(key, record)

    store = FailingStore(secret=b"a")
    chat = await start(content, store=store)
    await chat.press("t.go_demo")
    store.fail = True
    await chat.press("t.adult")
    assert chat.keys == ["engine.storage_error"]
    store.fail = False
    assert await chat.position() == ("demo", "age")


async def test_reply_is_sent_only_after_the_state_is_committed(content):
    store = MemoryStore(secret=b"a")
    chat = await start(content, store=store)
    seen = []

    async def send(reply):
        seen.append((await store.load(chat.key))["state"])
        return [1]

    button = chat.button_for("t.go_demo")
    await chat.dialogue.handle(chat.key, Event.button(button.data), send)
    assert seen == ["age"]


async def test_concurrent_events_for_one_person_do_not_interleave(content):
    import asyncio

    chat = await start(content)
    data = chat.button_for("t.go_demo").data
    replies = await asyncio.gather(*(chat.data(data) for _ in range(5)))
    moved = [r for r in replies if "t.age_q" in r.keys and "engine.stale_button" not in r.keys]
    assert len(moved) == 1
    stale = [r for r in replies if "engine.stale_button" in r.keys]
    assert len(stale) == 4
    # The four re-shows repeat the moved-to screen with the same step, so any of the
    # five keyboards the person now has works (once).
    assert {b.data for r in replies for b in r.buttons} == {b.data for b in moved[0].buttons}
    record = await chat.record()
    assert record["step"] == 2


async def test_a_tap_on_an_older_copy_of_the_same_screen_still_works(content):
    """A double tap, or a sticker sent in between, must not make the screen stale."""
    chat = await start(content)
    first = chat.button_for("t.go_demo")
    await chat.data(first.data)
    age_screen = chat.last.buttons
    await chat.data(first.data)  # the double tap: stale, shows the same screen again
    assert "engine.stale_button" in chat.keys
    await chat.event(Event.media("sticker"))
    adult = next(b for b in age_screen if b.label == chat.t("t.adult"))
    await chat.data(adult.data)  # pressed on the first copy of the screen
    assert "engine.stale_button" not in chat.keys
    await chat.data(adult.data)  # that screen is gone now: stale, and nothing changes twice
    assert "engine.stale_button" in chat.keys


async def test_typing_a_buttons_words_at_a_question_presses_it_instead_of_answering(content):
    chat = await start(content)
    await chat.walk("t.go_demo", "t.adult", "t.opt_a", "t.done")
    await chat.type("[EN] SKIP")
    assert "nickname" not in await chat.slots()
    assert await chat.position() == ("demo", "when")


async def test_add_ticks_a_list_value_once_and_never_unticks(content):
    chat = await start(content)
    await chat.walk("t.go_demo", "t.adult", "t.done", "t.done")
    assert (await chat.slots())["warned"] == ["empty"]


async def test_crisis_words_inside_an_answer_get_crisis_lines_first_and_the_answer_is_kept(content):
    chat = await start(content, lang="ja", now="2026-11-29T02:00+09:00")
    await chat.walk("t.go_demo", "t.adult", "t.opt_a", "t.done")
    await chat.type("もう死にたい")
    # The lines first, then the one question, right above its buttons.
    assert chat.keys[:3] == ["crisis.message", "contacts:crisis", "crisis.ask"], chat.keys
    assert "0120-279-338" in chat.text  # a 24-hour line, open at 2 a.m. on a Sunday
    assert (await chat.slots())["nickname"] == "もう死にたい"
    await chat.press("crisis.not_safe")
    assert "crisis.danger" in chat.keys and "110" in chat.text and "119" in chat.text
    await chat.press("crisis.continue")
    assert "t.when_q" in chat.keys  # back where they were, nothing lost


async def test_crisis_words_at_a_button_step_interrupt_and_resume(content):
    chat = await start(content)
    await chat.press("t.go_demo")
    await chat.type("I want to kill myself")
    assert chat.keys[0] == "crisis.message"
    await chat.press("crisis.safe_now")
    assert "t.age_q" in chat.keys
    assert await chat.position() == ("demo", "age")


async def test_free_text_is_understood_and_confirmed_before_routing(content):
    chat = await start(content, lang="ja")
    await chat.type("インスタで知らない人とビデオ通話したら録画されてて10万払えって言われた")
    assert "engine.intent.confirm" in chat.keys
    assert await chat.position() == ("menu", "main")
    await chat.press("engine.intent.yes")
    assert chat.keys[0] == "t.late"  # the fixture routes threats to demo/late_entry
    assert (await chat.slots())["things"] == ["b"]


async def test_a_record_written_before_typed_frames_still_loads_and_resumes(content):
    """Stored conversations hold the stack and history as plain JSON lists, as they always did."""
    import json

    from bot.engine._conversation import Frame, Position

    old = {
        "v": 1, "flow": "sub", "state": "ask", "lang": "en", "slots": {"age": "adult"},
        "step": 4, "stack": [["demo", "check", "summary"]],
        "history": [["menu", "main", []], ["sub", "ask", [["demo", "check", "summary"]]]],
        "shown": ["b0", "b1"], "pending": None, "messages": [], "typed": None, "boot": "",
    }
    conv = Conversation.from_record(json.loads(json.dumps(old)))
    assert conv.stack == [Frame(flow="demo", state="check", then="summary")]
    assert conv.history[1] == Position("sub", "ask", [Frame("demo", "check", "summary")])
    assert json.loads(json.dumps(conv.to_record())) == old  # stored exactly as before
    store = MemoryStore(secret=b"a")
    chat = await start(content, store=store)
    await store.save(chat.key, old)
    await chat.type("2")  # the sub-flow's "done" button, picked by its number
    assert "t.sub_done" in chat.keys
    assert await chat.position() == ("demo", "summary")  # returned through the old frame
    assert (await chat.record())["stack"] == []


async def test_terminal_says_the_chat_is_hidden_on_quick_exit_and_only_then(content):
    import io

    from bot.channels.terminal import TerminalChat

    chat = await start(content)
    done = chat.dialogue.content.locales.text("en", "engine.exit_done")
    out = io.StringIO()
    await TerminalChat(chat.dialogue, chat.key, lang="en", inp=io.StringIO("/exit\n"),
                       out=out).run()
    assert out.getvalue().count(done) == 1
    out = io.StringIO()
    await TerminalChat(chat.dialogue, chat.key, lang="en", inp=io.StringIO("/forget\n1\n"),
                       out=out).run()
    assert chat.dialogue.content.locales.text("en", "engine.forget.done") in out.getvalue()
    assert done not in out.getvalue()  # erasing everything is not a quick exit
