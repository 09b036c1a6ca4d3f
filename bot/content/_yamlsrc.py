"""YAML loading that remembers where each mapping and key came from.

Validation errors must name the file and line a counsellor should open, so the
loader returns dict subclasses that carry line numbers (1-based).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .._errors import ContentError, Problem


class SrcDict(dict):
    """A mapping from YAML with `line` (its own) and `key_lines` (per key)."""

    file: str = "?"
    line: int = 0

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.key_lines: dict[Any, int] = {}

    def line_of(self, key: Any) -> int:
        return self.key_lines.get(key, self.line)


class SrcList(list):
    """A sequence from YAML with the line of each item."""

    file: str = "?"
    line: int = 0

    def __init__(self, *args: Any):
        super().__init__(*args)
        self.item_lines: list[int] = []

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if index < len(self.item_lines) else self.line


class _Loader(yaml.SafeLoader):
    """SafeLoader that builds SrcDict/SrcList and refuses duplicate keys."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> SrcDict:
    loader.flatten_mapping(node)
    result = SrcDict()
    result.file = loader.name  # type: ignore[attr-defined]
    result.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in result:
            raise ContentError([Problem(result.file, key_node.start_mark.line + 1,
                                        f"the key {key!r} appears twice")])
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> SrcList:
    result = SrcList(loader.construct_object(child, deep=True) for child in node.value)
    result.file = loader.name  # type: ignore[attr-defined]
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def load_yaml(path: Path, display: str | None = None) -> Any:
    """Parse one YAML file; syntax errors become a ContentError with file and line."""
    return _parse(path, display, _Loader)


def _parse(path: Path, display: str | None, loader_class: type[_Loader]) -> Any:
    name = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ContentError([Problem(name, 1, f"cannot read the file: {exc}")]) from exc
    loader = loader_class(text)
    loader.name = name  # type: ignore[attr-defined]
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise ContentError([Problem(name, line, f"YAML syntax: {exc.problem or exc}")]) from exc
    except yaml.YAMLError as exc:
        raise ContentError([Problem(name, 1, f"YAML syntax: {exc}")]) from exc
    finally:
        loader.dispose()


class _EditorLoader(_Loader):
    """Reads scalars as an editor does (YAML 1.2): dates and 17:15 stay texts.

    Used only to check content against docs/*.schema.json, so that `kakekomi lint` and
    the editor agree on what a value is."""


def _as_written(loader: _EditorLoader, node: yaml.ScalarNode) -> str:
    return str(loader.construct_scalar(node))


def _int_or_text(loader: _EditorLoader, node: yaml.ScalarNode) -> Any:
    if ":" in str(node.value):  # YAML 1.1 base-60 (17:15 → 1035); YAML 1.2 reads a text
        return str(node.value)
    return yaml.SafeLoader.construct_yaml_int(loader, node)


_EditorLoader.add_constructor("tag:yaml.org,2002:timestamp", _as_written)
_EditorLoader.add_constructor("tag:yaml.org,2002:int", _int_or_text)


def load_yaml_as_written(path: Path, display: str | None = None) -> Any:
    """Like `load_yaml`, but dates and times stay the text that was written."""
    return _parse(path, display, _EditorLoader)
