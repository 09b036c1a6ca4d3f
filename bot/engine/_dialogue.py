"""The dialogue engine: events in, replies out, state committed before any reply is sent."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import unicodedata
import weakref
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from storage import ConversationStore, CorruptDatabaseError, StorageError

from .._errors import KakekomiError
from ..answers._datetimes import JST, parse_when_ex
from ..content._loader import MENU_FLOW, Content
from ._conversation import Conversation, Pending
from ._events import MEDIA_KINDS, Button, Event, OutMessage, Reply, small_number
from ._turn import Turn

log = logging.getLogger("kakekomi.engine")
Send = Callable[[Reply], Awaitable[list[int]]]
# Button data of "erase my unreadable record": acts only while the record is unreadable.
ERASE_DAMAGED = "x.erase"
COMMANDS = ("start", "menu", "help", "back", "restart", "lang", "memo", "contacts",
            "forget", "exit", "privacy")


def _norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


class Dialogue:
    """Runs conversations over the flows in `content`, keeping them in `store`.

    One lock per conversation: two events of one person never interleave, while
    different people proceed in parallel.
    """

    def __init__(self, content: Content, store: ConversationStore, *,
                 clock: Callable[[], datetime] | None = None, default_lang: str = "ja",
                 on_visit: Callable[[str, str], None] | None = None):
        self.content = content
        self.store = store
        self.clock = clock or (lambda: datetime.now(JST))
        self.default_lang = default_lang if default_lang in content.locales.values else "ja"
        self.on_visit = on_visit
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self._unsaved_ids: dict[str, list[int]] = {}
        # Tells this process's commits from those of a process that may have died
        # between a commit and its reply.
        self.boot = secrets.token_hex(4)

    def _lock(self, key: str) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        return lock

    async def handle(self, key: str, event: Event, send: Send) -> Reply:
        """Apply one event, commit, then send the reply (all under the conversation's lock).

        Never raises (except cancellation): whatever goes wrong in a turn, the person gets
        a short apology and the crisis lines, the log names only the error's type, and the
        stored conversation stays as it was, so their next message carries on from there.
        """
        async with self._lock(key):
            try:
                return await self._handle(key, event, send)
            except Exception as exc:  # noqa: BLE001 - the safety net under every turn
                return await self._safety_net(key, event, send, exc)

    async def _handle(self, key: str, event: Event, send: Send) -> Reply:
        """One event under the lock: load, apply, commit, send (see :meth:`handle`)."""
        lang = self._lang(event.lang_hint)
        erased_damaged = False
        try:
            record = await self.store.load(key)
        except CorruptDatabaseError as exc:
            # This person's saved record cannot be read. Never stuck: the reply
            # offers to erase it, and pressing that starts them afresh.
            if not (event.kind == "button" and event.value == ERASE_DAMAGED):
                return await self._apologise(key, exc, lang, send, event, damaged=True)
            try:
                await self.store.delete(key)
            except StorageError as exc2:
                return await self._apologise(key, exc2, lang, send, event)
            record, erased_damaged = None, True
        except StorageError as exc:
            return await self._apologise(key, exc, lang, send, event)
        conv, note = self._restore(record, event)
        if event.message_id:
            conv.add_messages([event.message_id])
        # Kept in memory until the commit below, so a failed turn loses none of them.
        conv.add_messages(self._unsaved_ids.get(key, []))
        # An answer typed just before a crash may never have been acknowledged.
        unconfirmed = conv.typed if conv.boot != self.boot else None
        conv.typed, conv.boot = None, self.boot
        turn = Turn(self.content, conv, self.clock().astimezone(JST), self.on_visit)
        turn.unconfirmed = unconfirmed
        if note:
            turn.say(note)
        if erased_damaged:
            turn.say("engine.damaged.erased")
            event = Event.command("start", lang_hint=event.lang_hint)
        try:
            await self._apply(turn, event, fresh=record is None)
        except KakekomiError as exc:  # a content bug: never leave the person stuck
            log.error("flow error %s in %s/%s for %s", type(exc).__name__, conv.flow,
                      conv.state, key[:8])
            turn.clear_output()
            turn.say("engine.error")
            turn.conv.stack.clear()
            turn.switch(MENU_FLOW)
            await turn.run()
        reply = turn.finish()
        try:
            if reply.erased:
                await self.store.delete(key)
            else:
                await self.store.save(key, conv.to_record())
        except StorageError as exc:
            return await self._apologise(key, exc, lang, send, event)
        self._unsaved_ids.pop(key, None)  # they rode along with this commit
        try:
            sent = await send(reply)
        except Exception as exc:  # noqa: BLE001 - committed; the person still hears back
            log.error("sending the reply failed: %s for %s", type(exc).__name__, key[:8])
            await self._last_resort(key, conv.lang, send)
            return reply
        if sent and not reply.erased:
            self._unsaved_ids.setdefault(key, []).extend(sent)
        return reply

    async def blocked(self, key: str) -> None:
        """The person blocked the bot: erase what is stored, and what is only in memory."""
        async with self._lock(key):
            self._unsaved_ids.pop(key, None)
            await self.store.mark_blocked(key)

    async def flush(self) -> None:
        """Persist message ids sent since each conversation's last commit (at shutdown)."""
        for key in list(self._unsaved_ids):
            async with self._lock(key):
                ids = self._unsaved_ids.pop(key, [])
                record = await self.store.load(key)
                if record is None or not ids:
                    continue
                conv = Conversation.from_record(record)
                conv.add_messages(ids)
                await self.store.save(key, conv.to_record())

    # ---- restore ------------------------------------------------------------------------
    def _lang(self, hint: str | None) -> str:
        if hint and hint[:2].lower() in self.content.locales.values:
            return hint[:2].lower()
        return self.default_lang

    def _restore(
        self, record: dict[str, Any] | None, event: Event
    ) -> tuple[Conversation, str | None]:
        menu = self.content.flows[MENU_FLOW]
        if record is None:
            return Conversation(MENU_FLOW, menu.start, self._lang(event.lang_hint)), None
        conv = Conversation.from_record(record)
        if event.lang_chosen and event.lang_hint:
            conv.lang = self._lang(event.lang_hint)  # the person's own choice beats the stored one
        elif conv.lang not in self.content.locales.values:
            conv.lang = self.default_lang
        flows = self.content.flows
        stack_ok = all(f in flows and s in flows[f].states for f, s, _ in conv.stack)
        if conv.flow in flows and conv.state in flows[conv.flow].states and stack_ok:
            count = len(flows[conv.flow].states[conv.state].buttons)
            if any(t.startswith("b") and not ((n := small_number(t[1:], typed=False)) is not None
                                              and n < count)
                   for t in conv.shown):
                conv.shown = []  # the state lost buttons since: what was shown is stale
            return conv, None
        # The flows were edited since this conversation was saved.
        conv.stack = []
        conv.history = []
        conv.pending = None
        conv.shown = []
        if conv.flow in flows:
            conv.state = flows[conv.flow].start
        else:
            conv.flow, conv.state = MENU_FLOW, menu.start
        return conv, "engine.flow_changed"

    async def _apologise(self, key: str, exc: Exception, lang: str, send: Send, event: Event,
                         *, damaged: bool = False) -> Reply:
        """Nothing could be loaded or saved: say so, and still never hide help."""
        log.warning("storage problem %s for %s", type(exc).__name__, key[:8])
        turn = self._apology_turn(lang)
        crisis = self.content.crisis.detect(event.value) \
            if event.kind == "text" and self.content.crisis is not None else None
        if crisis:  # the lines first, without a question to answer
            turn.crisis_lines("crisis.danger", urgent=crisis.urgent)
        turn.say("engine.damaged.text" if damaged else "engine.storage_error")
        reply = turn.finish()
        if damaged:
            reply.messages[-1].buttons = [[Button(ERASE_DAMAGED,
                                                  turn.t("engine.damaged.erase"))]]
        await send(reply)
        return reply

    def _apology_turn(self, lang: str) -> Turn:
        """A turn that stores nothing: for saying sorry when the real turn cannot go on."""
        conv = Conversation(MENU_FLOW, self.content.flows[MENU_FLOW].start, lang)
        return Turn(self.content, conv, self.clock().astimezone(JST))

    async def _safety_net(self, key: str, event: Event, send: Send, exc: Exception) -> Reply:
        """A bug in a turn: nothing of the turn is stored; the person hears sorry and the lines."""
        log.error("unexpected %s in a turn for %s; the conversation is kept as it was",
                  type(exc).__name__, key[:8])
        if event.message_id:  # still erased by a later quick exit
            self._unsaved_ids.setdefault(key, []).append(event.message_id)
        return await self._last_resort(key, await self._stored_lang(key, event), send)

    async def _stored_lang(self, key: str, event: Event) -> str:
        """The language of the stored conversation, else the event's hint (never raises)."""
        try:
            record = await self.store.load(key)
            lang = Conversation.from_record(record).lang if record else None
        except Exception:  # noqa: BLE001 - only choosing the language of an apology
            lang = None
        return lang if lang in self.content.locales.values else self._lang(event.lang_hint)

    async def _last_resort(self, key: str, lang: str, send: Send) -> Reply:
        """Send a short apology and the crisis lines; whatever fails here is logged, not raised."""
        try:
            turn = self._apology_turn(lang)
            turn.crisis_lines("engine.unexpected")
            reply = turn.finish()
        except Exception as exc:  # noqa: BLE001 - the contact list itself failed: plain texts
            log.error("the apology could not be rendered: %s", type(exc).__name__)
            reply = self._plain_apology(lang)
        try:
            sent = await send(reply)
        except Exception as exc:  # noqa: BLE001 - the channel is down: nothing more to do here
            log.error("sending the apology failed: %s for %s", type(exc).__name__, key[:8])
            return reply
        if sent:
            self._unsaved_ids.setdefault(key, []).extend(sent)
        return reply

    def _plain_apology(self, lang: str) -> Reply:
        """The apology and the emergency numbers as bare texts, needing no flow or contact."""
        try:
            texts = [self.content.locales.text(lang, k)
                     for k in ("engine.unexpected", "crisis.danger")]
        except Exception:  # noqa: BLE001 - even the texts failed: an empty reply, still no crash
            return Reply(lang=lang)
        return Reply(messages=[OutMessage("\n\n".join(texts))], lang=lang,
                     keys=["engine.unexpected", "crisis.danger"])

    # ---- events -------------------------------------------------------------------------
    async def _apply(self, turn: Turn, event: Event, fresh: bool) -> None:
        if event.kind == "command":
            await self._command(turn, event.value, event.arg, fresh)
        elif event.kind == "media":
            turn.say("engine.media_deleted" if event.value in MEDIA_KINDS else "engine.non_text")
            await turn.show_again()
        elif event.kind == "button":
            await self._button(turn, event.value, fresh)
        else:
            await self._text(turn, event.value, fresh)

    async def _command(self, turn: Turn, name: str, arg: str | None, fresh: bool) -> None:
        conv = turn.conv
        conv.pending = None
        if name in ("start", "menu"):
            conv.remember_position()
            if fresh:
                turn.welcome()
            await turn.special("@menu")
        elif name == "resume":
            if fresh:
                turn.welcome()
            await turn.show_again()
        elif name == "help":
            turn.say("engine.help")
            await turn.show_again()
        elif name == "privacy":
            turn.say("engine.privacy")
            await turn.show_again()
        elif name == "back":
            await turn.back()
        elif name == "restart":
            conv.remember_position()
            top = conv.stack[0][0] if conv.stack else conv.flow
            conv.stack.clear()
            turn.switch(top)
            await turn.run()
        elif name == "lang":
            wanted = (arg or "").strip().lower()[:2]
            langs = self.content.locales.languages
            if wanted not in langs:
                wanted = langs[(langs.index(conv.lang) + 1) % len(langs)]
            conv.lang = wanted
            turn.say("engine.lang_changed")
            await turn.show_again()
        elif name in ("memo", "contacts"):
            target = "memo" if name == "memo" else "contacts_now"
            conv.remember_position()
            if conv.flow != target:
                turn.call(target, conv.state, None)
            else:
                turn.switch(target)
            await turn.run()
        elif name == "exit":
            turn.quick_exit()
        elif name == "forget":
            conv.pending = {"kind": "forget"}
            turn.say("engine.forget.confirm")
            turn.wait_with(["!forget_yes", "!forget_no"])
        else:
            turn.say("engine.unknown_command")
            await turn.show_again()

    async def _button(self, turn: Turn, data: str, fresh: bool) -> None:
        conv = turn.conv
        step, _, index = data.partition(".")
        token = None
        number = small_number(index, typed=False)
        if not fresh and step == str(conv.step) and number is not None and number < len(conv.shown):
            token = conv.shown[number]
        if token is None:
            turn.welcome() if fresh else turn.say("engine.stale_button")
            if conv.pending:
                await self._repeat_pending(turn)
            else:
                await turn.show_again()
            return
        turn.reply.pressed = turn.label_of(token)
        await self._token(turn, token)

    async def _token(self, turn: Turn, token: str) -> None:
        conv = turn.conv
        pending, conv.pending = conv.pending, None
        if token.startswith("b"):
            await turn.press(turn.state.buttons[int(token[1:])])
        elif token == "@exit":
            turn.quick_exit()
        elif token in ("@menu", "@back"):
            if token == "@menu":
                conv.remember_position()
            await turn.special(token)
        elif token == "!crisis_unsafe":
            turn.crisis_lines("crisis.danger")
            turn.wait_with(["!continue"])
            conv.pending = _crisis_pending(pending)
        elif token in ("!crisis_safe", "!continue") and pending and pending.get("intents"):
            # The message that opened the crisis screen also said what is happening
            # (a threat): now that the person is safe, carry on with that.
            self._confirm_intents(turn, pending["intents"])
        elif token in ("!crisis_safe", "!continue", "!forget_no", "!intent_no"):
            if token == "!intent_no":
                turn.say("engine.intent.declined")
            await turn.show_current()
        elif token == "!forget_yes":
            turn.reply.delete = list(conv.messages)
            turn.reply.erased = True
            turn.say("engine.forget.done")
        elif token == "!intent_yes" and pending:
            await self._follow_intents(turn, pending.get("intents", []))

    async def _repeat_pending(self, turn: Turn) -> None:
        kind = turn.conv.pending["kind"] if turn.conv.pending else None
        if kind == "forget":
            turn.say("engine.forget.confirm")
            turn.wait_with(["!forget_yes", "!forget_no"])
        elif kind == "crisis" and turn.conv.pending:
            pending = turn.conv.pending
            self._crisis_screen(turn, urgent=bool(pending.get("urgent")),
                                intents=pending.get("intents"))
        else:
            turn.conv.pending = None
            await turn.show_current()

    # ---- text ---------------------------------------------------------------------------
    async def _text(self, turn: Turn, text: str, fresh: bool) -> None:
        conv = turn.conv
        text = text.strip()
        detector = self.content.crisis
        # An answer to a question that asks for facts (the memo: "what did they write?")
        # is read by the rules alone: there people quote the other side's threats, which
        # the n-gram model under the rules may take for a cue. The rules still see it all.
        if detector is not None and turn.state.ask is not None and not conv.pending and not fresh:
            detector = detector.rules_only()
        crisis = bool(text) and detector is not None and detector.detect(text)
        if conv.pending and not crisis:
            token = self._match_button(turn, text)
            if token is not None:
                turn.reply.pressed = turn.label_of(token)
                await self._token(turn, token)
                return
        conv.pending = None
        if conv.shown and conv.shown[0].startswith("!"):
            turn.wait_here()  # the shown buttons belonged to a note that is now gone
            conv.shown = list(turn.tokens or [])
        state = turn.state
        if turn.unconfirmed and not crisis and text and turn.unconfirmed == _digest(text):
            # The reply to this very answer was lost in a restart, and the person sent
            # it again: it is saved already, and is not the answer to what comes next.
            turn.say("engine.already_saved")
            await turn.show_again()
            return
        if state.ask and not fresh:
            token = self._match_button(turn, text, numbers=False)
            if token is not None and not crisis:  # typed a button's words, e.g. "Skip"
                turn.reply.pressed = turn.label_of(token)
                await self._token(turn, token)
                return
            value = self._accept(turn, text)
            if value is not None:
                conv.remember_position()
                conv.slots[state.ask.slot] = value
                conv.typed = _digest(text)
                await turn.goto(state.go or "@menu")
                if crisis:
                    turn.clear_output()
                    self._crisis_screen(turn, urgent=crisis.urgent)
                return
            if crisis:
                self._crisis_screen(turn, urgent=crisis.urgent)
            else:
                await turn.show_again()
            return
        if crisis:
            # A threat in the same message is kept for after the safety question.
            self._crisis_screen(turn, urgent=crisis.urgent, intents=self._routed_intents(text))
            return
        token = None if fresh else self._match_button(turn, text)
        if token is not None:
            turn.reply.pressed = turn.label_of(token)
            await self._token(turn, token)
            return
        routed = self._routed_intents(text)
        if routed:
            self._confirm_intents(turn, routed)
            return
        turn.welcome() if fresh else turn.say("engine.unknown_text")
        await turn.show_again()

    def _accept(self, turn: Turn, text: str) -> Any:
        ask = turn.state.ask
        assert ask is not None
        if ask.type == "datetime":
            when = parse_when_ex(text, turn.now) if text else None
            if when is None:
                turn.say(ask.invalid or "engine.invalid_datetime")
                return None
            return when.to_slot()
        length = len(text)
        if length < ask.min or length > ask.max:
            key = ask.invalid or ("engine.too_long" if length > ask.max else "engine.too_short")
            turn.say(key, max=ask.max, min=ask.min, length=length)
            return None
        return text

    def _match_button(self, turn: Turn, text: str, numbers: bool = True) -> str | None:
        shown = turn.conv.shown
        wanted = _norm(text)
        number = small_number(wanted) if numbers else None  # never int() on a long digit run
        if number is not None and 1 <= number <= len(shown):
            return shown[number - 1]
        for token in shown:
            try:
                label = turn.label_of(token)
            except (IndexError, KeyError, ValueError):
                return None
            if _norm(label.removeprefix("✅ ")) == wanted:
                return token
        return None

    def _routed_intents(self, text: str) -> list[str]:
        """The intents in `text` that lead somewhere (in detection order)."""
        intents = self.content.intents.detect(text) if self.content.intents and text else []
        routed = {r.intent for r in self.content.intent_routes}
        return [name for name in intents if name in routed]

    def _confirm_intents(self, turn: Turn, intents: list[str]) -> None:
        """'I understood: …, right?' with yes/no; yes follows the intents' route."""
        labels = [turn.t(f"intents.{name}.label") for name in intents]
        joiner = self.content.locales.joiner(turn.conv.lang)
        turn.conv.pending = {"kind": "intent", "intents": list(intents)}
        turn.say("engine.intent.confirm", topics=joiner.join(dict.fromkeys(labels)))
        turn.wait_with(["!intent_yes", "!intent_no"])

    def _crisis_screen(self, turn: Turn, *, urgent: bool = False,
                       intents: list[str] | None = None) -> None:
        turn.conv.pending = _crisis_pending(
            {"kind": "crisis", "urgent": urgent, "intents": intents or []})
        turn.crisis_lines("crisis.message", urgent=urgent)
        turn.say("crisis.ask")  # the question next to its buttons, after the lines
        turn.wait_with(["!crisis_safe", "!crisis_unsafe"])

    async def _follow_intents(self, turn: Turn, intents: list[str]) -> None:
        conv = turn.conv
        routes = [r for r in self.content.intent_routes if r.intent in intents]
        if not routes:
            await turn.show_current()
            return
        for route in routes:
            if route.toggle:
                slot, value = route.toggle
                ticked = list(conv.slots.get(slot) or [])
                if value not in ticked:
                    ticked.append(value)
                conv.slots[slot] = ticked
        conv.remember_position()
        conv.stack.clear()
        turn.switch(routes[0].flow, routes[0].at)
        await turn.run()


def _crisis_pending(pending: Pending | None) -> Pending:
    """A crisis question carrying, through its buttons, the urgency and intents to resume."""
    pending = pending or {"kind": "crisis"}
    kept: Pending = {"kind": "crisis"}
    if pending.get("urgent"):
        kept["urgent"] = True
    if pending.get("intents"):
        kept["intents"] = list(pending["intents"])
    return kept


def _digest(text: str) -> str:
    """Tells a typed answer sent again from a new one, without keeping the text twice."""
    return hashlib.blake2s(text.encode(), digest_size=8).hexdigest()
