"""Property-based: whatever a person sends, in whatever state, the bot answers validly.

Conversations are first driven into every state of every flow: random walks collect
real records (slots, stacks, shown buttons) for the states they reach, and a crafted
record stands in for any waiting state they miss. Hypothesis then restores one of those
records and sends a few random events: texts (emoji, control characters, HTML, 10,000
characters, lone surrogates, digits int() cannot read, 10,000-digit runs), button data
(real, stale, forged, over-long), commands (known and not) and media. Every reply must be
one Telegram accepts: non-empty texts of at most 4096 UTF-16 units, button data of 1-64
bytes, non-empty labels, and, rendered by the Telegram channel's ReplySender, HTML that
parses (nothing a person typed can open a tag).
"""

from __future__ import annotations

import asyncio
import random
from datetime import datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import COMMANDS, Dialogue, Event
from bot.channels.telegram._outbound import ReplySender
from bot.engine._conversation import Conversation
from bot.engine._events import MEDIA_KINDS
from storage import MemoryStore
from tests.helpers import content
from tests.reliability_helpers import CheckingBot, Person, check_reply

NOW = datetime.fromisoformat("2026-11-29T02:00+09:00")
MAX_EXAMPLES = 1500
WALKS_PER_ENTRY = 10
WALK_STEPS = 60
WALK_ANSWERS = ["2026-11-24 23:10", "昨日 23時", "now", "Instagramの相手", "x" * 50]

_LOOP = asyncio.new_event_loop()
EXIT_LABELS = {content().locales.text(lang, "engine.nav.exit") for lang in ("ja", "en")}


def run(coro: Any) -> Any:
    return _LOOP.run_until_complete(coro)


def teardown_module() -> None:
    _LOOP.close()


# -- records for every state --------------------------------------------------------------


async def _walk_snapshots() -> dict[tuple[str, str], list[dict]]:
    c = content()
    store = MemoryStore(secret=b"fuzz-walks")
    dialogue = Dialogue(c, store, clock=lambda: NOW)
    found: dict[tuple[str, str], list[dict]] = {}
    rng = random.Random("kakekomi-fuzz")
    entries = len(c.flows["menu"].states[c.flows["menu"].start].buttons)
    nav = {c.locales.text(lang, f"engine.nav.{n}") for lang in c.locales.values
           for n in ("back", "menu", "exit")}
    for lang in c.locales.values:
        for entry in range(entries):
            for walk in range(WALKS_PER_ENTRY):
                person = Person(dialogue, f"walker-{lang}-{entry}-{walk}", lang)
                await person.command("start")
                await person.data(f"1.{entry}")
                for _ in range(WALK_STEPS):
                    record = await person.record()
                    if record is None:
                        break
                    variants = found.setdefault((record["flow"], record["state"]), [])
                    if len(variants) < 3:
                        variants.append(record)
                    if record["flow"] == "menu":
                        break
                    state = c.state(record["flow"], record["state"])
                    buttons = [d for label, d in person.buttons if label not in nav]
                    if state.ask and (rng.random() < 0.5 or not buttons):
                        await person.type(rng.choice(WALK_ANSWERS))
                    elif buttons:
                        await person.data(rng.choice(buttons))
                    elif person.buttons:
                        await person.data(person.buttons[0][1])
                    else:
                        break
    return found


_SNAPSHOTS: list[tuple[str, dict]] | None = None


def snapshots() -> list[tuple[str, dict]]:
    """(label, record) for every state of every flow: walked where possible, else crafted."""
    global _SNAPSHOTS
    if _SNAPSHOTS is None:
        c = content()
        walked = run(_walk_snapshots())
        out: list[tuple[str, dict]] = []
        for (flow, state), records in sorted(walked.items()):
            out += [(f"walked {flow}/{state}", r) for r in records]
        for flow in c.flows.values():
            for name in flow.states:
                for lang in c.locales.values:
                    state = flow.states[name]
                    shown = [f"b{i}" for i in range(len(state.buttons))] + ["@back", "@menu"]
                    conv = Conversation(flow.id, name, lang, step=3, shown=shown)
                    if (flow.id, name) not in walked or lang == "en":
                        out.append((f"crafted {flow.id}/{name} {lang}", conv.to_record()))
        heavy = heavy_slots()
        for flow in c.flows.values():
            for name, state in flow.states.items():
                if state.waits:
                    shown = [f"b{i}" for i in range(len(state.buttons))] + ["@back", "@menu"]
                    conv = Conversation(flow.id, name, "ja", slots=dict(heavy), step=5,
                                        shown=shown)
                    out.append((f"heavy {flow.id}/{name}", conv.to_record()))
        _SNAPSHOTS = out
    return _SNAPSHOTS


