"""`kakekomi lint`: every content check, as a list of problems with file and line.

First everything `load_content` checks (the bot refuses to start on any of it). When
the content loads, the authoring checks below run too. Each is an error (the bot
would misbehave: exit 1) or a `LintWarning` (worth a look, printed, exit 0); the
limits are the constants here and are explained in docs/authoring.md.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from .._errors import ContentError, Problem
from ..answers import utf16_len
from ..content._loader import MENU_FLOW, Content, load_content, used_keys
from ._audience import NOT_ADULT, adult_only_keys, analyse_ages, exposures
from ._graph import called_flows, flow_links, subflow_only
from ._readability import MESSAGE_LIMIT, law_mentions, long_messages, unglossed_words

# Telegram refuses a message longer than 4096 characters (counted in UTF-16 code units);
# https://core.telegram.org/bots/api#sendmessage. Error.
TELEGRAM_TEXT_LIMIT = 4096
# One text longer than a whole message may be (bot/_readability.py MESSAGE_LIMIT: about a
# phone screen and a bit) is hard to take in at once: split it into two steps. Warning.
PHONE_TEXT_LIMIT = dict(MESSAGE_LIMIT)
# A button on its own row shows about this much on a phone before Telegram cuts it with "…".
BUTTON_LABEL_LIMIT = {"ja": 24, "en": 40}
# Buttons a state may offer; the bot adds its own row (back + menu) under them. Warning.
MAX_BUTTONS = 8
# Locale keys the engine and channels look up by a computed name, not from flows:
# a key under these prefixes is never reported as unused. Add a prefix here when new
# code looks texts up by a computed key (like memo.value.<slot>.<item>).
USED_BY_CODE = ("engine.", "commands.", "crisis.", "intents.", "contacts.", "memo.", "common.",
                "lang.", "web.")
# Flows that need not lead to any contacts: the menu (it offers "contacts now" itself)
# and the memo (a form). Flows only ever run as sub-flows are exempt too: their caller is checked.
CONTACTS_EXEMPT = (MENU_FLOW, "memo")


@dataclass(frozen=True)
class LintWarning(Problem):
    """Worth a look, but the bot works: printed by `kakekomi lint`, which still exits 0."""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: warning: {self.message}"


def is_error(problem: Problem) -> bool:
    return not isinstance(problem, LintWarning)


def lint(root: Path) -> list[Problem]:
    """Check every file against its schema, then load everything the bot loads at start and
    report what is wrong; errors first. A loader problem on a line the schema check already
    named is left out (one mistake, one line)."""
    root = Path(root).resolve()
    try:
        found: list[Problem] = schema_problems(root)
    except Exception as exc:  # noqa: BLE001 - the loader's checks still run
        found = [_crashed("the schema check", root, exc)]
    named = {(p.file, p.line) for p in found if is_error(p)}
    try:
        content = load_content(root)
    except ContentError as exc:
        found += [p for p in exc.problems if (p.file, p.line) not in named]
        return sorted(found, key=lambda p: (not is_error(p), p.file, p.line, p.message))
    except Exception as exc:  # noqa: BLE001 - a check kakekomi lacks: still a report, no traceback
        return [*found, _crashed("loading the content", root, exc)]
    for check in (_locale_texts, _buttons, _subflow_ends, _contacts, _audiences):
        try:
            found.extend(check(content))
        except Exception as exc:  # noqa: BLE001 - the other checks still run
            found.append(_crashed(check.__name__.strip("_").replace("_", " "), root, exc))
    return sorted(found, key=lambda p: (not is_error(p), p.file, p.line, p.message))


def _crashed(what: str, root: Path, exc: Exception) -> Problem:
    """A content shape no check foresaw made a check fail: say so as one problem (exit 1)."""
    return Problem(str(root), 1, f"lint could not finish {what} ({type(exc).__name__}): some "
                   "content has a shape kakekomi does not expect; please report this with "
                   "the file you changed last")


def run_lint(root: Path, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Print every problem and warning; the exit status is 1 only when there are errors."""
    problems = lint(root)
    errors = [p for p in problems if is_error(p)]
    for problem in problems:
        print(problem, file=out)
    if errors:
        print(f"{len(errors)} problem(s), {len(problems) - len(errors)} warning(s).", file=err)
        return 1
    if problems:
        print(f"No errors; {len(problems)} warning(s) worth a look.", file=err)
        return 0
    print("All flows, locales and contacts are valid.", file=out)
    return 0


