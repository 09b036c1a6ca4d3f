"""docs/architecture.md matches the tree, and the arrows between the rooms hold.

A newcomer finds their room from the tree; the document says what each module is for. Both
stay true only if a test holds them together: a module added without a line in the
document, or a line naming a module that is gone, fails here.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.helpers import ROOT

DOC = ROOT / "docs" / "architecture.md"
LINE = re.compile(r"^((?:bot|storage)/[\w/]+\.py)\s{2,}\S")


def documented() -> set[str]:
    return {m.group(1) for line in DOC.read_text(encoding="utf-8").splitlines()
            if (m := LINE.match(line))}


def modules() -> set[str]:
    return {str(p.relative_to(ROOT)) for top in ("bot", "storage")
            for p in (ROOT / top).rglob("*.py") if "__pycache__" not in p.parts}


def test_every_module_is_in_the_architecture_document_and_every_line_is_a_module() -> None:
    doc, code = documented(), modules()
    assert not code - doc, f"modules missing from docs/architecture.md: {sorted(code - doc)}"
    assert not doc - code, \
        f"docs/architecture.md names modules that do not exist: {sorted(doc - code)}"


def imports(path: Path) -> set[str]:
    """Absolute module names a file imports (relative imports resolved)."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    if path.name != "__init__.py":
        package = package.rsplit(".", 1)[0]
    else:
        package = package.removesuffix(".__init__")
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            found.add(name)
            found |= {f"{name}.{alias.name}" for alias in node.names}
    return found


def files(prefix: str) -> list[Path]:
    return [p for p in (ROOT / prefix).rglob("*.py") if "__pycache__" not in p.parts]


def test_storage_knows_nothing_of_the_bot() -> None:
    for path in files("storage"):
        assert not {m for m in imports(path) if m == "bot" or m.startswith("bot.")}, path


def test_the_engine_imports_no_transport_and_no_database_driver() -> None:
    banned = ("telegram", "tornado", "aiosqlite", "bot.channels")
    for path in files("bot/engine"):
        bad = {m for m in imports(path) if any(m == b or m.startswith(b + ".") for b in banned)}
        assert not bad, (path, bad)


def test_content_and_safety_never_import_the_engine() -> None:
    for room in ("bot/content", "bot/safety"):
        for path in files(room):
            bad = {m for m in imports(path) if m.startswith("bot.engine")}
            assert not bad, (path, bad)


def test_channels_use_the_faces_of_the_engine_and_the_content_only() -> None:
    private = re.compile(r"^bot\.(engine|content)\._")
    for path in files("bot/channels"):
        bad = {m for m in imports(path) if private.match(m)}
        assert not bad, (path, bad)
