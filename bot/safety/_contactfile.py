"""Reading one contact directory file (``contacts/*.yaml``), with file:line errors.

The YAML is composed into nodes (not loaded into plain values) so that every
mistake can name its line, and so that times like ``17:15`` are read as the
text that was written (plain YAML 1.1 would turn them into the number 1035).
The format itself is described in :mod:`bot.safety._contacts`.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import NoReturn
from zoneinfo import ZoneInfo

import holidays
import yaml

from ._contacts import (
    AUDIENCES,
    DAYS,
    KINDS,
    TOPICS,
    Contact,
    DirectoryError,
    Phone,
    Region,
    Window,
)

__all__ = ["directory_problems", "read_directory_file"]

LANGS = ("ja", "en")
_CONTACT_KEYS = {
    "id",
    "region",
    "name",
    "kind",
    "phones",
    "url",
    "topics",
    "for",
    "hours",
    "closed_on_holidays",
    "closed_dates",
    "note",
    "source",
    "checked",
    "status",
}
_REQUIRED = ("id", "name", "kind", "topics", "for", "source", "checked", "status")
_ID = re.compile(r"[a-z][a-z0-9_]*")
_URL = re.compile(r"https?://[^\s]+")
_CHECKED = re.compile(r"\d{4}-\d{2}(-\d{2})?")
_MONTH_DAY = re.compile(r"(\d{2})-(\d{2})")


def parse_clock(value: str) -> int | None:
    """ "8:30" / "08:30" / "24:00" → minutes after midnight; None if malformed."""
    m = re.fullmatch(r"(\d{1,2}):(\d{2})", value.strip())
    if not m:
        return None
    h, mi = int(m.group(1)), int(m.group(2))
    if mi >= 60 or h > 24 or (h == 24 and mi):
        return None
    return h * 60 + mi


class _Reader:
    """Small typed accessors over YAML nodes that fail with file and line."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, node: yaml.Node, message: str) -> NoReturn:
        raise DirectoryError(self.path, node.start_mark.line + 1, message)

    def mapping(
        self,
        node: yaml.Node,
        what: str,
        allowed: set[str] | None = None,
        required: tuple[str, ...] = (),
    ) -> dict[str, yaml.Node]:
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, f"{what} must be a mapping (key: value)")
        out: dict[str, yaml.Node] = {}
        for key, value in node.value:
            name = self.text(key, f"a key in {what}")
            if name in out:
                self.fail(key, f"{what}: key {name!r} appears twice")
            if allowed is not None and name not in allowed:
                known = ", ".join(sorted(allowed))
                self.fail(key, f"{what}: unknown key {name!r} (known: {known})")
            out[name] = value
        for name in required:
            if name not in out:
                self.fail(node, f"{what}: missing {name!r}")
        return out

    def seq(self, node: yaml.Node, what: str) -> list[yaml.Node]:
        if not isinstance(node, yaml.SequenceNode):
            self.fail(node, f"{what} must be a list")
        return list(node.value)

    def text(self, node: yaml.Node, what: str) -> str:
        if not isinstance(node, yaml.ScalarNode) or node.tag.endswith(":null") or not node.value:
            self.fail(node, f"{what} must be a non-empty text (quote values that start with #)")
        return str(node.value).strip()

    def flag(self, node: yaml.Node, what: str) -> bool:
        if not isinstance(node, yaml.ScalarNode) or not node.tag.endswith(":bool"):
            self.fail(node, f"{what} must be true or false")
        return node.value.lower() in ("true", "yes", "on", "y")

    def choice(self, node: yaml.Node, what: str, allowed: frozenset[str] | set[str]) -> str:
        value = self.text(node, what)
        if value not in allowed:
            self.fail(node, f"{what}: {value!r} is not one of {', '.join(sorted(allowed))}")
        return value

    def choices(self, node: yaml.Node, what: str, allowed: frozenset[str]) -> frozenset[str]:
        items = self.seq(node, what)
        if not items:
            self.fail(node, f"{what} must not be empty")
        return frozenset(self.choice(item, what, allowed) for item in items)

    def langs(self, node: yaml.Node, what: str) -> dict[str, str]:
        fields = self.mapping(node, what, allowed=set(LANGS), required=LANGS)
        return {lang: self.text(value, f"{what}.{lang}") for lang, value in fields.items()}

    def url(self, node: yaml.Node, what: str) -> str:
        value = self.text(node, what)
        if not _URL.fullmatch(value):
            self.fail(node, f"{what} must be a web address starting with https://")
        return value


