"""`kakekomi chat --reload`: pick up edits to flows, locales and contacts while chatting.

A background task polls the files' modification times; on a change it loads the
content again and, only when it is valid, swaps it into the running Dialogue. A
broken edit is reported on stderr and the previous content stays in use, so the
chat never stops because of a typo. A conversation whose state vanished is resumed
at its flow's start by the engine, with a note.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TextIO

from .._errors import ContentError
from ..content._loader import load_content

log = logging.getLogger("kakekomi.reload")
POLL_INTERVAL = 0.5  # seconds between looks at the files
WATCHED = ("flows", "locales", "contacts")

Snapshot = dict[str, tuple[int, int]]


def snapshot(root: Path) -> Snapshot:
    """Modification time and size of every YAML file the content is made of."""
    found: Snapshot = {}
    for folder in WATCHED:
        for path in sorted((root / folder).rglob("*.yaml")):
            try:
                stat = path.stat()
            except OSError:  # removed between listing and stat: the next look sees it gone
                continue
            found[str(path)] = (stat.st_mtime_ns, stat.st_size)
    return found


async def _watch(root: Path, dialogue: Any, seen: Snapshot, interval: float, err: TextIO) -> None:
    while True:
        await asyncio.sleep(interval)
        now = await asyncio.to_thread(snapshot, root)
        if now == seen:
            continue
        await asyncio.sleep(interval / 5)  # let an editor finish writing (save = several writes)
        seen = await asyncio.to_thread(snapshot, root)
        try:
            content = await asyncio.to_thread(load_content, root)
        except ContentError as exc:
            print(f"kakekomi: the edit has {len(exc.problems)} problem(s); still using the "
                  "previous flows and texts:", file=err)
            for problem in exc.problems:
                print(f"  {problem}", file=err)
            continue
        except Exception as exc:  # noqa: BLE001 - a reload must never end the chat
            log.exception("reload failed")
            print(f"kakekomi: could not reload ({type(exc).__name__}: {exc}); still using the "
                  "previous flows and texts", file=err)
            continue
        dialogue.content = content
        print(f"kakekomi: reloaded {len(content.flows)} flows and their texts.", file=err)


@asynccontextmanager
async def watch_content(root: Path, dialogue: Any, *, interval: float = POLL_INTERVAL,
                        err: TextIO | None = None) -> AsyncIterator[None]:
    """While inside, reload `dialogue.content` from root whenever the content files change."""
    root = Path(root)
    seen = await asyncio.to_thread(snapshot, root)
    task = asyncio.create_task(_watch(root, dialogue, seen, interval, err or sys.stderr))
    try:
        yield
    finally:
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
