"""The benchmark still runs: every scenario, tiny, through its own command line.

No timing is asserted here (timing goals belong to `make bench`); what is checked is
that each scenario walks the steps it was asked for and reports what the README table
needs, so the benchmark cannot rot unnoticed.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from benchmarks.__main__ import render, targets
from benchmarks.stats import ROOT, parse_result


def scenario(module: str, *args: str) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-m", f"benchmarks.{module}", *args], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return parse_result(result.stdout)


def test_engine_scenario_commits_every_step_to_a_real_file():
    row = scenario("engine", "--n", "3", "--steps", "5")
    assert row["conversations"] == 3 and row["steps"] == 15
    assert row["steps_per_s"] > 0 and row["p99_ms"] >= row["median_ms"] > 0
    assert row["db_bytes_per_10k"] > 0  # records really reached the SQLite file


@pytest.mark.parametrize("bot", ["kakekomi", "kakekomi-mem", "bare", "convhandler"])
def test_telegram_scenario_drives_each_bot_through_ptb(bot):
    row = scenario("telegram", "--bot", bot, "--n", "2", "--steps", "4")
    assert row["bot"] == bot and row["steps"] == 8
    # Every step got at least its reply from the bot through the Bot API.
    assert row["api_calls_per_step"] >= 1.0, row["api_calls"]


def test_cold_start_loads_every_flow():
    row = scenario("cold")
    assert row["flows"] >= 8 and row["states"] > 100 and row["languages"] == 2
    assert row["load_content_s"] > 0


def test_report_marks_a_missed_target():
    engine = [{"conversations": 1, "steps": 10, "steps_per_s": 900.0, "median_ms": 1.0,
               "p99_ms": 7.5, "maxrss_mib": 50.0}]
    text = render({"mode": "quick", "engine": engine})
    assert "| p99 < 5 ms per step, durable commits (1 conversation) | 7.50 ms | **no** |" in text
    assert [ok for *_, ok in targets({"engine": engine})] == [False]


def test_hostile_text_scenario_times_every_kind_and_the_flood():
    row = scenario("text", "--repeat", "1", "--flood", "2")
    assert len(row["cases"]) >= 10 and all(c["median_ms"] > 0 for c in row["cases"].values())
    assert row["flood"] == 2 and row["flood_other_start_ms"] > 0
    text = render({"mode": "quick", **{"text": row}})
    assert "## Hostile text" in text and "4,096 digits @ date" in text


def test_surge_scenario_answers_everyone_and_counts_late_presses():
    row = scenario("surge", "--n", "3")
    assert row["people"] == 3 and row["presses_s"] > 0 and row["bursts_s"] > 0
    assert "every press answered within Telegram's 15 s" in render({"mode": "quick",
                                                                    "surge": row})