def _limit(table: dict[str, int], lang: str) -> int:
    return table.get(lang, table["en"])


# ---- texts ---------------------------------------------------------------------------
def _locale_texts(content: Content) -> Iterator[Problem]:
    """Unused keys, and texts too long for Telegram or for a phone screen."""
    locales = content.locales
    used = {key for key, _, _ in used_keys(content)}
    for key in sorted(locales.keys()):
        if key not in used and not key.startswith(USED_BY_CODE):
            file, line = locales.where[(locales.default, key)]
            yield LintWarning(file, line, f"'{key}' is not used by any flow; remove it "
                              "(in every language), or use it in a flow")
    for lang, table in locales.values.items():
        for key, value in table.items():
            if not isinstance(value, str):
                continue
            file, line = locales.where[(lang, key)]
            if utf16_len(value) > TELEGRAM_TEXT_LIMIT:
                yield Problem(file, line, f"'{key}' is {utf16_len(value)} characters long; "
                              f"Telegram refuses messages over {TELEGRAM_TEXT_LIMIT}: "
                              "split it in two")
            elif len(value) > _limit(PHONE_TEXT_LIMIT, lang):
                yield LintWarning(file, line, f"'{key}' is {len(value)} characters long, more than "
                                  f"fits on a phone screen ({_limit(PHONE_TEXT_LIMIT, lang)} for "
                                  f"'{lang}'): split it over two steps, or shorten it")


def _button_keys(content: Content) -> dict[str, tuple[str, str, int]]:
    keys: dict[str, tuple[str, str, int]] = {}
    for flow in content.flows.values():
        for state in flow.states.values():
            for choice in state.buttons:
                keys.setdefault(choice.text, (f"{flow.id}/{state.name}", flow.file, choice.line))
    from ..engine._turn import NAV_LABELS

    for key in NAV_LABELS.values():
        keys.setdefault(key, ("the engine's buttons", "bot/_turn.py", 1))
    return keys


def _buttons(content: Content) -> Iterator[Problem]:
    """Labels too long for a phone, and states with more buttons than fit."""
    locales = content.locales
    for key, (where, _, _) in sorted(_button_keys(content).items()):
        for lang in locales.languages:
            label = locales.raw(lang, key)
            if not isinstance(label, str) or (lang, key) not in locales.where:
                continue
            limit = _limit(BUTTON_LABEL_LIMIT, lang)
            if len(label) > limit:
                file, line = locales.where[(lang, key)]
                yield LintWarning(file, line, f"button label '{key}' ({where}) is {len(label)} "
                                  f"characters; a phone shows about {limit} for '{lang}' "
                                  "before cutting it off")
    for flow in content.flows.values():
        for state in flow.states.values():
            if len(state.buttons) > MAX_BUTTONS:
                yield LintWarning(flow.file, state.line, f"state '{state.name}' has "
                                  f"{len(state.buttons)} buttons (the bot adds back and menu); "
                                  f"more than {MAX_BUTTONS} do not fit on a phone: "
                                  "split it into two steps")


# ---- how flows end -------------------------------------------------------------------
def _returns(state: Any) -> bool:
    return state.end or state.go == "@return" or any(c.go == "@return" for c in state.buttons)


def _subflow_ends(content: Content) -> Iterator[Problem]:
    """A flow run as a sub-flow must be able to end, or its callers never go on."""
    callers = called_flows(content)
    for flow in content.flows.values():
        if flow.id in callers and not any(_returns(s) for s in flow.states.values()):
            by = ", ".join(callers[flow.id])
            yield Problem(flow.file, flow.line, f"flow '{flow.id}' is run as a sub-flow (by {by}) "
                          "but never ends: give a state 'end: true' so the person comes back")
        elif flow.id not in callers:
            for state in flow.states.values():
                if _returns(state) and not state.end:
                    yield LintWarning(flow.file, state.line, f"state '{state.name}' goes to "
                                      f"@return, but flow '{flow.id}' is never run as a sub-flow: "
                                      "it will go to the main menu (write @menu)")


