"""Who can see what: the `age` slot followed through every path of every flow.

A small abstract interpretation over the flow graph. A *fact* is "this step can be shown
while age is A" (A is under18, adult, unsaid or unset), in a *frame*: the top level, or a
sub-flow entered with a given age (so a sub-flow's return gives back exactly the ages it can
end with for that entry). Branch arms, `if:` on buttons and texts narrow the ages (a
condition on another slot or the clock may go either way); `set: {age: …}` replaces them.
Besides the flows' own moves, a person can, from any step that waits, open the menu,
/restart the top flow, run /contacts or /memo (and come back) or type free text that an
intent route follows; those are followed too. /back re-shows an earlier step with today's
answers: it is covered by the engine, which never shows an adult-only text unless age is adult.

`kakekomi lint` uses it to prove that no path where age may be under18, unsaid or unset
reaches a text marked `audience: adult` (an error, with the path), and to know which texts
a minor can see (the kanji check).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..content._conditions import Condition

AGES = ("under18", "unsaid", "unset", "adult")
NOT_ADULT = frozenset({"under18", "unsaid", "unset"})
ROOT: tuple = ("top",)
MENU_FLOW = "menu"
COMMAND_FLOWS = ("contacts_now", "memo")  # /contacts and /memo run these and come back
_ANY_TIME = datetime(2026, 1, 1, 12, 0)


def age_value(value: Any) -> str:
    """The abstract age of a slot value: a missing answer is `unset`."""
    return "unset" if value in (None, "", []) else str(value)


def may(cond: Condition | None, age: str) -> tuple[bool, bool]:
    """(may hold, may fail) for a person of this age; other slots and the clock go either way."""
    if cond is None:
        return True, False
    if cond.op in ("all", "any"):
        parts = [may(p, age) for p in cond.parts]
        if cond.op == "all":
            return all(h for h, _ in parts), any(f for _, f in parts)
        return any(h for h, _ in parts), all(f for _, f in parts)
    if cond.op == "not":
        holds, fails = may(cond.parts[0], age)
        return fails, holds
    if cond.op == "time" or cond.slot != "age":
        return True, True
    exact = cond.holds({"age": None if age == "unset" else age}, _ANY_TIME)
    return exact, not exact


@dataclass(frozen=True)
class Fact:
    """A step that can be shown while age is `age`, inside `frame`."""

    frame: tuple
    flow: str
    state: str
    age: str
    reshow: bool = False  # shown again after a sub-flow (its `set:` is not applied again)

    def where(self) -> str:
        return f"{self.flow}/{self.state}"


@dataclass
class AgeMap:
    """What the analysis found: ages per step, per text and per block, with a witness path."""

    states: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    texts: dict[tuple[str, str, int], dict[str, Fact]] = field(default_factory=dict)
    blocks: dict[tuple[str, str, int], dict[str, Fact]] = field(default_factory=dict)
    buttons: dict[tuple[str, str, int], set[str]] = field(default_factory=dict)
    pred: dict[Fact, tuple[Fact | None, str]] = field(default_factory=dict)

    def path(self, fact: Fact, limit: int = 14) -> str:
        """The way from the start to this fact, as "menu/main → [button] → flow/state …"."""
        steps: list[str] = []
        current: Fact | None = fact
        while current is not None:
            before, how = self.pred[current]
            steps.append(current.where())
            if how:
                steps.append(how)
            current = before
        steps.reverse()
        if len(steps) > limit:
            steps = steps[:2] + ["…"] + steps[-(limit - 3):]
        return " → ".join(steps)

    def ages_of_text(self, flow: str, state: str, index: int) -> set[str]:
        return set(self.texts.get((flow, state, index), {}))


class _Walker:
    def __init__(self, content: Any):
        self.content = content
        self.flows = content.flows
        self.map = AgeMap()
        self.queue: deque[Fact] = deque()
        self.exits: dict[tuple[str, str], set[str]] = {}
        self.waiters: dict[tuple[str, str], list[tuple[Fact, str, str]]] = {}
        self.global_ages: dict[str, Fact] = {}
        self.root_flows: set[str] = set()

    # ---- bookkeeping ---------------------------------------------------------------
    def add(self, fact: Fact, before: Fact | None, how: str) -> None:
        if fact.flow not in self.flows or fact.state not in self.flows[fact.flow].states:
            return
        if fact in self.map.pred:
            return
        self.map.pred[fact] = (before, how)
        self.queue.append(fact)
        if fact.frame == ROOT and fact.flow not in self.root_flows:
            self.root_flows.add(fact.flow)
            for age, origin in self.global_ages.items():  # /restart of this flow
                restart = Fact(ROOT, fact.flow, self.flows[fact.flow].start, age)
                self.add(restart, origin, "[/restart]")

    def start(self, flow: str, at: str | None = None) -> str:
        return at or self.flows[flow].start

    def reach_globally(self, age: str, origin: Fact) -> None:
        """From any waiting step: the menu, /restart, intents (free text), with this age."""
        if age in self.global_ages:
            return
        self.global_ages[age] = origin
        if MENU_FLOW in self.flows:
            self.add(Fact(ROOT, MENU_FLOW, self.start(MENU_FLOW), age), origin, "[menu]")
        for route in self.content.intent_routes:
            if route.flow in self.flows:
                self.add(Fact(ROOT, route.flow, self.start(route.flow, route.at), age), origin,
                         f"[typed: {route.intent}]")
        for flow in sorted(self.root_flows):
            self.add(Fact(ROOT, flow, self.start(flow), age), origin, "[/restart]")

    def target(self, fact: Fact, name: str, age: str, how: str) -> None:
        if name == "@menu":
            self.reach_globally(age, fact)
        elif name == "@return":
            self.leave(fact, age)
        elif name != "@back":  # /back: the engine's guard (module docstring)
            self.add(Fact(fact.frame, fact.flow, name, age), fact, how)

    def call(self, fact: Fact, flow: str, from_state: str, then: str, age: str, how: str) -> None:
        key = (flow, age)
        waiter = (fact, from_state, then)
        self.waiters.setdefault(key, []).append(waiter)
        self.add(Fact(("call", flow, age), flow, self.start(flow), age), fact, how)
        for out in sorted(self.exits.get(key, ())):
            self.resume(waiter, out)

    def leave(self, fact: Fact, age: str) -> None:
        """The end of a frame: a sub-flow returns to its callers; the top level waits."""
        if fact.frame == ROOT:
            self.reach_globally(age, fact)
            return
        key = (fact.frame[1], fact.frame[2])
        done = self.exits.setdefault(key, set())
        if age in done:
            return
        done.add(age)
        for waiter in list(self.waiters.get(key, ())):
            self.resume(waiter, age)

    def resume(self, waiter: tuple[Fact, str, str], age: str) -> None:
        """Back in the caller after its sub-flow ended with this age."""
        caller, from_state, then = waiter
        how = f"[… sub-flow ends with age {age}]"
        if not then:
            self.add(Fact(caller.frame, caller.flow, from_state, age, reshow=True), caller, how)
        elif then.startswith("@"):
            self.target(Fact(caller.frame, caller.flow, from_state, age), then, age, how)
        else:
            self.add(Fact(caller.frame, caller.flow, then, age), caller, how)

    # ---- one step ------------------------------------------------------------------
    def visit(self, fact: Fact) -> None:
        flow = self.flows[fact.flow]
        state = flow.states[fact.state]
        age = fact.age
        if not fact.reshow and "age" in state.set:
            age = age_value(state.set["age"])
        here = Fact(fact.frame, fact.flow, fact.state, age, fact.reshow)
        if here != fact:
            self.add(here, fact, "")  # keeps the witness path exact after `set:`
            return
        self.map.states.setdefault((flow.id, state.name), set()).add(age)
        for i, item in enumerate(state.says()):
            if may(item.when, age)[0]:
                self.map.texts.setdefault((flow.id, state.name, i), {}).setdefault(age, fact)
        for i, block in enumerate(state.show):
            if may(block.when, age)[0]:
                self.map.blocks.setdefault((flow.id, state.name, i), {}).setdefault(age, fact)
        waits = bool(state.buttons or state.ask) or (state.end and fact.frame == ROOT)
        for i, choice in enumerate(state.buttons):
            if not may(choice.when, age)[0]:
                continue
            self.map.buttons.setdefault((flow.id, state.name, i), set()).add(age)
            after = age_value(choice.set["age"]) if "age" in choice.set else age
            how = f"[{choice.text}]"
            if choice.call:
                self.call(fact, choice.call, state.name, choice.go or "@menu", after, how)
            elif choice.flow:
                self.add(Fact(fact.frame, choice.flow, self.start(choice.flow, choice.at), after),
                         fact, how)
            else:
                self.target(fact, choice.go or "@menu", after, how)
        if state.ask and state.go:
            for after in (AGES if state.ask.slot == "age" else (age,)):
                self.target(fact, state.go, after, "[typed answer]")
        if waits:
            self.commands(fact, age)
            return
        if fact.reshow:
            return
        if state.end:
            self.leave(fact, age)
        elif state.branch:
            earlier_may_fail = True
            for route in state.branch:
                holds, fails = may(route.when, age)
                if earlier_may_fail and holds:
                    self.target(fact, route.go, age, "")
                earlier_may_fail = earlier_may_fail and fails
        elif state.call:
            self.call(fact, state.call, state.name, state.go or "@menu", age,
                      f"[runs {state.call}]")
        elif state.flow:
            self.add(Fact(fact.frame, state.flow, self.start(state.flow, state.at), age), fact, "")
        elif state.go:
            self.target(fact, state.go, age, "")

    def commands(self, fact: Fact, age: str) -> None:
        """What a person can do at any step that waits: menu, /restart, /contacts, /memo, text."""
        self.reach_globally(age, fact)
        for flow in COMMAND_FLOWS:
            if flow not in self.flows:
                continue
            if fact.flow != flow:
                self.call(fact, flow, fact.state, "", age, f"[/{flow.split('_')[0]}]")
            else:
                self.add(Fact(fact.frame, flow, self.start(flow), age), fact,
                         f"[/{flow.split('_')[0]}]")

    def run(self) -> AgeMap:
        if MENU_FLOW in self.flows:
            self.add(Fact(ROOT, MENU_FLOW, self.start(MENU_FLOW), "unset"), None, "")
        while self.queue:
            self.visit(self.queue.popleft())
        return self.map


def analyse_ages(content: Any) -> AgeMap:
    """Follow the age slot through every flow; see the module docstring."""
    return _Walker(content).run()


def adult_only_keys(content: Any) -> dict[str, tuple[str, int]]:
    """Locale keys tagged `audience: adult` anywhere, with where the tag is."""
    found: dict[str, tuple[str, int]] = {}
    for flow in content.flows.values():
        for state in flow.states.values():
            for item in state.says():
                if item.audience == "adult":
                    found.setdefault(item.key, (flow.file, item.line or state.line))
    return found


@dataclass(frozen=True)
class Exposure:
    """An adult-only text or block that some age other than adult can reach."""

    file: str
    line: int
    what: str
    ages: tuple[str, ...]
    path: str


def exposures(content: Any, ages: AgeMap) -> Iterator[Exposure]:
    """Every adult-only text (or adult contacts block) a non-adult path reaches."""
    adult_keys = adult_only_keys(content)
    for flow in content.flows.values():
        for state in flow.states.values():
            for i, item in enumerate(state.says()):
                if item.audience != "adult" and item.key not in adult_keys:
                    continue
                seen = ages.texts.get((flow.id, state.name, i), {})
                bad = [a for a in AGES if a in NOT_ADULT and a in seen]
                if bad:
                    tag = "" if item.audience == "adult" else \
                        f" (tagged adult-only at {':'.join(map(str, adult_keys[item.key]))})"
                    yield Exposure(flow.file, item.line or state.line,
                                   f"the adult-only text '{item.key}'{tag}", tuple(bad),
                                   ages.path(seen[bad[0]]))
            for i, block in enumerate(state.show):
                if block.kind != "contacts" or block.audience != "adult":
                    continue
                seen = ages.blocks.get((flow.id, state.name, i), {})
                bad = [a for a in AGES if a in NOT_ADULT and a in seen]
                if bad:
                    yield Exposure(flow.file, block.line or state.line,
                                   f"the adults' contacts block '{block.arg}'", tuple(bad),
                                   ages.path(seen[bad[0]]))