def heavy_slots() -> dict[str, Any]:
    """Every typed answer at its longest, full of markup and emoji (what a memo can hold)."""
    hostile = "<b>&amp;</b> 🙂 相手は「<script>」と言った & more\n"
    slots: dict[str, Any] = {}
    for flow in content().flows.values():
        for state in flow.states.values():
            if state.ask is not None:
                if state.ask.type == "datetime":
                    slots[state.ask.slot] = "2026-11-24T23:10+09:00"
                else:
                    limit = min(state.ask.max, 2000)
                    slots[state.ask.slot] = (hostile * (limit // len(hostile) + 1))[:limit]
    return slots


def test_every_waiting_state_of_every_flow_has_a_real_record():
    """Most fuzzing starts from walked records; crafted ones only fill gaps. Keep it so."""
    c = content()
    walked = {label.split(" ", 1)[1] for label, _ in snapshots() if label.startswith("walked")}
    waiting = {f"{f.id}/{s.name}" for f in c.flows.values() for s in f.states.values() if s.waits}
    assert len(walked & waiting) >= 0.6 * len(waiting), sorted(waiting - walked)


# -- events -------------------------------------------------------------------------------

SPECIAL_TEXTS = [
    "<b>bold</b>", "<script>alert(1)</script>", "</a>", "<a href='x'>", "a < b > c & d",
    "&amp; &lt; &#60; &#x3c;", "<<<>>>", "<tg-spoiler>", "\x00\x01\x02\x1b[31m", "\u202e\u200f",
    "👨‍👩‍👧‍👦🏳️‍🌈🙂", "\ufeff", "１２", "1", "0", "-1", "99", "ｍｅｎｕ",
    "/start", "/", "  ", "\n\n\n", "死にたい", "もう消えたい", "I want to die",
    "お金を要求されています",
    "someone is threatening to post my photo", "昨日 23時", "now", "2026-02-30 25:61",
]
texts = st.one_of(
    st.text(max_size=40),
    st.text(st.characters(categories=("Cc", "Cf", "So", "Sk", "Lo", "Zs", "Mn", "Po")),
            max_size=120),
    st.sampled_from(SPECIAL_TEXTS),
    st.builds(lambda unit, size: (unit * size)[:10_000],
              st.sampled_from(["x", "あ", "🙂", "<", "&", "a\n", "ab ", "1", "፩", "1,"]),
              st.integers(3_000, 10_000)),
    # what int() and UTF-8 refuse: lone surrogates (JSON "\ud800"), digits of other scripts
    st.text(st.characters(codec=None, categories=("Cs", "Nd", "No", "Nl")), max_size=8),
)
forged_data = st.one_of(
    st.text(max_size=80),
    st.builds(lambda a, b: f"{a}.{b}", st.integers(-3, 10**6), st.integers(-3, 40)),
    st.builds(lambda a, b: f"{a}.{b}", st.text(max_size=5), st.text(max_size=5)),
)
commands = st.one_of(
    st.sampled_from([*COMMANDS, "resume", "unknown", "settings", "cancel"]),
    st.from_regex(r"[a-z0-9_]{1,32}", fullmatch=True),
)
events = st.one_of(
    st.tuples(st.just("text"), texts),
    st.tuples(st.just("shown"), st.integers(0, 15)),  # press what is on screen now
    st.tuples(st.just("data"), forged_data),
    st.tuples(st.just("command"), st.tuples(commands, st.one_of(st.none(), texts))),
    st.tuples(st.just("media"), st.sampled_from([*MEDIA_KINDS, "sticker", "other"])),
)


def to_event(kind: str, value: Any, record: dict | None, lang: str, message_id: int) -> Event:
    if kind == "text":
        return Event.text(value, message_id=message_id, lang_hint=lang)
    if kind == "shown":
        step = record["step"] if record else 0
        return Event.button(f"{step}.{value}", lang_hint=lang)
    if kind == "data":
        return Event.button(value, lang_hint=lang)
    if kind == "command":
        name, arg = value
        return Event.command(name, arg, message_id=message_id, lang_hint=lang)
    return Event.media(value, message_id=message_id, lang_hint=lang)


async def render(reply: Any) -> None:
    """Send the reply through the Telegram channel's renderer against a checking Bot."""
    bot = CheckingBot()
    pressed = None
    if reply.pressed:
        from telegram import Chat, Message

        pressed = Message(7, NOW, Chat(bot.chat_id, "private"), text="<earlier> & text")
    sender = ReplySender(bot, bot.chat_id, pressed_message=pressed)  # type: ignore[arg-type]
    ids = await sender(reply)
    assert len(ids) == sum(1 for m in bot.sent), "a message was refused by the checks"
    texts_out = [m for m in reply.messages if m.text]
    if texts_out:
        assert any(s.visible for s in bot.sent)
    keyboards = [s for s in bot.sent if s.markup]
    if reply.buttons:
        assert len(keyboards) == 1, "the buttons must arrive exactly once"
        markup = keyboards[0].markup or {}
        shown = [b["callback_data"] for row in markup["inline_keyboard"] for b in row]
        assert shown == [b.data for b in reply.buttons]


@settings(max_examples=MAX_EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data(), lang=st.sampled_from(["ja", "en"]),
       sequence=st.lists(events, min_size=1, max_size=4))
def test_any_event_in_any_state_gets_a_valid_reply(data, lang, sequence):
    label, record = data.draw(st.sampled_from(snapshots()), label="start")
    run(_exercise(record, lang, sequence))


def test_every_state_answers_the_same_few_events_validly():
    """The deterministic floor under the property: each start record, each kind of event."""
    fixed = [("command", ("help", None)), ("text", "x"), ("shown", 0), ("media", "photo"),
             ("data", "0.0"), ("command", ("lang", None)), ("text", "<b>" * 3000)]
    for label, record in snapshots():
        for event in fixed:
            try:
                run(_exercise(record, "ja", [event]))
            except AssertionError as exc:
                raise AssertionError(f"{label}, {event[0]} {event[1]!r:.40}: {exc}") from exc


async def _exercise(record: dict, lang: str, sequence: list) -> None:
    c = content()
    store = MemoryStore(secret=b"fuzz")
    dialogue = Dialogue(c, store, clock=lambda: NOW)
    key = store.pseudonym("fuzz", "1")
    await store.save(key, record)
    replies: list[Any] = []

    async def send(reply: Any) -> list[int]:
        replies.append(reply)
        return list(range(900, 900 + len(reply.messages)))

    for number, (kind, value) in enumerate(sequence):
        current = await store.load(key)
        event = to_event(kind, value, current, lang, 100 + number)
        reply = await dialogue.handle(key, event, send)
        assert replies and replies[-1] is reply, "handle must send what it returns"
        check_reply(reply)
        # Silence only for the quick exit, which deletes the screen instead of answering.
        quick_exit = reply.pressed in EXIT_LABELS or (kind == "command" and value[0] == "exit")
        assert reply.messages or quick_exit, f"no answer to {kind} {value!r:.60}"
        await render(reply)
        after = await store.load(key)
        if after is not None:
            assert after["flow"] in c.flows and after["state"] in c.flows[after["flow"]].states
            if c.state(record["flow"], record["state"]).waits:  # it rests where it waits
                assert c.state(after["flow"], after["state"]).waits, (after["flow"], after["state"])


def test_escaping_survives_what_a_person_types():
    """A control for the property above: the renderer really sees hostile text."""
    async def go() -> None:
        c = content()
        store = MemoryStore(secret=b"fuzz")
        dialogue = Dialogue(c, store, clock=lambda: NOW)
        person = Person(dialogue, "html", "en")
        await person.command("memo")
        await person.press("memo.btn.start")
        await person.type("<b>not bold</b> & <script>")
        await person.command("memo")
        await person.press("memo.btn.overview")  # the memo shows the answer as typed
        for reply in person.replies:
            await render(reply)
        bot = CheckingBot()
        sender = ReplySender(bot, bot.chat_id)  # type: ignore[arg-type,misc]
        await sender(person.replies[-1])
        shown = "\n".join(m.visible or "" for m in bot.sent)
        raw = "\n".join(m.raw or "" for m in bot.sent)
        assert "<b>not bold</b> & <script>" in shown  # seen as typed
        assert "<b>" not in raw and "&lt;b&gt;not bold&lt;/b&gt; &amp; &lt;script&gt;" in raw

    run(go())


def test_a_button_shown_before_the_flows_were_edited_is_treated_as_stale():
    state = content().state("after_sending", "danger")
    gone = len(state.buttons)  # the person saw one more button than the state has now
    shown = [f"b{i}" for i in range(gone + 1)] + ["@back", "@menu"]
    record = Conversation("after_sending", "danger", "en", step=7, shown=shown).to_record()
    run(_exercise(record, "en", [("shown", gone)]))