# ---- contacts --------------------------------------------------------------------------
def _contacts(content: Content) -> Iterator[Problem]:
    """Every topic flow offers contacts: in itself, or in a flow it runs or leads to."""
    exempt = set(CONTACTS_EXEMPT) | subflow_only(content)
    onward: dict[str, set[str]] = {}
    for link in flow_links(content):
        if link.kind != "intent" and link.target != MENU_FLOW:
            onward.setdefault(link.source, set()).add(link.target)
    offers = {flow.id for flow in content.flows.values()
              if any(b.kind == "contacts" for s in flow.states.values() for b in s.show)}
    for flow in content.flows.values():
        if flow.id in exempt:
            continue
        seen, todo = set(), [flow.id]
        while todo:
            current = todo.pop()
            if current not in seen:
                seen.add(current)
                todo.extend(onward.get(current, ()))
        if not seen & offers:
            yield Problem(flow.file, flow.line, f"flow '{flow.id}' never shows contacts: add a "
                          "'show: [contacts: TOPIC]' block where the person may need help, "
                          "or a button to the contacts_now flow")


# ---- who may read what (issue 14) ---------------------------------------------------------
# Locale keys that hold keyword rules, not words anyone reads.
NOT_SHOWN = ("crisis.concepts.", "crisis.rules.", "crisis.urgent", "crisis.exclusions", "intents.")


def minor_facing_keys(content: Content, ages: Any) -> set[str]:
    """Keys a person under 18 (or of unknown age) may see: any text a non-adult path shows,
    every button label there, flow titles, and the engine's own words."""
    used_in_flows = {key for key, _, _ in used_keys(content)}
    found = {key for key in content.locales.keys()
             if key not in used_in_flows and not key.startswith(NOT_SHOWN)}
    found |= {flow.title for flow in content.flows.values()}
    for flow in content.flows.values():
        for state in flow.states.values():
            if flow.readers_of(state) == "guardian":
                continue  # written for parents and teachers (the age proof still covers it)
            for i, item in enumerate(state.says()):
                if ages.ages_of_text(flow.id, state.name, i) & NOT_ADULT:
                    found.add(item.key)
            for i, choice in enumerate(state.buttons):
                if ages.buttons.get((flow.id, state.name, i), set()) & NOT_ADULT:
                    found.add(choice.text)
            reached = ages.states.get((flow.id, state.name), set())
            if state.ask and state.ask.invalid and reached & NOT_ADULT:
                found.add(state.ask.invalid)
    return found - set(adult_only_keys(content))


def _audiences(content: Content) -> Iterator[Problem]:
    """Adult-only texts proven out of reach for minors and unknown ages (errors); plain
    Japanese on every text a minor may read; long messages; legal lines without sources."""
    ages = analyse_ages(content)
    for found in exposures(content, ages):
        yield Problem(found.file, found.line, f"{found.what} can be shown when age is "
                      f"{' or '.join(found.ages)}: guard it (or the button or branch arm that "
                      "leads here) with if: {slot: age, is: adult}. Path: " + found.path)
    locales = content.locales
    for key in sorted(minor_facing_keys(content, ages)):
        value = locales.values.get("ja", {}).get(key)
        if not isinstance(value, str) or ("ja", key) not in locales.where:
            continue
        words = unglossed_words(value)
        if words:
            file, line = locales.where[("ja", key)]
            yield LintWarning(file, line, f"'{key}' can be read by someone under 18 and uses "
                              f"kanji beyond primary school: {'、'.join(words)} — give the reading "
                              "in brackets the first time (脅迫（きょうはく）) or use easier words")
    yield from law_mentions(content, LintWarning)
    yield from long_messages(content, ages, LintWarning)


# ---- schemas -------------------------------------------------------------------------
# Which schema (in docs/, or the installed package's schemas/) each content file follows.
SCHEMAS = (("flows/blocks.yaml", "blocks.schema.json"), ("flows/*.yaml", "flow.schema.json"),
           ("locales/*/*.yaml", "locale.schema.json"), ("contacts/*.yaml", "contacts.schema.json"),
           ("web.yaml", "web.schema.json"))


