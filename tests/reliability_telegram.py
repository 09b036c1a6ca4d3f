"""Scripted people against the loopback Bot API stand-in, and the bot as a subprocess.

`ScriptPolicy` decides what a person presses from the labels on screen only (stateless:
the same screen always gets the same answer), so an in-memory run of the engine (the
oracle, `oracle_records`) says exactly where each conversation must end and with which
answers, whatever crashes, redeliveries and repeated taps happened on the way.

`ScriptedPerson` drives one conversation through the stand-in: act, wait until the bot's
reply is delivered (a keyboard of a newer step), and if none comes within `resend_after`
seconds do the same again, like a person tapping again.

`BotProcess` runs ``python -m bot telegram`` against the stand-in and can kill -9 it.
"""

from __future__ import annotations

import asyncio
import collections
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bot import Content, Dialogue, Event, Reply
from storage import MemoryStore
from tests.botapi_stub import BotApiStub, User

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456:TEST-token"
SECRET_TEXT = "kakekomi-test-secret-Qx7vR2pL9mZ4wT8n"  # strong enough for the settings check
NOW = "2026-11-25T21:00+09:00"


# -- what a scripted person presses ----------------------------------------------------------


@dataclass
class Script:
    """One person's plan: which menu entry, which picks, what to tick, what to type."""

    entry: str  # locale key of the menu button
    picks: tuple[str, ...]  # locale keys preferred whenever such a button is on screen
    ticks: frozenset[str]  # toggle buttons (locale keys) to have ticked
    typed: dict[str, str] = field(default_factory=dict)  # question key → typed answer
    stop: frozenset[str] = frozenset()  # done as soon as one of these buttons is shown


PREFERRED = (  # progress without loops: later rather than back to the list, next, done
    "after.plan.finish", "evidence.btn.later", "after.happening.next", "common.done", "common.next",
    "after.threat.understood", "after.danger.called", "memo.btn.start", "memo.btn.done",
    "common.skip",
)
HAPPENING = ("after.happening.threat", "after.happening.paid", "after.happening.video_call",
             "after.happening.posted", "after.happening.app_link",
             "after.happening.other_minor", "after.happening.worried")
EVIDENCE = ("evidence.btn.chat", "evidence.btn.profile", "evidence.btn.place",
            "evidence.btn.times", "evidence.btn.payment")


# The triage up to the first section after "what is happening" (the do-not list, the
# app, the post, the worry or the other person's age): danger, age and the ticks.
TRIAGE_STOP = frozenset({"after.threat.understood", "common.next", "after.posted.open_checklist"})


def scripts(count: int, seed: str = "crash", *, full: bool = False) -> list[Script]:
    """Varied, terminating plans through the triage: both entries, every age, 1-3 ticks.

    Every fifth (with `full`) or tenth goes through the memo instead, with a typed
    answer. `full`: the rest go to the end of the flow (evidence ticks, plan); otherwise
    up to the first section after the ticks.
    """
    rng = random.Random(seed)
    out: list[Script] = []
    for n in range(count):
        if n % (5 if full else 10) == 4:  # the memo: skip to the last question, type it
            out.append(Script("menu.memo", PREFERRED, frozenset(),
                              {"memo.urls.q": f"https://example.com/post/{n}?<&>"}))
            continue
        entry = "menu.threatened" if n % 5 == 3 else "menu.after_sending"
        age = rng.choice(["after.age.adult", "after.age.under18", "common.rather_not_say"])
        danger = rng.choice(["after.danger.no", "common.not_sure", "after.danger.yes"])
        ticks = rng.sample(HAPPENING, rng.randint(1, 3))
        if full:
            ticks += rng.sample(EVIDENCE, rng.randint(0, 3))
        stop = frozenset() if full else TRIAGE_STOP
        out.append(Script(entry, (danger, age, *PREFERRED), frozenset(ticks), stop=stop))
    return out


