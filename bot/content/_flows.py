"""Typed flows: the YAML in flows/ parsed into small immutable records.

Parsing checks each file on its own (shape, keys, targets inside the flow);
`_content.py` checks what spans files (other flows, locale keys, slots).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .._errors import Problem
from ..safety._contacts import AUDIENCES, TOPICS  # the one list of each, with the directory
from ._conditions import Condition, parse_condition

SPECIAL_TARGETS = ("@menu", "@back", "@return")
ASK_TYPES = ("text", "datetime")
BLOCK_KINDS = ("contacts", "checklist", "memo")
# A contact list shows the best few ("first"); "more" the next few it left out; "more2" the
# rest after those (issue 14: each page fits a phone).
CONTACT_PARTS = ("first", "more", "more2")
STATE_KEYS = {"say", "show", "set", "add", "buttons", "ask", "branch", "go", "call", "flow", "at",
              "end", "audience", "sources", "readers"}
SAY_KEYS = {"text", "if", "audience", "sources"}
# `audience: adult` marks a text for adults only: lint proves no path with age under18,
# unsaid or unset reaches it, and the engine never shows it unless age is adult.
TEXT_AUDIENCES = ("adult",)
# `readers: guardian` says who a flow (or state) is written for: parents and teachers. Its
# Japanese may use kanji beyond primary school; it is NOT adult-only (a teenager may open it,
# so the age proof still covers it).
READERS = ("guardian",)
SOURCE_KEYS = {"law", "article", "url", "note"}
BUTTON_KEYS = {"text", "go", "set", "add", "toggle", "if", "call", "flow", "at"}


@dataclass(frozen=True)
class Source:
    """Where a legal statement comes from: law, article and the official text's address.

    `law`, `article` and `note` map a language to its wording ("ja" is always there)."""

    law: Mapping[str, str]
    article: Mapping[str, str]
    url: str
    note: Mapping[str, str] | None = None
    line: int = 0

    def cite(self, lang: str) -> str:
        """"刑法 第182条第2項" / "Penal Code art. 182(2)"."""
        law = self.law.get(lang) or self.law["ja"]
        article = self.article.get(lang) or self.article["ja"]
        return f"{law} {article}".strip()


@dataclass(frozen=True)
class Say:
    """One text of a state, shown when its condition holds."""

    key: str
    when: Condition | None = None
    line: int = 0
    audience: str | None = None
    sources: tuple[Source, ...] = ()


@dataclass(frozen=True)
class Block:
    """A reusable block: contacts for a topic, a checklist, or the memo."""

    kind: str
    arg: str
    audience: str | None = None
    when: Condition | None = None
    line: int = 0
    # contacts: "first" (the best few), "more" (the next few), "more2" (the rest)
    part: str = "first"


@dataclass(frozen=True)
class Choice:
    """A button: its label key, what it remembers, and where it leads."""

    text: str
    go: str | None = None
    set: Mapping[str, Any] = field(default_factory=dict)
    toggle: tuple[str, str] | None = None
    add: tuple[str, str] | None = None
    when: Condition | None = None
    call: str | None = None
    flow: str | None = None
    at: str | None = None
    line: int = 0


@dataclass(frozen=True)
class Ask:
    """Typed input taken into a slot, with simple validation."""

    slot: str
    type: str = "text"
    min: int = 1
    max: int = 2000
    invalid: str | None = None
    line: int = 0


@dataclass(frozen=True)
class Route:
    """One arm of a branch; `when` is None for the final `else`."""

    go: str
    when: Condition | None = None
    line: int = 0


@dataclass(frozen=True)
class State:
    """A step of a flow."""

    name: str
    flow_id: str
    line: int
    say: tuple[Say, ...] = ()
    show: tuple[Block, ...] = ()
    set: Mapping[str, Any] = field(default_factory=dict)
    add: tuple[str, str] | None = None
    buttons: tuple[Choice, ...] = ()
    ask: Ask | None = None
    branch: tuple[Route, ...] = ()
    go: str | None = None
    call: str | None = None
    flow: str | None = None
    at: str | None = None
    end: bool = False
    go_line: int = 0
    audience: str | None = None
    sources: tuple[Source, ...] = ()
    readers: str | None = None

    def says(self) -> tuple[Say, ...]:
        """The say items with the state's own audience and sources folded in."""
        if not self.audience and not self.sources:
            return self.say
        return tuple(Say(s.key, s.when, s.line, s.audience or self.audience,
                         s.sources or self.sources)
                     for s in self.say)

    @property
    def waits(self) -> bool:
        """True when the bot stops here for the person's answer."""
        return bool(self.buttons or self.ask or self.end)

    def targets(self) -> list[str]:
        """Every state of this flow that can follow this one."""
        found = [c.go for c in self.buttons if c.go]
        found += [r.go for r in self.branch]
        if self.go:
            found.append(self.go)
        return [t for t in found if t not in SPECIAL_TARGETS]


