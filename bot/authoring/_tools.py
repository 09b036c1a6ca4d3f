"""Authoring tools on the command line: reading scripts, diagrams, docs/flows/, flow coverage.

    kakekomi script FLOW --lang ja [-o FILE]   one flow as a reading script (Markdown)
    kakekomi graph FLOW [--lang ja] [-o FILE]  one flow as a Mermaid state diagram
    kakekomi docs [-o DIR]                     regenerate docs/flows/ (what `make docs` runs)
    kakekomi coverage                          flow states the last full test run never visited
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .._errors import ContentError
from ..content._loader import Content, load_content
from ._graph import render_graph
from ._script import render_index, render_script, script_file

DOCS_DIR = Path("docs") / "flows"
COVERAGE_FILE = ".kakekomi-coverage.json"
GENERATED = ("*.md", "*.mmd")  # what `kakekomi docs` owns in docs/flows/ (stale ones are removed)


def add_commands(sub: Any) -> None:
    """Register the authoring subcommands."""
    script = sub.add_parser("script", help="a flow as a reading script for reviewers (Markdown)")
    script.add_argument("flow", help="flow id, e.g. after_sending")
    script.add_argument("--lang", default="ja",
                        help="language of the texts: a folder in locales/ (default ja)")
    script.add_argument("-o", "--output", type=Path, help="write to this file (default: print)")
    graph = sub.add_parser("graph", help="a flow as a Mermaid state diagram")
    graph.add_argument("flow", help="flow id, e.g. after_sending")
    graph.add_argument("--lang", help="label the buttons with their texts in this language "
                       "(a folder in locales/; default: locale keys)")
    graph.add_argument("-o", "--output", type=Path, help="write to this file (default: print)")
    docs = sub.add_parser("docs", help="regenerate docs/flows/: scripts and diagrams of every flow")
    docs.add_argument("-o", "--output", type=Path, help="folder to write (default: docs/flows)")
    coverage = sub.add_parser("coverage", help="flow states the last full test run never visited")
    for p in (script, graph, docs, coverage):
        p.add_argument("--content", dest="root", type=Path, default=argparse.SUPPRESS,
                       help="content folder with flows/, locales/, contacts/ "
                       "(env KAKEKOMI_CONTENT)")


def run_command(command: str, args: argparse.Namespace, settings: Any) -> int:
    """Run one authoring subcommand; returns the exit status."""
    root = Path(settings.content_root)
    if command == "coverage":
        return print_coverage(root)
    if command not in ("script", "graph", "docs"):
        raise SystemExit(f"kakekomi: unknown command {command!r}")
    content = _load(root)
    if command == "docs":
        out_dir = args.output or root / DOCS_DIR
        changed = write_docs(content, out_dir)
        print(f"{out_dir}: {len(changed)} file(s) changed" + (":" if changed else "."))
        for name in changed:
            print(f"  {name}")
        return 0
    if args.flow not in content.flows:
        known = ", ".join(sorted(content.flows))
        print(f"kakekomi: there is no flow {args.flow!r}; flows: {known}", file=sys.stderr)
        return 2
    lang = getattr(args, "lang", None)
    if lang is not None and lang not in content.locales.languages:
        print(f"kakekomi: --lang: must be one of {', '.join(content.locales.languages)} "
              f"(the folders in {root / 'locales'})", file=sys.stderr)
        return 2
    if command == "script":
        text = render_script(content, args.flow, args.lang)
    else:
        text = render_graph(content, args.flow, args.lang)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def _load(root: Path) -> Content:
    try:
        return load_content(root)
    except ContentError as exc:
        print(f"kakekomi: the content has {len(exc.problems)} problem(s); run `kakekomi lint`:",
              file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        raise SystemExit(1) from None


# ---- docs/flows ------------------------------------------------------------------------
def generate_docs(content: Content) -> dict[str, str]:
    """Every file of docs/flows/ by name: scripts per flow and language, diagrams, the index."""
    langs = content.locales.languages
    files: dict[str, str] = {}
    for flow_id in sorted(content.flows):
        for lang in langs:
            files[script_file(flow_id, lang)] = render_script(content, flow_id, lang)
        files[f"{flow_id}.mmd"] = render_graph(content, flow_id)
    files["README.md"] = render_index(content, langs)
    return files


def stale_docs(content: Content, out_dir: Path) -> list[str]:
    """Names in out_dir that differ from what the generator writes now (missing, changed, extra)."""
    wanted = generate_docs(content)
    found = {p.name for pattern in GENERATED for p in out_dir.glob(pattern)}
    differ = [name for name, text in wanted.items()
              if name not in found or (out_dir / name).read_text(encoding="utf-8") != text]
    return sorted(differ + sorted(found - set(wanted)))


def write_docs(content: Content, out_dir: Path) -> list[str]:
    """Bring out_dir up to date; returns the names written or removed."""
    out_dir.mkdir(parents=True, exist_ok=True)
    wanted = generate_docs(content)
    changed = stale_docs(content, out_dir)
    for name in changed:
        path = out_dir / name
        if name in wanted:
            path.write_text(wanted[name], encoding="utf-8")
        else:
            path.unlink()
    return changed


# ---- flow coverage ---------------------------------------------------------------------
def all_states(content: Content) -> list[tuple[str, str]]:
    return [(flow.id, name) for flow in content.flows.values() for name in flow.states]


def write_coverage(root: Path, content: Content,
                   visited: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Record in root/.kakekomi-coverage.json which states a full test run visited.

    Returns the states it never visited."""
    seen = set(visited)
    states = all_states(content)
    missing = [fs for fs in states if fs not in seen]
    record = {
        "written": datetime.now(UTC).isoformat(timespec="seconds"),
        "states": len(states),
        "visited": len(states) - len(missing),
        "unvisited": [{"flow": f, "state": s, "where": _where(content, f, s)} for f, s in missing],
    }
    (root / COVERAGE_FILE).write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n",
                                      encoding="utf-8")
    return missing