class ScriptPolicy:
    """Screen → action, for one person and one language."""

    def __init__(self, content: Content, lang: str, script: Script):
        t = lambda key: content.locales.text(lang, key)  # noqa: E731
        self.script = script
        self.nav = {t(f"engine.nav.{n}") for n in ("back", "menu", "exit")}
        self.exit = t("engine.nav.exit")
        self.menu_entry = t(script.entry)
        self.menu_labels = {t(c.text) for c in content.flows["menu"].states["main"].buttons}
        self.picks = [t(k) for k in script.picks]
        self.ticks = {t(k) for k in script.ticks}
        self.toggles = {t(c.text) for f in content.flows.values() for s in f.states.values()
                        for c in s.buttons if c.toggle}
        self.typed = {t(k): v for k, v in script.typed.items()}
        self.stop = {t(k) for k in script.stop}
        self.started = False

    def next(self, buttons: list[tuple[str, str]], text: str) -> tuple[str, str] | None:
        """("press", data) | ("text", answer) | None when the conversation is over."""
        labels = [label for label, _ in buttons]
        if set(labels[:-1]) <= self.menu_labels and self.menu_entry in labels:
            if self.started and self.exit in labels:
                return None  # back at the menu after the end: done
            self.started = True
            return "press", dict(buttons)[self.menu_entry]
        if self.exit in labels or self.stop & set(labels):
            return None  # an end state (its buttons are "menu" and "exit"), or far enough
        for question, answer in self.typed.items():
            if question in text:
                return "text", answer
        content = [(lb, d) for lb, d in buttons if lb not in self.nav]
        for label, data in content:
            if label.removeprefix("✅ ") in self.ticks and not label.startswith("✅ "):
                return "press", data
        plain = [(lb, d) for lb, d in content if lb.removeprefix("✅ ") not in self.toggles]
        for wanted in self.picks:
            for label, data in plain:
                if label == wanted:
                    return "press", data
        if plain:
            return "press", plain[0][1]
        raise AssertionError(f"script has no move on {labels}")


def step_of(buttons: list[tuple[str, str]]) -> int:
    """The step a keyboard belongs to (button data is "step.index")."""
    for _, data in buttons:
        head = data.split(".", 1)[0]
        if head.isdigit():
            return int(head)
    return -1


async def oracle_records(content: Content, people: list[tuple[User, Script]]
                         ) -> dict[int, dict[str, Any]]:
    """Where each scripted conversation ends, run straight through the engine in memory."""
    now = datetime.fromisoformat(NOW)
    store = MemoryStore(secret=b"oracle")
    dialogue = Dialogue(content, store, clock=lambda: now)
    out: dict[int, dict[str, Any]] = {}
    for user, script in people:
        lang = "ja" if (user.language_code or "").startswith("ja") else "en"
        policy = ScriptPolicy(content, lang, script)
        key = store.pseudonym("oracle", str(user.id))
        last: list[Reply] = []

        async def send(reply: Reply, last: list[Reply] = last) -> list[int]:  # this person's
            last.append(reply)
            return [1] * len(reply.messages)

        await dialogue.handle(key, Event.command("start", lang_hint=lang), send)
        decisions = 0
        for _ in range(200):
            reply = last[-1]
            screen = next((m for m in reversed(reply.messages) if m.buttons), None)
            move = policy.next([(b.label, b.data) for b in reply.buttons],
                               screen.text if screen else "")
            if move is None:
                break
            kind, value = move
            event = Event.button(value, lang_hint=lang) if kind == "press" \
                else Event.text(value, lang_hint=lang)
            await dialogue.handle(key, event, send)
            decisions += 1
        else:
            raise AssertionError(f"script for {user.id} does not end")
        out[user.id] = dict(await store.load(key), decisions=decisions)
    return out


# -- one person through the stand-in ----------------------------------------------------------