@dataclass(frozen=True)
class Flow:
    """A whole flow file."""

    id: str
    title: str
    start: str
    states: Mapping[str, State]
    file: str
    line: int = 1
    readers: str | None = None

    def readers_of(self, state: State) -> str | None:
        """Who the state is written for: its own `readers:`, else the flow's."""
        return state.readers or self.readers


def _line(raw: Any, default: int) -> int:
    return getattr(raw, "line", default)


def _key_line(raw: Any, key: str, default: int) -> int:
    return raw.line_of(key) if hasattr(raw, "line_of") else default


class _Parser:
    def __init__(self, file: str, problems: list[Problem]):
        self.file = file
        self.problems = problems

    def bad(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.file, line, message))

    def cond(self, raw: Any, line: int) -> Condition | None:
        return parse_condition(raw, self.file, line, self.problems) if raw is not None else None

    def text_key(self, raw: Any, line: int, what: str) -> str | None:
        if not isinstance(raw, str) or not raw.strip():
            self.bad(line, f"{what} must be a locale key (like 'after.age.q'), not {raw!r}")
            return None
        return raw

    def slots_map(self, raw: Any, line: int) -> dict[str, Any]:
        if raw is None:
            return {}
        if not isinstance(raw, Mapping):
            self.bad(line, "'set:' needs a mapping like {age: under18}")
            return {}
        for key, value in raw.items():
            if not isinstance(key, str) or not key.isidentifier():
                self.bad(line, f"slot name {key!r} must be a simple word (letters, digits, _)")
            if isinstance(value, (Mapping,)):
                self.bad(line, f"slot {key!r}: a value must be text, a number, a list or null")
        return dict(raw)

    def readers(self, raw: Any, line: int) -> str | None:
        if raw is None:
            return None
        if raw not in READERS:
            self.bad(line, f"'readers:' must be one of {list(READERS)} (a flow or state written "
                     f"for parents and teachers), not {raw!r}")
            return None
        return str(raw)

    def audience(self, raw: Any, line: int) -> str | None:
        if raw is None:
            return None
        if raw not in TEXT_AUDIENCES:
            self.bad(line, f"'audience:' must be one of {list(TEXT_AUDIENCES)} (a text for "
                     f"everyone needs no tag), not {raw!r}")
            return None
        return str(raw)

    def wording(self, raw: Any, line: int, what: str) -> dict[str, str] | None:
        if isinstance(raw, str) and raw.strip():
            return {"ja": raw}
        if isinstance(raw, Mapping) and isinstance(raw.get("ja"), str) \
                and all(isinstance(k, str) and isinstance(v, str) for k, v in raw.items()):
            return dict(raw)
        self.bad(line, f"a source's '{what}:' must be text, or {{ja: ..., en: ...}}, not {raw!r}")
        return None

    def sources(self, raw: Any, line: int) -> tuple[Source, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, list) or not raw:
            self.bad(line, "'sources:' needs a list like [{law: 刑法, article: 第182条, "
                     "url: https://laws.e-gov.go.jp/law/...}]")
            return ()
        found = []
        for i, item in enumerate(raw):
            item_line = raw.line_of(i) if hasattr(raw, "line_of") else line
            if not isinstance(item, Mapping):
                self.bad(item_line,
                         f"a source must be a mapping with law, article and url, not {item!r}")
                continue
            unknown = set(item) - SOURCE_KEYS
            if unknown:
                self.bad(item_line, f"unknown key(s) in a source: {sorted(unknown)}; "
                         f"allowed: {sorted(SOURCE_KEYS)}")
            law = self.wording(item.get("law"), item_line, "law")
            article = self.wording(item.get("article"), item_line, "article")
            note = self.wording(item["note"], item_line, "note") if item.get("note") else None
            url = item.get("url")
            if not isinstance(url, str) or not url.startswith("https://") or " " in url:
                self.bad(item_line, "a source needs 'url:' starting with https:// (the official "
                         "text, e.g. https://laws.e-gov.go.jp/law/140AC0000000045)")
                continue
            if law and article:
                found.append(Source(law, article, url, note, item_line))
        return tuple(found)

    def say(self, raw: Any, line: int) -> tuple[Say, ...]:
        items = raw if isinstance(raw, list) else [raw]
        result = []
        for i, item in enumerate(items):
            item_line = raw.line_of(i) if hasattr(raw, "line_of") else line
            if isinstance(item, Mapping):
                unknown = set(item) - SAY_KEYS
                if unknown:
                    self.bad(item_line, f"unknown key(s) in a say item: {sorted(unknown)}")
                key = self.text_key(item.get("text"), item_line, "a say item's text")
                if key:
                    result.append(Say(key, self.cond(item.get("if"), item_line), item_line,
                                      self.audience(item.get("audience"),
                                                    _key_line(item, "audience", item_line)),
                                      self.sources(item.get("sources"),
                                                   _key_line(item, "sources", item_line))))
            else:
                key = self.text_key(item, item_line, "'say:'")
                if key:
                    result.append(Say(key, None, item_line))
        return tuple(result)

    def show(self, raw: Any, line: int) -> tuple[Block, ...]:
        if not isinstance(raw, list):
            self.bad(line, "'show:' needs a list of blocks, e.g. '- contacts: extortion'")
            return ()
        blocks = []
        for i, item in enumerate(raw):
            item_line = raw.line_of(i) if hasattr(raw, "line_of") else line
            if not isinstance(item, Mapping):
                self.bad(item_line,
                         f"a block must be a mapping like 'contacts: extortion', not {item!r}")
                continue
            kinds = [k for k in BLOCK_KINDS if k in item]
            unknown = set(item) - set(BLOCK_KINDS) - {"if"}
            if len(kinds) != 1 or unknown:
                self.bad(item_line, f"a block needs exactly one of {list(BLOCK_KINDS)}"
                         + (f" (unknown: {sorted(unknown)})" if unknown else ""))
                continue
            kind = kinds[0]
            value = item[kind]
            audience = None
            part = "first"
            if kind == "contacts" and isinstance(value, Mapping):
                audience = value.get("for")
                part = value.get("part", "first")
                value = value.get("topic")
                if audience is not None and audience not in AUDIENCES:
                    self.bad(item_line, f"contacts 'for:' must be one of {sorted(AUDIENCES)}")
                    continue
                if part not in CONTACT_PARTS:
                    self.bad(item_line, f"contacts 'part:' must be one of {list(CONTACT_PARTS)}")
                    continue
            if kind == "contacts" and value not in TOPICS:
                self.bad(item_line,
                         f"unknown contacts topic {value!r}; use one of {sorted(TOPICS)}")
                continue
            if kind == "memo" and value not in ("view", "file"):
                self.bad(item_line, "'memo:' must be 'view' or 'file'")
                continue
            if not isinstance(value, str):
                self.bad(item_line, f"'{kind}:' needs a name")
                continue
            when = self.cond(item.get("if"), item_line)
            blocks.append(Block(kind, value, audience, when, item_line, str(part)))
        return tuple(blocks)

    def toggle(self, raw: Any, line: int) -> tuple[str, str] | None:
        if raw is None:
            return None
        if not isinstance(raw, Mapping) or len(raw) != 1:
            self.bad(line, "'toggle:' and 'add:' need one slot and value, like {happening: threat}")
            return None
        (slot, value), = raw.items()
        return (str(slot), str(value))

    def buttons(self, raw: Any, line: int) -> tuple[Choice, ...]:
        if not isinstance(raw, list) or not raw:
            self.bad(line, "'buttons:' needs a list of at least one button")
            return ()
        result = []
        for i, item in enumerate(raw):
            item_line = raw.line_of(i) if hasattr(raw, "line_of") else line
            if not isinstance(item, Mapping):
                self.bad(item_line,
                         f"a button must be a mapping with 'text:' and 'go:', not {item!r}")
                continue
            unknown = set(item) - BUTTON_KEYS
            if unknown:
                self.bad(item_line, f"unknown key(s) in a button: {sorted(unknown)}")
            key = self.text_key(item.get("text"), item_line, "a button's 'text:'")
            go, call, flow = item.get("go"), item.get("call"), item.get("flow")
            if flow and (go or call):
                self.bad(item_line, "a button with 'flow:' leaves this flow; "
                                    "it cannot also have 'go:' or 'call:'")
            elif not flow and not go:
                self.bad(item_line, "a button needs 'go:' (or 'flow:')")
            if item.get("at") and not flow:
                self.bad(item_line, "'at:' only goes with 'flow:'")
            if key:
                result.append(Choice(
                    text=key, go=go, set=self.slots_map(item.get("set"), item_line),
                    toggle=self.toggle(item.get("toggle"), item_line),
                    add=self.toggle(item.get("add"), item_line),
                    when=self.cond(item.get("if"), item_line), call=call, flow=flow,
                    at=item.get("at"), line=item_line))
        return tuple(result)

    def ask(self, raw: Any, line: int) -> Ask | None:
        if not isinstance(raw, Mapping) or not isinstance(raw.get("slot"), str):
            self.bad(line, "'ask:' needs at least {slot: NAME}")
            return None
        unknown = set(raw) - {"slot", "type", "min", "max", "invalid"}
        if unknown:
            self.bad(line, f"unknown key(s) in 'ask:': {sorted(unknown)}")
        kind = raw.get("type", "text")
        if kind not in ASK_TYPES:
            self.bad(line, f"'ask:' type must be one of {list(ASK_TYPES)}, not {kind!r}")
        low, high = raw.get("min", 1), raw.get("max", 2000)
        if not (isinstance(low, int) and isinstance(high, int) and 0 <= low <= high <= 4000):
            self.bad(line, "'ask:' min and max must be whole numbers with 0 <= min <= max <= 4000")
            low, high = 1, 2000
        return Ask(raw["slot"], kind, low, high, raw.get("invalid"), line)

    def branch(self, raw: Any, line: int) -> tuple[Route, ...]:
        if not isinstance(raw, list) or not raw:
            self.bad(line, "'branch:' needs a list of {if: ..., go: ...} ending with {else: STATE}")
            return ()
        routes = []
        for i, item in enumerate(raw):
            item_line = raw.line_of(i) if hasattr(raw, "line_of") else line
            if isinstance(item, Mapping) and "else" in item:
                if i != len(raw) - 1:
                    self.bad(item_line, "'else:' must be the last arm of a branch")
                routes.append(Route(str(item["else"]), None, item_line))
            elif isinstance(item, Mapping) and "if" in item and "go" in item:
                cond = self.cond(item["if"], item_line)
                if cond:
                    routes.append(Route(str(item["go"]), cond, item_line))
            else:
                self.bad(item_line, "a branch arm is {if: CONDITION, go: STATE} or {else: STATE}")
        if routes and routes[-1].when is not None:
            self.bad(line, "a branch must end with {else: STATE}, so it always leads somewhere")
        return tuple(routes)

    def state(self, flow_id: str, name: str, raw: Any, line: int) -> State | None:
        if not isinstance(raw, Mapping):
            self.bad(line, f"state '{name}' must be a mapping")
            return None
        unknown = set(raw) - STATE_KEYS
        if unknown:
            self.bad(line, f"state '{name}': unknown key(s) {sorted(unknown)}; "
                     f"allowed: {sorted(STATE_KEYS)}")
        kl = lambda key: _key_line(raw, key, line)  # noqa: E731
        ways = [k for k in ("buttons", "branch", "flow", "end") if raw.get(k)]
        if raw.get("ask"):
            ways.append("ask")
        elif raw.get("call"):
            ways.append("call")
        elif raw.get("go") and not raw.get("buttons"):
            ways.append("go")
        if raw.get("ask") and raw.get("call"):
            self.bad(line, f"state '{name}' cannot both ask and call")
        if "ask" in ways and "buttons" in ways:
            ways.remove("buttons")  # an ask may offer buttons too (skip, clear)
        if not ways:
            self.bad(line, f"state '{name}' has no way on: give it buttons, ask+go, branch, "
                     "go, call+go, flow, or end: true")
        elif len(ways) > 1:
            self.bad(line, f"state '{name}' has more than one way on ({', '.join(ways)}); keep one")
        if (raw.get("ask") or raw.get("call")) and not raw.get("go"):
            self.bad(line, f"state '{name}': 'ask:' and 'call:' need 'go:' for what comes next")
        if raw.get("buttons") and raw.get("go") and not raw.get("ask"):
            self.bad(kl("go"), f"state '{name}': 'go:' is only for states without buttons")
        if raw.get("at") and not raw.get("flow"):
            self.bad(kl("at"), f"state '{name}': 'at:' only goes with 'flow:'")
        end = raw.get("end", False)
        if end not in (True, False):
            self.bad(kl("end"), f"state '{name}': 'end:' must be true")
        return State(
            name=name, flow_id=flow_id, line=line,
            say=self.say(raw["say"], kl("say")) if "say" in raw else (),
            show=self.show(raw["show"], kl("show")) if "show" in raw else (),
            set=self.slots_map(raw.get("set"), kl("set")),
            add=self.toggle(raw.get("add"), kl("add")),
            buttons=self.buttons(raw["buttons"], kl("buttons")) if raw.get("buttons") else (),
            ask=self.ask(raw["ask"], kl("ask")) if raw.get("ask") else None,
            branch=self.branch(raw["branch"], kl("branch")) if raw.get("branch") else (),
            go=raw.get("go"), call=raw.get("call"), flow=raw.get("flow"), at=raw.get("at"),
            end=end is True, go_line=kl("go"),
            audience=self.audience(raw.get("audience"), kl("audience")),
            sources=self.sources(raw.get("sources"), kl("sources")),
            readers=self.readers(raw.get("readers"), kl("readers")))