def content_files(root: Path) -> Iterator[tuple[Path, str]]:
    """Every content file under root with the name of its schema, each file once."""
    seen: set[Path] = set()
    for pattern, schema in SCHEMAS:
        for path in sorted(root.glob(pattern)):
            if path not in seen:
                seen.add(path)
                yield path, schema


def schema_problems(root: Path, schema_dir: Path | None = None) -> list[Problem]:
    """Each content file checked against its JSON Schema: one problem per violation, with
    the line of the key or item at fault. Needs jsonschema (a dev extra): without it, one
    warning says the check was skipped. Files YAML cannot read are left to the loader."""
    try:
        import jsonschema
    except ImportError:
        return [LintWarning("docs", 1, "jsonschema is not installed, so files were not checked "
                            "against docs/*.schema.json (pip install 'kakekomi[dev]')")]
    import json

    from .._settings import SCHEMA_DIR
    from ..content._yamlsrc import load_yaml_as_written

    schema_dir = schema_dir or SCHEMA_DIR
    validators: dict[str, Any] = {}
    found: list[Problem] = []
    for path, schema in content_files(root):
        if schema not in validators:
            spec = schema_dir / schema
            if not spec.is_file():
                validators[schema] = None
                found.append(LintWarning(str(spec), 1, "schema missing: files were not checked"))
                continue
            validators[schema] = jsonschema.Draft202012Validator(
                json.loads(spec.read_text(encoding="utf-8")))
        validator = validators[schema]
        if validator is None:
            continue
        display = str(path.relative_to(root))
        try:
            data = load_yaml_as_written(path, display)
        except ContentError:
            continue  # the loader names the syntax error and its line
        for error in validator.iter_errors(data):
            found.append(_violation(display, data, error))
    return found


def _violation(file: str, data: Any, error: Any) -> Problem:
    """One schema error as file, line and a sentence a counsellor can act on."""
    while error.validator in ("anyOf", "oneOf") and error.context:
        deeper = max(error.context, key=lambda e: len(e.absolute_path))
        if len(deeper.absolute_path) <= len(error.absolute_path):
            break
        error = deeper
    path = list(error.absolute_path)
    where = "".join(f"[{k}]" if isinstance(k, int) else (f".{k}" if i else str(k))
                    for i, k in enumerate(path)) or "the file"
    line, node, instance = 1, data, error.instance
    for key in path:
        line = node.line_of(key) if hasattr(node, "line_of") else line
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            break
    if hasattr(instance, "line") and error.validator == "required":
        line = instance.line
    described = error.schema.get("description", "") if isinstance(error.schema, dict) else ""
    described = described.split(". ")[0].rstrip(".") + "." if path and described else ""
    if error.validator == "additionalProperties" and isinstance(instance, dict):
        known = sorted(error.schema.get("properties", {}))
        extra = [k for k in instance if k not in known]
        if extra and hasattr(instance, "line_of"):
            line = instance.line_of(extra[0])
        said = f"unknown key {extra[0]!r}" if extra else "unknown key"
        said += f" (known: {', '.join(known)})" if known else ""
    elif error.validator == "type":
        wanted = error.validator_value if isinstance(error.validator_value, list) \
            else [error.validator_value]
        kinds = " or ".join(_KIND.get(w, str(w)) for w in wanted)
        said = f"must be {kinds}, not {_kind_of(instance)}"
    elif error.validator == "enum":
        said = f"{instance!r} is not one of {', '.join(map(str, error.validator_value))}"
    elif error.validator == "required":
        said = error.message.replace(" is a required property", " is missing")
    elif error.validator in ("anyOf", "oneOf"):
        said = "does not fit" if described else error.message
    else:
        said = error.message
    if len(said) > 160:
        said = said[:157] + "..."
    text = f"{where}: {said}" + (f" — {described}" if described else "")
    return Problem(file, line, text)


_KIND = {"string": "a text", "integer": "a whole number", "number": "a number", "boolean":
         "true or false", "array": "a list", "object": "a mapping (key: value)", "null": "empty"}


def _kind_of(value: Any) -> str:
    for kind, types in (("true or false", bool), ("a text", str), ("a number", int | float),
                        ("a list", list), ("a mapping", dict)):
        if isinstance(value, types):
            return kind
    return "empty" if value is None else type(value).__name__
