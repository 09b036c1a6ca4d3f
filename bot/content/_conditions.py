"""The small condition language of flows: data, never code.

    {slot: age, is: under18}      {slot: age, in: [a, b]}     {slot: happening, has: threat}
    {slot: memo_app, filled: true}  {time: late_night}
    {all: [...]}  {any: [...]}  {not: {...}}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .._errors import Problem

TIME_WINDOWS = {"late_night": (23, 5), "night": (21, 6), "daytime": (8, 18)}


@dataclass(frozen=True)
class Condition:
    """A parsed condition. `op` is one of is, in, has, filled, time, all, any, not."""

    op: str
    slot: str | None = None
    value: Any = None
    parts: tuple[Condition, ...] = ()

    def holds(self, slots: Mapping[str, Any], now: datetime) -> bool:
        if self.op == "all":
            return all(p.holds(slots, now) for p in self.parts)
        if self.op == "any":
            return any(p.holds(slots, now) for p in self.parts)
        if self.op == "not":
            return not self.parts[0].holds(slots, now)
        if self.op == "time":
            start, end = TIME_WINDOWS[self.value]
            hour = now.hour
            return start <= hour < end if start < end else (hour >= start or hour < end)
        current = slots.get(self.slot) if self.slot else None
        if self.op == "is":
            return current == self.value
        if self.op == "in":
            return current in self.value
        if self.op == "has":
            return isinstance(current, list) and self.value in current
        if self.op == "filled":
            filled = current not in (None, "", [])
            return filled == bool(self.value)
        raise AssertionError(self.op)

    def slots_read(self) -> set[str]:
        found = {self.slot} if self.slot else set()
        for part in self.parts:
            found |= part.slots_read()
        return found


def parse_condition(raw: Any, file: str, line: int, problems: list[Problem]) -> Condition | None:
    """Parse a condition mapping, appending problems instead of raising."""
    line = getattr(raw, "line", line)
    if not isinstance(raw, Mapping):
        problems.append(Problem(file, line, f"a condition must be a mapping, not {raw!r}"))
        return None
    for group in ("all", "any"):
        if group in raw:
            items = raw[group]
            if not isinstance(items, list) or not items:
                problems.append(Problem(file, line, f"'{group}:' needs a list of conditions"))
                return None
            parts = [parse_condition(i, file, line, problems) for i in items]
            if any(p is None for p in parts):
                return None
            return Condition(group, parts=tuple(p for p in parts if p))
    if "not" in raw:
        inner = parse_condition(raw["not"], file, line, problems)
        return Condition("not", parts=(inner,)) if inner else None
    if "time" in raw:
        if raw["time"] not in TIME_WINDOWS:
            problems.append(Problem(file, line, f"unknown time window {raw['time']!r}; "
                                    f"use one of {sorted(TIME_WINDOWS)}"))
            return None
        return Condition("time", value=raw["time"])
    slot = raw.get("slot")
    if not isinstance(slot, str):
        problems.append(Problem(file, line, "a condition needs 'slot:' (or all/any/not/time)"))
        return None
    ops = [k for k in ("is", "in", "has", "filled") if k in raw]
    extra = set(raw) - {"slot", "is", "in", "has", "filled"}
    if len(ops) != 1 or extra:
        unknown = f" (unknown: {sorted(extra)})" if extra else ""
        problems.append(Problem(file, line, f"condition on '{slot}' needs exactly one of "
                                "is / in / has / filled" + unknown))
        return None
    op = ops[0]
    value = raw[op]
    if op == "in" and not isinstance(value, list):
        problems.append(Problem(file, line, "'in:' needs a list"))
        return None
    if op == "in":
        value = tuple(value)
    return Condition(op, slot=slot, value=value)