def _where(content: Content, flow_id: str, state: str) -> str:
    flow = content.flows[flow_id]
    return f"{flow.file}:{flow.states[state].line}"


def _age(seconds: float) -> str:
    if seconds < 90:
        return f"{int(seconds)} seconds"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} minutes"
    if seconds < 36 * 3600:
        return f"{round(seconds / 3600)} hours"
    return f"{round(seconds / 86400)} days"


def print_coverage(root: Path, out: Any = None) -> int:
    """`kakekomi coverage`: the unvisited states of the last full test run (exit 1 if any)."""
    out = out or sys.stdout
    path = root / COVERAGE_FILE
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        print(f"No {COVERAGE_FILE} yet: run the whole test suite (`make test`) first.", file=out)
        return 1
    except (OSError, ValueError) as exc:
        print(f"Cannot read {path}: {type(exc).__name__}: {exc}; run `make test` again.", file=out)
        return 1
    written = path.stat().st_mtime
    print(f"{path.name}: written {_age(time.time() - written)} ago, by the last full test run; "
          f"{record['visited']} of {record['states']} flow states visited.", file=out)
    newer = [p for folder in ("flows", "locales") for p in (root / folder).rglob("*.yaml")
             if p.stat().st_mtime > written]
    if newer:
        print(f"Note: {len(newer)} content file(s) changed since (e.g. "
              f"{newer[0].relative_to(root)}); run `make test` for fresh numbers.", file=out)
    unvisited = record.get("unvisited", [])
    if not unvisited:
        print("Every state of every flow was visited by some test.", file=out)
        return 0
    print(f"{len(unvisited)} state(s) no test visits — add a test that walks there "
          "(tests/helpers.py Chat):", file=out)
    for item in unvisited:
        print(f"  {item['where']}: {item['flow']} / {item['state']}", file=out)
    return 1
