"""One event's worth of work on a conversation: walking the flow and rendering what to show."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from ..answers import JST, memo_document, render_memo, split_text
from ..content._flows import Block, Choice, State
from ..content._loader import MENU_FLOW, Content
from ..content._machines import FlowMoveError
from ._conversation import Conversation, Frame
from ._events import Button, Document, OutMessage, Reply

MAX_AUTO_STEPS = 60
TEXT_LIMIT = 3800
TICK = "✅ "
CRISIS_BLOCK = Block("contacts", "crisis")
BULLETS = ("・", "•", "- ", "✅", "⚠", "□", "⬜", "☐")
# What each navigation token's label is.
NAV_LABELS = {
    "@back": "engine.nav.back", "@menu": "engine.nav.menu", "@exit": "engine.nav.exit",
    "!crisis_safe": "crisis.safe_now", "!crisis_unsafe": "crisis.not_safe",
    "!continue": "crisis.continue", "!forget_yes": "engine.forget.yes",
    "!forget_no": "engine.forget.no", "!intent_yes": "engine.intent.yes",
    "!intent_no": "engine.intent.no",
}


class Turn:
    """Collects the texts and buttons of one reply while moving the conversation."""

    def __init__(self, content: Content, conv: Conversation, now: datetime,
                 on_visit: Callable[[str, str], None] | None = None):
        self.content = content
        self.conv = conv
        self.now = now
        self.on_visit = on_visit
        self.parts: list[tuple[str, str]] = []  # (key, text)
        self.documents: list[Document] = []
        self.tokens: list[str] | None = None  # buttons of the step shown, if any
        self.reply = Reply(lang=conv.lang)
        # Digest of an answer typed just before a restart, whose reply may be lost.
        self.unconfirmed: str | None = None
        self._origin = (conv.flow, conv.state)
        self._same_step = False

    # ---- text -------------------------------------------------------------------------
    def t(self, key: str, **fill: Any) -> str:
        return self.content.locales.text(self.conv.lang, key, **fill)

    def say(self, key: str, **fill: Any) -> None:
        self.parts.append((key, self.t(key, **fill)))

    def welcome(self) -> None:
        """The welcome, opened with the greeting of the hour in Japan.

        (No "good evening" at 9 a.m.)
        """
        now = self.now if self.now.tzinfo is None else self.now.astimezone(JST)
        part = "morning" if 5 <= now.hour < 10 else "day" if 10 <= now.hour < 18 else "evening"
        greeting = self.t(f"engine.greeting.{part}")
        self.parts.append(("engine.welcome", greeting + "\n" + self.t("engine.welcome")))

    def say_filled(self, key: str) -> None:
        self.parts.append((key, self.content.locales.fill(self.conv.lang, key, self.conv.slots)))

    def _joined(self) -> str:
        """Paragraphs apart, but a list item (・, -, ✅ ...) right under the line before it."""
        text = ""
        for _, part in self.parts:
            if not part:
                continue
            if text:
                text += "\n" if part.lstrip().startswith(BULLETS) else "\n\n"
            text += part
        return text

    def clear_output(self) -> None:
        self.parts.clear()
        self.documents.clear()
        self.tokens = None

    # ---- states -----------------------------------------------------------------------
    @property
    def state(self) -> State:
        return self.content.state(self.conv.flow, self.conv.state)

    def holds(self, cond: Any) -> bool:
        return cond is None or cond.holds(self.conv.slots, self.now)

    def render_state(self, state: State) -> None:
        if self.on_visit:
            self.on_visit(state.flow_id, state.name)
        cited: dict[str, None] = {}
        for item in state.says():
            if self.holds(item.when) and self.may_show(item):
                self.say_filled(item.key)
                cited.update((src.cite(self.conv.lang), None) for src in item.sources)
        if cited:
            sep = self.t("engine.sources_separator")
            self.parts.append(("engine.sources", self.t("engine.sources", sources=sep.join(cited))))
        blocks = [b for b in state.show if self.holds(b.when)]
        contacts = [b for b in blocks if b.kind == "contacts"]
        for block in blocks:
            if block.kind != "contacts":
                self.render_block(block)
            elif block is contacts[0]:
                self.render_contacts(contacts)

    def may_show(self, item: Any) -> bool:
        """An adult-only text is shown only when the person said they are an adult.

        Lint proves flows never lead there otherwise; this also covers /back after the age
        changed, which re-shows an earlier step with today's answers."""
        return item.audience != "adult" or self.conv.slots.get("age") == "adult"

    def render_contacts(self, blocks: list[Block]) -> None:
        """One list for all of a state's contact blocks: each contact once, open ones first."""
        if self.content.directory is None:
            return
        from ..safety._contacts import audiences_for_age, merge_statuses, render_contacts

        groups = audiences_for_age(self.conv.slots.get("age"))
        merged = merge_statuses(
            self.content.directory.status(b.arg, group, self.now)
            for b in blocks for group in ((b.audience,) if b.audience else groups))
        self.parts.append((f"contacts:{blocks[0].arg}", render_contacts(
            merged, self.conv.lang, self.t, groups=groups, part=blocks[0].part,
            topics=[b.arg for b in blocks])))
        self.parts.extend((f"contacts:{b.arg}", "") for b in blocks[1:])

    def render_block(self, block: Block) -> None:
        lang, slots = self.conv.lang, self.conv.slots
        if block.kind == "contacts":
            self.render_contacts([block])
        elif block.kind == "checklist":
            checklist = self.content.checklists[block.arg]
            ticked = slots.get(checklist.slot) or []
            lines = [("✅ " if item in ticked else "⬜ ") + self.t(key)
                     for item, key in checklist.items.items()]
            self.parts.append((f"checklist:{block.arg}", "\n".join(lines)))
        elif block.kind == "memo":
            fields = self.content.memo_fields
            if block.arg == "view":
                self.parts.append(("memo:view", render_memo(fields, slots, lang, self.t, self.now)))
            else:
                name, data = memo_document(fields, slots, lang, self.t, self.now)
                self.documents.append(Document(name, data))
                self.reply.keys.append("memo:file")

    def crisis_lines(self, lead: str, *, urgent: bool = False) -> None:
        """The one crisis screen: 119 first when an act is already done, a lead text, every line.

        The crisis question, the safety net's apology and the storage apology all show
        the lines through here, so they can never drift apart.
        """
        if urgent:
            self.say("crisis.call_now")  # an act already done: the emergency number first
        self.say(lead)
        self.render_block(CRISIS_BLOCK)  # every line open now, 110 among them

    def quick_exit(self) -> None:
        """Ask the channel to erase every message of this conversation it can."""
        self.reply.exited = True
        self.reply.delete = list(self.conv.messages)
        self.conv.messages.clear()

    def wait_here(self) -> None:
        """Show the current state's buttons (and the navigation) and stop."""
        state = self.state
        tokens = [f"b{i}" for i, c in enumerate(state.buttons) if self.holds(c.when)]
        if state.end:
            tokens += ["@menu", "@exit"]
        elif self.conv.flow == MENU_FLOW:
            tokens += ["@exit"]
        else:
            tokens += ["@back", "@menu"]
        self.tokens = tokens

    def wait_with(self, tokens: list[str]) -> None:
        self.tokens = tokens

    def label_of(self, token: str) -> str:
        if token.startswith("b"):
            choice = self.state.buttons[int(token[1:])]
            label = self.t(choice.text)
            if choice.toggle and choice.toggle[1] in (self.conv.slots.get(choice.toggle[0]) or []):
                return TICK + label
            return label
        return self.t(NAV_LABELS[token])

    async def show_current(self) -> None:
        """Show where the person is now (after a note, a stale button, /lang ...)."""
        self.render_state(self.state)
        self.wait_here()

    async def show_again(self) -> None:
        """Show where the person is, nothing having changed (a stale button, unknown
        text, a sticker, /help ...). The buttons keep their step, so the keyboard the
        person already has stays good: a double tap or a message sent in between never
        turns the screen they are about to press into a stale one."""
        self._same_step = True
        await self.show_current()

    async def run(self) -> None:
        """Walk from the current state through states that only talk, until one waits."""
        conv = self.conv
        for _ in range(MAX_AUTO_STEPS):
            state = self.state
            conv.slots.update(state.set)
            if state.add:
                self.add_to(*state.add)
            self.render_state(state)
            if state.buttons or state.ask:
                self.wait_here()
                return
            if state.end:
                if conv.stack:
                    await self.return_from_sub()
                    if self.tokens is not None:
                        return
                    continue
                self.wait_here()
                return
            if state.branch:
                conv.state = await self.machine.decide(conv.state, conv.slots, self.now)
            elif state.call:
                self.call(state.call, state.name, state.go)
            elif state.flow:
                self.switch(state.flow, state.at)
            elif state.go in ("@menu", "@back", "@return"):
                await self.special(state.go)
                if self.tokens is not None:
                    return
            elif state.go:
                conv.state = await self.machine.move(conv.state, state.go, conv.slots, self.now)
        raise FlowMoveError(f"{conv.flow}: more than {MAX_AUTO_STEPS} steps without a question")

    @property
    def machine(self):
        return self.content.machines[self.conv.flow]

    def switch(self, flow: str, at: str | None = None) -> None:
        self.conv.flow = flow
        self.conv.state = at or self.content.flows[flow].start

    def call(self, flow: str, from_state: str, then: str | None) -> None:
        self.conv.stack.append(Frame(self.conv.flow, from_state, then or ""))
        self.switch(flow)

    async def return_from_sub(self) -> None:
        if not self.conv.stack:
            await self.special("@menu")
            return
        flow, from_state, then = self.conv.stack.pop()
        self.conv.flow = flow
        if not then:
            self.conv.state = from_state
            await self.show_current()
            return
        self.conv.state = from_state
        if then in ("@menu", "@back", "@return"):
            await self.special(then)
        else:
            self.conv.state = await self.machine.move(from_state, then, self.conv.slots, self.now)

    async def special(self, target: str) -> None:
        if target == "@menu":
            self.conv.stack.clear()
            self.switch(MENU_FLOW)
            await self.run()
        elif target == "@back":
            await self.back()
        else:
            await self.return_from_sub()

    async def goto(self, target: str) -> None:
        if target in ("@menu", "@back", "@return"):
            await self.special(target)
            if self.tokens is None:
                await self.run()
            return
        self.conv.state = await self.machine.move(self.conv.state, target, self.conv.slots,
                                                  self.now)
        await self.run()

    async def back(self) -> None:
        conv = self.conv
        while conv.history:
            flow, state, stack = conv.history.pop()
            if [flow, state] != [conv.flow, conv.state] and flow in self.content.flows \
                    and state in self.content.flows[flow].states:
                conv.flow, conv.state, conv.stack = flow, state, list(stack)
                await self.show_current()
                return
        self.say("engine.back.none")
        await self.show_current()

    def add_to(self, slot: str, value: str) -> None:
        """Tick a value in a list slot (never unticks, unlike a toggle)."""
        ticked = list(self.conv.slots.get(slot) or [])
        if value not in ticked:
            ticked.append(value)
        self.conv.slots[slot] = ticked

    async def press(self, choice: Choice) -> None:
        conv = self.conv
        self.reply.pressed = self.t(choice.text)
        conv.remember_position()
        conv.slots.update(choice.set)
        if choice.add:
            self.add_to(*choice.add)
        if choice.toggle:
            slot, value = choice.toggle
            ticked = list(conv.slots.get(slot) or [])
            ticked.remove(value) if value in ticked else ticked.append(value)
            conv.slots[slot] = ticked
        if choice.call:
            self.call(choice.call, conv.state, choice.go)
            await self.run()
        elif choice.flow:
            self.switch(choice.flow, choice.at)
            await self.run()
        else:
            await self.goto(choice.go or "@menu")

    # ---- output -----------------------------------------------------------------------
    def finish(self) -> Reply:
        reply = self.reply
        reply.lang = self.conv.lang
        reply.keys.extend(key for key, _ in self.parts)
        text = self._joined()
        chunks = split_text(text, TEXT_LIMIT) if text else []
        messages = [OutMessage(chunk) for chunk in chunks]
        for doc in self.documents:
            messages.append(OutMessage("", document=doc))
        if self.tokens is not None:
            unchanged = (self._same_step and self.tokens == self.conv.shown
                         and (self.conv.flow, self.conv.state) == self._origin)
            if not unchanged:
                self.conv.step += 1
            self.conv.shown = list(self.tokens)
            rows = [[Button(f"{self.conv.step}.{i}", self.label_of(tok))]
                    for i, tok in enumerate(self.tokens) if not tok.startswith("@")]
            nav = [Button(f"{self.conv.step}.{i}", self.label_of(tok))
                   for i, tok in enumerate(self.tokens) if tok.startswith("@")]
            if nav:
                rows.append(nav)
            if not messages or messages[-1].document is not None:
                messages.append(OutMessage(self.t("engine.choose")))
            messages[-1].buttons = rows
        reply.messages = messages
        return reply
