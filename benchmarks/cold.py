"""Scenario: cold start, in a fresh interpreter each time.

    python -m benchmarks.cold

Import of the engine, then `load_content` (parse, validate and cross-check every flow,
locale and contact file, compile the keyword rules, build one state machine per flow).
"""

from __future__ import annotations

import time

started = time.perf_counter()

import bot  # noqa: E402

from .stats import ROOT, emit, maxrss_mib  # noqa: E402


def main() -> None:
    imported = time.perf_counter()
    content = bot.load_content(ROOT)
    loaded = time.perf_counter()
    emit({
        "scenario": "cold", "import_s": imported - started, "load_content_s": loaded - imported,
        "flows": len(content.flows),
        "states": sum(len(f.states) for f in content.flows.values()),
        "languages": len(content.locales.values), "maxrss_mib": maxrss_mib(),
    })


if __name__ == "__main__":
    main()