def _compose(path: Path) -> yaml.Node:
    try:
        with path.open(encoding="utf-8") as stream:
            root = yaml.compose(stream, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark, start = exc.problem_mark or exc.context_mark, exc.context_mark
        message = f"YAML syntax: {exc.problem}"
        if start is not None and mark is not None and start.line != mark.line:
            message += f" ({exc.context} at line {start.line + 1})"
        raise DirectoryError(path, mark.line + 1 if mark else 1, message) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise DirectoryError(path, 1, f"cannot read: {exc}") from exc
    if root is None:
        raise DirectoryError(path, 1, "the file is empty")
    return root


def _region(r: _Reader, code: str, node: yaml.Node) -> Region:
    fields = r.mapping(node, f"region {code}", {"timezone", "holidays"}, ("timezone", "holidays"))
    tz_name = r.text(fields["timezone"], "timezone")
    try:
        tz = ZoneInfo(tz_name)
    except (ValueError, KeyError, OSError):
        r.fail(fields["timezone"], f"unknown time zone {tz_name!r} (e.g. Asia/Tokyo)")
    country = r.text(fields["holidays"], "holidays")
    try:
        holidays.country_holidays(country)
    except NotImplementedError:
        r.fail(fields["holidays"], f"unknown holiday calendar {country!r} (e.g. JP, US, GB)")
    return Region(code, tz, country)


def _window(r: _Reader, node: yaml.Node) -> Window:
    fields = r.mapping(
        node, "an hours window", {"days", "open", "close"}, ("days", "open", "close")
    )
    days = r.choices(fields["days"], "days", frozenset(DAYS))
    times = []
    for key in ("open", "close"):
        minutes = parse_clock(r.text(fields[key], key))
        if minutes is None or (key == "open" and minutes == 24 * 60):
            r.fail(fields[key], f'{key} must be a time like "08:30" (write it in quotes)')
        times.append(minutes)
    opens, closes = times
    if closes <= opens:  # past midnight, e.g. 22:00–06:00
        closes += 24 * 60
    return Window(frozenset(DAYS.index(d) for d in days), opens, closes)


def _hours(r: _Reader, node: yaml.Node, kind: str) -> str | tuple[Window, ...]:
    if isinstance(node, yaml.ScalarNode):
        value = r.choice(node, "hours", {"always", "check"})
        if kind == "online" and value != "always":
            r.fail(node, "an online form is always open: leave hours out")
        return value
    if kind == "online":
        r.fail(node, "an online form is always open: leave hours out")
    windows = tuple(_window(r, item) for item in r.seq(node, "hours"))
    if not windows:
        r.fail(node, "hours must not be an empty list (use: check)")
    return windows


def _closed_dates(r: _Reader, node: yaml.Node) -> frozenset[tuple[int, int]]:
    out = set()
    for item in r.seq(node, "closed_dates"):
        m = _MONTH_DAY.fullmatch(r.text(item, "closed_dates"))
        try:
            if not m:
                raise ValueError
            date(2024, int(m.group(1)), int(m.group(2)))  # a leap year accepts 02-29
        except ValueError:
            r.fail(item, 'closed_dates entries look like "12-29" (month-day, in quotes)')
        out.add((int(m.group(1)), int(m.group(2))))
    return frozenset(out)


def _phones(r: _Reader, node: yaml.Node) -> tuple[Phone, ...]:
    phones = []
    for item in r.seq(node, "phones"):
        fields = r.mapping(item, "a phone", {"number", "free", "note"}, ("number",))
        free = r.flag(fields["free"], "free") if "free" in fields else None
        note = r.langs(fields["note"], "note") if "note" in fields else None
        phones.append(Phone(r.text(fields["number"], "number"), free, note))
    return tuple(phones)


def _contact(r: _Reader, node: yaml.Node, regions: dict[str, Region]) -> Contact:
    f = r.mapping(node, "a contact", _CONTACT_KEYS, _REQUIRED)
    cid = r.text(f["id"], "id")
    if not _ID.fullmatch(cid):
        r.fail(f["id"], f"id {cid!r}: use lower-case letters, digits and _")
    if "region" in f:
        region = r.choice(f["region"], "region", set(regions))
    elif len(regions) == 1:
        region = next(iter(regions))
    else:
        r.fail(node, f"contact {cid}: say which region (one of {', '.join(sorted(regions))})")
    kind = r.choice(f["kind"], "kind", KINDS)
    phones = _phones(r, f["phones"]) if "phones" in f else ()
    if kind == "phone" and not phones:
        r.fail(node, f"contact {cid}: a phone contact needs phones")
    url = r.url(f["url"], "url") if "url" in f else None
    if kind in ("online", "website", "chat") and url is None:
        r.fail(node, f"contact {cid}: a {kind} contact needs a url")
    if "hours" in f:
        hours = _hours(r, f["hours"], kind)
    elif kind == "online":
        hours = "always"
    else:
        r.fail(node, f"contact {cid}: missing 'hours' (always, check, or a list)")
    checked = r.text(f["checked"], "checked")
    if not _CHECKED.fullmatch(checked):
        r.fail(f["checked"], "checked must be a date like 2026-11 or 2026-11-20")
    return Contact(
        id=cid,
        region=region,
        name=r.langs(f["name"], "name"),
        kind=kind,
        phones=phones,
        url=url,
        topics=r.choices(f["topics"], "topics", TOPICS),
        audiences=r.choices(f["for"], "for", AUDIENCES),
        hours=hours,
        closed_on_holidays=r.flag(f["closed_on_holidays"], "closed_on_holidays")
        if "closed_on_holidays" in f
        else False,
        closed_dates=_closed_dates(r, f["closed_dates"]) if "closed_dates" in f else frozenset(),
        note=r.langs(f["note"], "note") if "note" in f else None,
        source=r.url(f["source"], "source"),
        checked=checked,
        status=r.choice(f["status"], "status", {"verified", "check"}),
        file=str(r.path),
        line=node.start_mark.line + 1,
    )


def read_directory_file(
    path: Path, problems: list[DirectoryError] | None = None
) -> tuple[dict[str, tuple[Region, int]], list[Contact]]:
    """Regions (with the line that declares them) and contacts of one file.

    Without ``problems`` the first mistake raises :class:`DirectoryError`. With a list,
    each broken region or contact is noted there and left out, so one pass over a file
    names every broken entry (for ``kakekomi lint``).
    """
    r = _Reader(path)

    def noted(read, *args):  # type: ignore[no-untyped-def]
        if problems is None:
            return read(*args)
        try:
            return read(*args)
        except DirectoryError as exc:
            problems.append(exc)
            return None

    def top_level():  # type: ignore[no-untyped-def]
        return r.mapping(_compose(path), "the file", {"regions", "contacts"},
                         ("regions", "contacts"))

    top = noted(top_level)
    if top is None:
        return {}, []
    regions: dict[str, Region] = {}
    lines: dict[str, int] = {}
    for code, node in (noted(r.mapping, top["regions"], "regions") or {}).items():
        region = noted(_region, r, code, node)
        if region is not None:
            regions[code] = region
            lines[code] = node.start_mark.line + 1
    if not regions:
        noted(r.fail, top["regions"], "declare at least one region")
        return {}, []
    contacts = [c for item in noted(r.seq, top["contacts"], "contacts") or []
                if (c := noted(_contact, r, item, regions)) is not None]
    return {code: (regions[code], lines[code]) for code in regions}, contacts


def directory_problems(paths: list[Path]) -> list[DirectoryError]:
    """Every problem in these directory files at once (``ContactDirectory.load`` stops at
    the first): each broken entry of each file, then ids and regions clashing across files."""
    problems: list[DirectoryError] = []
    regions: dict[str, Region] = {}
    seen: dict[str, Contact] = {}
    for path in paths:
        file_regions, contacts = read_directory_file(Path(path), problems)
        for code, (region, line) in file_regions.items():
            if regions.setdefault(code, region) != region:
                problems.append(DirectoryError(path, line,
                                               f"region {code!r} is declared differently"))
        for c in contacts:
            first = seen.setdefault(c.id, c)
            if first is not c:
                problems.append(DirectoryError(
                    c.file, c.line,
                    f"duplicate contact id {c.id!r} (first at {first.file}:{first.line})"))
    return problems
