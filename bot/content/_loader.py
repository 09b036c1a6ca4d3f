"""Load and validate all content (flows, blocks, locales, contacts) before anyone is answered."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._errors import ContentError, Problem
from ._flows import Flow, State, parse_flow, reachable_states
from ._locales import Locales, load_locales
from ._machines import FlowMachine
from ._yamlsrc import SrcDict, SrcList, load_yaml

MENU_FLOW = "menu"
ENGINE_SLOTS = {"age"}  # read by the engine itself (contacts adapt to age)


@dataclass(frozen=True)
class Checklist:
    """A reusable checklist: a list slot and its items (id → locale key)."""

    name: str
    slot: str
    items: Mapping[str, str]


@dataclass(frozen=True)
class IntentRoute:
    """Where typed free text goes once the person confirms what the bot understood."""

    intent: str
    flow: str
    at: str | None
    toggle: tuple[str, str] | None


@dataclass
class Content:
    """Everything the engine needs, validated."""

    root: Path
    flows: dict[str, Flow]
    locales: Locales
    checklists: dict[str, Checklist] = field(default_factory=dict)
    memo_fields: list[str] = field(default_factory=list)
    intent_routes: list[IntentRoute] = field(default_factory=list)
    directory: Any = None
    crisis: Any = None
    intents: Any = None
    machines: dict[str, FlowMachine] = field(default_factory=dict)

    def state(self, flow: str, state: str) -> State:
        return self.flows[flow].states[state]


def _display(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def _load_blocks(path: Path, root: Path, problems: list[Problem]) -> tuple[dict, list, list]:
    checklists: dict[str, Checklist] = {}
    memo_fields: list[str] = []
    routes: list[IntentRoute] = []
    if not path.exists():
        return checklists, memo_fields, routes
    name = _display(path, root)
    data = load_yaml(path, name) or {}
    if not isinstance(data, Mapping):
        problems.append(Problem(name, 1,
                                "blocks.yaml must be a mapping (checklists:, memo:, intents:)"))
        return checklists, memo_fields, routes
    for key, kind, wanted in (("checklists", Mapping, "a mapping of checklists"),
                              ("memo", Mapping, "a mapping with 'fields:'"),
                              ("intents", list, "a list of intent routes")):
        if data.get(key) is not None and not isinstance(data[key], kind):
            line = data.line_of(key) if isinstance(data, SrcDict) else 1
            problems.append(Problem(name, line, f"'{key}:' must be {wanted}"))
            return checklists, memo_fields, routes
    for cname, body in (data.get("checklists") or {}).items():
        line = data["checklists"].line_of(cname)
        if not isinstance(body, Mapping) or not isinstance(body.get("slot"), str) \
                or not isinstance(body.get("items"), Mapping) or not body["items"]:
            problems.append(Problem(name, line, f"checklist '{cname}' needs 'slot:' and "
                                                "'items:' (id: locale key)"))
            continue
        items = {str(k): str(v) for k, v in body["items"].items()}
        checklists[cname] = Checklist(cname, body["slot"], items)
    memo = data.get("memo") or {}
    fields = memo.get("fields") if isinstance(memo, Mapping) else None
    if memo and not isinstance(fields, list):
        problems.append(Problem(name, getattr(memo, "line", 1),
                                "'memo:' needs 'fields:' (a list of slots)"))
    memo_fields = [str(f) for f in fields or []]
    for i, item in enumerate(data.get("intents") or []):
        line = data["intents"].line_of(i)
        if not isinstance(item, Mapping) or not item.get("intent") or not item.get("flow"):
            problems.append(Problem(name, line, "an intent route needs 'intent:' and 'flow:'"))
            continue
        toggle = item.get("toggle")
        pair = (next(iter(toggle.items()))
                if isinstance(toggle, Mapping) and len(toggle) == 1 else None)
        if toggle and pair is None:
            problems.append(Problem(name, line, "'toggle:' needs one slot and value"))
        routes.append(IntentRoute(str(item["intent"]), str(item["flow"]), item.get("at"),
                                  (str(pair[0]), str(pair[1])) if pair else None))
    return checklists, memo_fields, routes


def load_content(root: Path | str = ".", *, with_directory: bool = True) -> Content:
    """Load flows/, locales/ and contacts/ under root; raise ContentError listing every problem."""
    root = Path(root).resolve()
    problems: list[Problem] = []
    flows: dict[str, Flow] = {}
    flow_dir = root / "flows"
    for path in sorted(flow_dir.glob("*.yaml")):
        if path.name == "blocks.yaml":
            continue
        name = _display(path, root)
        try:
            raw = load_yaml(path, name)
        except ContentError as exc:
            problems.extend(exc.problems)
            continue
        flow = parse_flow(raw, name, path.stem, problems)
        if flow:
            flows[flow.id] = flow
    try:
        checklists, memo_fields, routes = _load_blocks(flow_dir / "blocks.yaml", root, problems)
    except ContentError as exc:
        problems.extend(exc.problems)
        checklists, memo_fields, routes = {}, [], []
    try:
        locales = load_locales(root / "locales", display_root=root)
    except ContentError as exc:
        problems.extend(exc.problems)
        locales = None
    content = Content(root, flows, locales, checklists, memo_fields, routes)  # type: ignore[arg-type]
    if MENU_FLOW not in flows and not any(p.file.endswith(f"{MENU_FLOW}.yaml") for p in problems):
        problems.append(Problem(str(flow_dir), 1,
                                f"there must be a '{MENU_FLOW}' flow (flows/{MENU_FLOW}.yaml)"))
    _check_across(content, problems)
    if locales is not None:
        _attach_safety(content, problems)
    if with_directory:  # checked even when the texts are broken: lint names every problem
        _attach_directory(content, problems)
    if problems:
        raise ContentError(problems)
    content.machines = {fid: FlowMachine(flow) for fid, flow in flows.items()}
    return content


def used_keys(content: Content) -> Iterable[tuple[str, str, int]]:
    """Every locale key content refers to, with where: (key, file, line)."""
    for flow in content.flows.values():
        yield flow.title, flow.file, flow.line
        for state in flow.states.values():
            for say in state.say:
                yield say.key, flow.file, say.line
            for choice in state.buttons:
                yield choice.text, flow.file, choice.line
            if state.ask and state.ask.invalid:
                yield state.ask.invalid, flow.file, state.ask.line
    for checklist in content.checklists.values():
        for key in checklist.items.values():
            yield key, "flows/blocks.yaml", 1
    for slot in content.memo_fields:
        yield f"memo.field.{slot}", "flows/blocks.yaml", 1


def slots_written(content: Content) -> set[str]:
    """Slots that some state, button, ask, checklist or intent route can fill."""
    found = set(ENGINE_SLOTS)
    for flow in content.flows.values():
        for state in flow.states.values():
            found |= set(state.set)
            if state.add:
                found.add(state.add[0])
            if state.ask:
                found.add(state.ask.slot)
            for choice in state.buttons:
                found |= set(choice.set)
                for pair in (choice.toggle, choice.add):
                    if pair:
                        found.add(pair[0])
    found |= {c.slot for c in content.checklists.values()}
    found |= {r.toggle[0] for r in content.intent_routes if r.toggle}
    return found


def _check_flow_ref(content: Content, target: str | None, at: str | None, file: str, line: int,
                    problems: list[Problem], entries: dict[str, set[str]]) -> None:
    if target is None:
        return
    if target not in content.flows:
        problems.append(Problem(file, line, f"there is no flow '{target}' (flows/{target}.yaml)"))
        return
    if at is not None:
        if at not in content.flows[target].states:
            problems.append(Problem(file, line, f"flow '{target}' has no state '{at}'"))
        else:
            entries[target].add(at)


def _check_across(content: Content, problems: list[Problem]) -> None:
    entries: dict[str, set[str]] = {fid: set() for fid in content.flows}
    for flow in content.flows.values():
        for state in flow.states.values():
            _check_flow_ref(content, state.call, None, flow.file, state.line, problems, entries)
            _check_flow_ref(content, state.flow, state.at, flow.file, state.line, problems, entries)
            for choice in state.buttons:
                _check_flow_ref(content, choice.call, None, flow.file, choice.line,
                                problems, entries)
                _check_flow_ref(content, choice.flow, choice.at, flow.file, choice.line,
                                problems, entries)
            for block in state.show:
                if block.kind == "checklist" and block.arg not in content.checklists:
                    said = f"there is no checklist '{block.arg}' in flows/blocks.yaml"
                    problems.append(Problem(flow.file, block.line, said))
    for route in content.intent_routes:
        _check_flow_ref(content, route.flow, route.at, "flows/blocks.yaml", 1, problems, entries)
    for flow in content.flows.values():
        reach = reachable_states(flow, entries.get(flow.id, set()))
        for name, state in flow.states.items():
            if name not in reach:
                problems.append(Problem(flow.file, state.line,
                                        f"state '{name}' can never be reached in flow '{flow.id}'"))
    known = slots_written(content)
    for flow in content.flows.values():
        for state in flow.states.values():
            conds = [s.when for s in state.say] + [c.when for c in state.buttons]
            conds += [r.when for r in state.branch] + [b.when for b in state.show]
            for cond in conds:
                for slot in (cond.slots_read() if cond else ()):
                    if slot not in known:
                        problems.append(Problem(flow.file, state.line,
                                                f"state '{state.name}' checks slot '{slot}', "
                                                "which nothing ever sets"))
    if content.locales is not None:
        for key, file, line in used_keys(content):
            if not content.locales.has(key):
                problems.append(Problem(file, line, f"locale key '{key}' is missing in locales/"))


def _attach_safety(content: Content, problems: list[Problem]) -> None:
    """Crisis words and free-text intents (their rules live in locales)."""
    from ..safety._crisis import CrisisDetector, RuleError
    from ..safety._intents import IntentDetector
    from ..safety._textmatch import PatternError

    values = content.locales.values
    try:
        content.crisis = CrisisDetector.from_locale_values(values)
    except RuleError as exc:  # a counsellor's typo: name the file and line, never a traceback
        file, line = content.locales.where.get((exc.lang, exc.key), ("locales", 1))
        item = content.locales.values.get(exc.lang, {}).get(exc.key)
        if exc.index is not None and isinstance(item, SrcList):
            line = item.line_of(exc.index)
        problems.append(Problem(file, line, f"{exc.key}: {exc.message}"))
    except PatternError as exc:
        problems.extend(_pattern_problems(content, "crisis.", f"crisis rules: {exc}"))
    try:
        content.intents = IntentDetector.from_locale_values(values)
    except PatternError as exc:
        problems.extend(_pattern_problems(content, "intents.", f"intents: {exc}"))


def _pattern_problems(content: Content, prefix: str, fallback: str) -> list[Problem]:
    """Each keyword under ``prefix`` that cannot be compiled, at its own file and line."""
    from ..safety._textmatch import PatternError, pattern_atoms

    found = []
    for lang, table in content.locales.values.items():
        for key, value in table.items():
            if not key.startswith(prefix) or not isinstance(value, list):
                continue
            for index, item in enumerate(value):
                try:
                    pattern_atoms(str(item))
                except PatternError as exc:
                    file, line = content.locales.where.get((lang, key), ("locales", 1))
                    line = value.line_of(index) if hasattr(value, "line_of") else line
                    found.append(Problem(file, line, f"{key}: {exc}"))
    return found or [Problem("locales", 1, fallback)]


def _attach_directory(content: Content, problems: list[Problem]) -> None:
    """The contact directory: contacts/*.yaml."""
    from ..safety._contacts import ContactDirectory, DirectoryError

    paths = sorted((content.root / "contacts").glob("*.yaml"))
    try:
        content.directory = ContactDirectory.load(paths)
    except DirectoryError as exc:
        # The load stops at the first mistake; read again to name every one, each once.
        from ..safety._contactfile import directory_problems

        found = {(e.file, e.line, e.problem) for e in directory_problems(paths)}
        found.add((exc.file, exc.line, exc.problem))
        problems.extend(Problem(_display(Path(file), content.root), line, message)
                        for file, line, message in sorted(found))
