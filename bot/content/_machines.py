"""One `transitions` AsyncMachine per flow, shared by every conversation.

A conversation is not a model that lives in memory: for each move a pooled
cursor (a model registered with the machine once) is set to the saved state,
moved, and handed back, so the machine never grows with the number of people.
Moves between states are the machine's triggers (`go_<state>`), and a branch is
the machine's conditional trigger `decide`: the first arm whose condition holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from transitions.extensions.asyncio import AsyncMachine

from .._errors import KakekomiError
from ._flows import Flow


class FlowMoveError(KakekomiError):
    """A move the flow does not allow (a content bug caught at run time)."""


class Cursor:
    """The model a machine moves: only the state, the answers and the time."""

    def __init__(self) -> None:
        self.slots: Mapping[str, Any] = {}
        self.now: datetime | None = None


def _holds(cond: Any):
    return lambda event: cond.holds(event.model.slots, event.model.now)


class FlowMachine:
    """The state machine of one flow."""

    def __init__(self, flow: Flow):
        self.flow = flow
        transitions: list[dict[str, Any]] = []
        sources_by_dest: dict[str, set[str]] = {}
        for state in flow.states.values():
            for target in state.targets():
                sources_by_dest.setdefault(target, set()).add(state.name)
        for dest, sources in sorted(sources_by_dest.items()):
            transitions.append({"trigger": f"go_{dest}", "source": sorted(sources), "dest": dest})
        for state in flow.states.values():
            for route in state.branch:
                arm: dict[str, Any] = {"trigger": "decide", "source": state.name, "dest": route.go}
                if route.when is not None:
                    arm["conditions"] = [_holds(route.when)]
                transitions.append(arm)
        self.machine = AsyncMachine(
            model=None, states=list(flow.states), transitions=transitions, initial=None,
            auto_transitions=False, send_event=True, ignore_invalid_triggers=False)
        self._pool: list[Cursor] = []

    async def move(self, state: str, target: str, slots: Mapping[str, Any], now: datetime) -> str:
        """Follow the edge state → target."""
        return await self._fire(state, f"go_{target}", slots, now)

    async def decide(self, state: str, slots: Mapping[str, Any], now: datetime) -> str:
        """Take a branch state's first arm whose condition holds."""
        return await self._fire(state, "decide", slots, now)

    async def _fire(self, state: str, trigger: str, slots: Mapping[str, Any], now: datetime) -> str:
        if self._pool:
            cursor = self._pool.pop()
        else:
            cursor = Cursor()
            self.machine.add_model(cursor, initial=self.flow.start)
        cursor.slots, cursor.now = slots, now
        try:
            self.machine.set_state(state, model=cursor)
            event = self.machine.events.get(trigger)
            moved = await event.trigger(cursor) if event else False
            if not moved:
                raise FlowMoveError(f"{self.flow.id}: no move '{trigger}' from '{state}'")
            return cursor.state  # type: ignore[attr-defined]
        finally:
            cursor.slots, cursor.now = {}, None
            self._pool.append(cursor)