@dataclass
class Progress:
    acked: int = 0
    resends: int = 0
    done: int = 0


class ScriptedPerson:
    def __init__(self, stub: BotApiStub, user: User, policy: ScriptPolicy, progress: Progress,
                 *, resend_after: float = 3.0):
        self.stub = stub
        self.user = user
        self.policy = policy
        self.progress = progress
        self.resend_after = resend_after
        self.steps = 0
        self.finished = False
        self.moves: collections.deque[tuple] = collections.deque(maxlen=6)  # for failures

    def screen(self) -> tuple[list[tuple[str, str]], str]:
        for msg in reversed(self.stub.bot_messages(self.user.id)):
            if msg.buttons:
                return msg.buttons, msg.text or ""
        return [], ""

    async def _until_reply(self, acted_step: int, act: Any) -> None:
        """Wait for a keyboard newer than `acted_step`; act again on every timeout."""
        while True:
            try:
                await self.stub.wait_for(lambda: step_of(self.screen()[0]) > acted_step,
                                         timeout=self.resend_after, what="a reply")
                self.progress.acked += 1
                return
            except AssertionError:
                self.progress.resends += 1
                act()

    async def run(self, deadline: float, gate: asyncio.Semaphore | None = None) -> None:
        """The whole conversation; `gate` bounds how many people talk at the same time."""
        if gate is None:
            await self._run(deadline)
            return
        async with gate:
            await self._run(deadline)

    async def _run(self, deadline: float) -> None:
        user, stub = self.user, self.stub
        stub.send_command(user, "start")
        # Asked again with /help, not /start: when the first reply is only slow (a busy
        # machine), a second /start would open a new menu after the person had already
        # moved on from the first; /help shows the same screen with the same step.
        await self._until_reply(0, lambda: stub.send_command(user, "help"))
        while time.monotonic() < deadline:
            buttons, text = self.screen()
            move = self.policy.next(buttons, text)
            if move is None:
                self.finished = True
                self.progress.done += 1
                return
            kind, value = move
            step = step_of(buttons)
            self.moves.append((kind, value, [label for label, _ in buttons], text[:70]))
            if kind == "press":
                act = lambda value=value: stub.press(user, value)  # noqa: E731
            else:
                act = lambda value=value: stub.send_text(user, value)  # noqa: E731
            act()
            self.steps += 1
            await self._until_reply(step, act)


# -- the bot as a separate process ----------------------------------------------------------


class BotProcess:
    """``python -m bot telegram`` against the stand-in; kill() is kill -9."""

    def __init__(self, api_url: str, db: Path, log: Path, *, extra_env: dict | None = None):
        self.api_url = api_url
        self.db = db
        self.log = log
        self.extra_env = extra_env or {}
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("KAKEKOMI_", "TELEGRAM_"))}
        env.update(TELEGRAM_BOT_TOKEN=TOKEN, KAKEKOMI_DB=str(self.db),
                   KAKEKOMI_SECRET=SECRET_TEXT, KAKEKOMI_DATA=str(self.db.parent / "data"),
                   PYTHONPATH=str(ROOT), **self.extra_env)
        out = self.log.open("ab")
        self.starts += 1
        out.write(f"\n=== start {self.starts} ===\n".encode())
        out.flush()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "telegram", "--api-base-url", self.api_url,
             "--now", NOW],
            cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out)
        out.close()

    async def kill(self) -> None:
        """SIGKILL: no shutdown, no flush, no final getUpdates."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        await self._wait()

    async def stop(self, timeout: float = 60.0) -> int:
        """SIGTERM and wait: the bot drains, flushes and closes its store."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return await self._wait(timeout)

    async def _wait(self, timeout: float = 60.0) -> int:  # a hang guard: then SIGKILL
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None:
            if time.monotonic() > deadline:
                self.proc.kill()
            await asyncio.sleep(0.02)
        return self.proc.returncode

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None
