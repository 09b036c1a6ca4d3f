"""The shape of the flows for people who review them: links between flows, conditions
in words, and a Mermaid state diagram of one flow.

The diagram is written here rather than by `transitions`' own Mermaid backend
(`transitions.extensions.diagrams`, graph_engine="mermaid"): for our machines that
backend labels every edge `go_<state>` or `decide` (the branch conditions are
lambdas, so they vanish), marks no end states, knows nothing of sub-flows, uses raw
state names as Mermaid ids (a state called `end` or `note` breaks the diagram) and
writes a `--- title ---` header that is not valid front matter.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ..content._conditions import TIME_WINDOWS, Condition
from ..content._flows import Flow
from ..content._loader import MENU_FLOW, Content

# Flows the engine itself runs as sub-flows: the /memo and /contacts commands call
# them from wherever the person is, and their end returns there (see _engine._command).
ENGINE_CALLS = {"memo": "/memo", "contacts_now": "/contacts"}
SPECIAL_WORDS = {"@menu": "the main menu", "@back": "the step before"}
EDGE_LABEL_MAX = 60  # characters of one edge label in a diagram; the scripts have the rest


@dataclass(frozen=True)
class Link:
    """One way from a flow into another: a button or state that calls or hands over."""

    kind: str  # "call" (a sub-flow: comes back), "flow" (hands over), "intent" (typed text)
    source: str  # flow id ("" for intent routes)
    state: str  # state name in the source flow, or the intent's name
    target: str  # flow id
    at: str | None = None  # entry state in the target, when not its start
    label: str | None = None  # locale key of the button, when a button
    then: str | None = None  # for calls: where the source goes on afterwards
    file: str = ""
    line: int = 0


def flow_links(content: Content) -> list[Link]:
    """Every call, hand-over and intent route between flows, in file order."""
    links: list[Link] = []
    for flow in content.flows.values():
        for state in flow.states.values():
            if state.call:
                links.append(Link("call", flow.id, state.name, state.call, None, None, state.go,
                                  flow.file, state.line))
            if state.flow:
                links.append(Link("flow", flow.id, state.name, state.flow, state.at, None, None,
                                  flow.file, state.line))
            for choice in state.buttons:
                if choice.call:
                    links.append(Link("call", flow.id, state.name, choice.call, None, choice.text,
                                      choice.go, flow.file, choice.line))
                if choice.flow:
                    links.append(Link("flow", flow.id, state.name, choice.flow, choice.at,
                                      choice.text, None, flow.file, choice.line))
    for route in content.intent_routes:
        links.append(Link("intent", "", route.intent, route.flow, route.at, None, None,
                          "flows/blocks.yaml", 1))
    return links


def called_flows(content: Content) -> dict[str, list[str]]:
    """Flows run as sub-flows, each with who runs it ("flow/state" or a command)."""
    callers: dict[str, list[str]] = {}
    for link in flow_links(content):
        if link.kind == "call":
            callers.setdefault(link.target, []).append(f"{link.source}/{link.state}")
    for flow_id, command in ENGINE_CALLS.items():
        if flow_id in content.flows:
            callers.setdefault(flow_id, []).append(command)
    return callers


def subflow_only(content: Content) -> set[str]:
    """Flows that are only ever run as sub-flows: nothing hands over to them for good."""
    entered = {link.target for link in flow_links(content) if link.kind in ("flow", "intent")}
    return set(called_flows(content)) - entered - {MENU_FLOW}


# ---- conditions in words ---------------------------------------------------------------
def _plain(name: object) -> str:
    return str(name)


def words(cond: Condition, quote: Callable[[object], str] = _plain) -> str:
    """A condition as a reader would say it: "age is under18 and happening includes threat"."""
    return _words(cond, quote, negate=False, top=True)


def _window(value: str) -> str:
    start, end = TIME_WINDOWS[value]
    return f"{value.replace('_', ' ')} ({start:02d}:00–{end:02d}:00, Japan time)"


def _words(cond: Condition, q: Callable[[object], str], negate: bool, top: bool) -> str:
    op = cond.op
    if op == "not":
        return _words(cond.parts[0], q, not negate, top)
    if op in ("all", "any"):
        if negate:
            inner = _words(cond, q, negate=False, top=True)
            return f"not ({inner})"
        joiner = " and " if op == "all" else " or "
        slots = {p.slot for p in cond.parts}
        if len(cond.parts) > 2 and len(slots) == 1 and all(p.op == "has" for p in cond.parts):
            values = ", ".join(q(p.value) for p in cond.parts)  # one list slot: say it once
            text = f"{q(cond.parts[0].slot)} includes {'all' if op == 'all' else 'any'} of {values}"
            return text if top else f"({text})"
        text = joiner.join(_words(p, q, False, top=False) for p in cond.parts)
        return text if top else f"({text})"
    if op == "time":
        return f"it is {'not ' if negate else ''}{_window(cond.value)}"
    slot = q(cond.slot)
    if op == "is":
        return f"{slot} is {'not ' if negate else ''}{q(cond.value)}"
    if op == "in":
        values = ", ".join(q(v) for v in cond.value)
        return f"{slot} is {'none' if negate else 'one'} of {values}"
    if op == "has":
        return f"{slot} {'does not include' if negate else 'includes'} {q(cond.value)}"
    answered = bool(cond.value) != negate
    return f"{slot} {'is answered' if answered else 'is not answered'}"


# ---- the Mermaid diagram ---------------------------------------------------------------
def mermaid_id(prefix: str, name: str) -> str:
    """An id Mermaid accepts whatever the name (state names like `end` are keywords)."""
    return prefix + re.sub(r"[^A-Za-z0-9_]", "_", name)


_UNSAFE = str.maketrans({
    ";": ",", "#": "＃", "%": "％", '"': "'", "{": "(", "}": ")", "<": "‹", ">": "›",
    ":": "：", "\n": " ", "\r": " ", "`": "'", "|": "/",
})


def _label(text: str, limit: int = EDGE_LABEL_MAX) -> str:
    text = " ".join(text.translate(_UNSAFE).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _say(content: Content, key: str, lang: str | None) -> str:
    return content.locales.text(lang, key) if lang else key


def _edges(content: Content, flow: Flow, lang: str | None) -> Iterator[tuple[str, str, str]]:
    def s(name: str) -> str:
        if name in ("@menu", "@back"):
            return mermaid_id("x_", name[1:])
        if name == "@return":
            return "[*]"
        return mermaid_id("s_", name)

    for state in flow.states.values():
        me = s(state.name)
        for choice in state.buttons:
            label = _say(content, choice.text, lang)
            if choice.toggle:
                label = f"☑ {label}"
            if choice.when is not None:
                label += f" (if {words(choice.when)})"
            if choice.flow:
                at = f" at {choice.at}" if choice.at else ""
                yield me, mermaid_id("f_", choice.flow), label + at
            elif choice.call:
                yield me, mermaid_id("f_", choice.call), label
                yield me, s(choice.go or "@menu"), f"after {choice.call}"
            elif choice.go:
                yield me, s(choice.go), label
        for route in state.branch:
            yield me, s(route.go), f"if {words(route.when)}" if route.when else "otherwise"
        if state.ask and state.go:
            yield me, s(state.go), f"typed answer → {state.ask.slot}"
        elif state.call:
            yield me, mermaid_id("f_", state.call), "runs"
            yield me, s(state.go or "@menu"), f"after {state.call}"
        elif state.flow:
            yield me, mermaid_id("f_", state.flow), f"at {state.at}" if state.at else ""
        elif state.go and not state.buttons and not state.branch:
            yield me, s(state.go), ""
        if state.end:
            yield me, "[*]", ""


def render_graph(content: Content, flow_id: str, lang: str | None = None) -> str:
    """A Mermaid `stateDiagram-v2` of one flow; edge labels are locale keys, or texts in `lang`."""
    flow = content.flows[flow_id]
    lines = ["stateDiagram-v2"]
    for state in flow.states.values():
        lines.append(f'    state "{_label(state.name)}" as {mermaid_id("s_", state.name)}')
    others: dict[str, str] = {}
    for link in flow_links(content):
        if link.source == flow.id:
            verb = "sub-flow" if link.kind == "call" else "flow"
            others.setdefault(mermaid_id("f_", link.target), f"{verb} {link.target}")
    specials = {t for st in flow.states.values() for t in _targets(st)} & {"@menu", "@back"}
    for name in sorted(specials):
        others[mermaid_id("x_", name[1:])] = SPECIAL_WORDS[name]
    for node, text in others.items():
        lines.append(f'    state "{_label(text)}" as {node}')
    lines.append(f"    [*] --> {mermaid_id('s_', flow.start)}")
    for entry in sorted({link.at for link in flow_links(content)
                         if link.target == flow.id and link.at and link.at != flow.start}):
        lines.append(f"    [*] --> {mermaid_id('s_', entry)}: way in")
    merged: dict[tuple[str, str], list[str]] = {}
    for src, dst, label in _edges(content, flow, lang):
        labels = merged.setdefault((src, dst), [])
        if label and _label(label) not in labels:
            labels.append(_label(label))
    for (src, dst), labels in merged.items():
        text = _label(" / ".join(labels), EDGE_LABEL_MAX * 2)
        lines.append(f"    {src} --> {dst}: {text}" if text else f"    {src} --> {dst}")
    decisions = [mermaid_id("s_", st.name) for st in flow.states.values() if st.branch]
    if decisions:
        lines.append("    classDef decision fill:#fff5d6,stroke:#b38f00")
        lines.append(f"    class {', '.join(decisions)} decision")
    if others:
        lines.append("    classDef elsewhere fill:#e8f0fe,stroke:#4a6fa5")
        lines.append(f"    class {', '.join(others)} elsewhere")
    return "\n".join(lines) + "\n"


def _targets(state) -> list[str]:
    found = [c.go for c in state.buttons if c.go and not c.flow]
    found += [r.go for r in state.branch]
    if state.go:
        found.append(state.go)
    return found