def parse_flow(raw: Any, file: str, expected_id: str, problems: list[Problem]) -> Flow | None:
    """Build a Flow from a parsed YAML document, checking what one file can show."""
    p = _Parser(file, problems)
    if not isinstance(raw, Mapping):
        p.bad(1, "a flow file must be a mapping with id, title, start and states")
        return None
    unknown = set(raw) - {"id", "title", "start", "states", "description", "readers"}
    if unknown:
        p.bad(_line(raw, 1), f"unknown top-level key(s) {sorted(unknown)}")
    for key in ("id", "title", "start", "states"):
        if key not in raw:
            p.bad(_line(raw, 1), f"the flow needs '{key}:'")
    if raw.get("id") != expected_id:
        p.bad(_key_line(raw, "id", 1),
              f"'id: {raw.get('id')}' must match the file name ({expected_id})")
    states_raw = raw.get("states")
    if not isinstance(states_raw, Mapping) or not states_raw:
        p.bad(_key_line(raw, "states", 1), "'states:' must map state names to states")
        return None
    states: dict[str, State] = {}
    for name, body in states_raw.items():
        line = _key_line(states_raw, name, 1)
        if (not isinstance(name, str) or not name.replace("_", "a").isalnum()
                or name.startswith("@")):
            p.bad(line, f"state name {name!r} must be letters, digits and _")
            continue
        state = p.state(expected_id, name, body, line)
        if state:
            states[name] = state
    start = raw.get("start")
    if start not in states:
        p.bad(_key_line(raw, "start", 1), f"start state '{start}' is not defined in this flow")
    flow = Flow(expected_id, str(raw.get("title", "")), str(start), states, file, _line(raw, 1),
                p.readers(raw.get("readers"), _key_line(raw, "readers", 1)))
    _check_targets(flow, p)
    return flow


def _check_targets(flow: Flow, p: _Parser) -> None:
    for state in flow.states.values():
        arms: list[tuple[str | None, int]] = [(c.go, c.line) for c in state.buttons]
        arms += [(r.go, r.line) for r in state.branch] + [(state.go, state.go_line or state.line)]
        for target, line in arms:
            if target and target not in flow.states and target not in SPECIAL_TARGETS:
                p.bad(line, f"state '{state.name}' leads to '{target}', which is not a state "
                      f"of flow '{flow.id}'")


def reachable_states(flow: Flow, entries: set[str]) -> set[str]:
    """States reachable from the start and from the given entry states."""
    seen: set[str] = set()
    todo = [flow.start, *entries]
    while todo:
        name = todo.pop()
        if name in seen or name not in flow.states:
            continue
        seen.add(name)
        todo.extend(flow.states[name].targets())
    return seen
