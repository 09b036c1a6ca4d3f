"""What the browser tests and `make screenshots` share: a real `kakekomi serve` process,
the locale texts (so a reworded sentence does not break a test), and a walk by clicks.

Element ids and routes are the web chat's contract (issue 17): `#log`, `.msg.bot`,
`#choices button.choice`, `#say`, `#send`, `#exit`, `<meta name="kakekomi-exit">`.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
# A master secret with enough entropy for any check (64 hex digits = 256 bits).
SECRET = "4b7d9f1a3c5e7082a4c6e8f0b2d4f6a81c3e5f7092b4d6f8a0c2e4f61357924b"
# Hang guards only (a busy machine is slow, never wrong): how long one step may take.
STEP_MS = 30_000
START_S = 60.0


def chromium() -> str | None:
    """Debian's headless Chromium (apt: chromium-headless-shell), or None when missing."""
    return shutil.which("chromium-headless-shell")


def launch_args() -> dict[str, Any]:
    """How Playwright starts Debian's Chromium here (`playwright install` cannot download)."""
    return {"executable_path": chromium(), "args": ["--disable-dev-shm-usage"]}


@cache
def _locale(lang: str) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for path in sorted((ROOT / "locales" / lang).glob("*.yaml")):
        merged.update(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    return merged


def text(lang: str, key: str) -> str:
    """The locale text at a dotted key, e.g. text("ja", "menu.threatened")."""
    node: Any = _locale(lang)
    for part in key.split("."):
        # YAML 1.1 reads the keys yes/no as booleans.
        node = node[part] if part in node else node[{"yes": True, "no": False}[part]]
    return str(node)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`python -m bot serve` on 127.0.0.1 with its own data folder and a fixed secret."""

    def __init__(self, tmp: Path, *args: str):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log = tmp / "serve.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("KAKEKOMI_", "TELEGRAM_"))}
        env.update(KAKEKOMI_DATA=str(tmp / "data"), KAKEKOMI_SECRET=SECRET, PYTHONPATH=str(ROOT))
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "bot",
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    *args,
                ],
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
            )
        self._wait_ready()

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"kakekomi serve exited {self.proc.returncode}:\n{self.output()}"
                )
            try:
                with urllib.request.urlopen(self.url + "healthz", timeout=5) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise AssertionError(f"kakekomi serve did not answer /healthz:\n{self.output()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(START_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# ---- driving the page ----------------------------------------------------------------


class Chat:
    """One person's chat in a page: press buttons, send words, read what the bot said.
    With JavaScript the answer is appended to the log; without, the form post loads a page."""

    def __init__(self, page: Any, lang: str, js: bool = True):
        self.page, self.lang, self.js = page, lang, js

    def bot_texts(self) -> list[str]:
        return self.page.locator("#log .msg.bot").all_inner_texts()

    def labels(self) -> list[str]:
        return [b.strip() for b in self.page.locator("#choices button.choice").all_inner_texts()]

    def press(self, label: str) -> None:
        """Press the current button whose words are exactly `label`."""
        exact = re.compile(r"^\s*" + re.escape(label) + r"\s*$")
        button = self.page.locator("#choices button.choice").filter(has_text=exact).last
        self.turn(button.click)

    def say(self, words: str) -> None:
        """Type into the text box and send."""

        def send() -> None:
            self.page.fill("#say", words)
            self.page.click("#send")

        self.turn(send)

    def turn(self, act: Any) -> None:
        """One turn: wait for the server's answer. When the rate limit answers 429 (it is per
        address, and every test comes from 127.0.0.1), wait a moment and do it again; without
        JavaScript the 429 page has no buttons, so first its "show where I was" (#again)."""
        page = self.page
        for _attempt in range(30):
            before = page.locator("#log .msg").count()
            if self._post(act) != 429:
                break
            for _resume in range(30):
                if self.js or not page.locator("#again").count():
                    break
                if self._post(lambda: page.click("#again")) != 429:
                    break
        else:
            raise AssertionError("the rate limit never let the turn through")
        if self.js:
            # (a locator, not wait_for_function: the page's CSP forbids eval, rightly)
            page.locator("#log .msg").nth(before).wait_for(timeout=STEP_MS)
        else:
            page.wait_for_load_state()

    def _post(self, act: Any) -> int:
        """Do `act`, return the status of the POST it made; after a 429 wait a moment."""
        with self.page.expect_response(
            lambda r: r.request.method == "POST", timeout=STEP_MS
        ) as answer:
            act()
        status = answer.value.status
        if status == 429:
            self.page.wait_for_timeout(1500)
        return status

    def walk_threatened(self, age: str = "under18", limit: int = 40) -> list[str]:
        """From the menu, the threatened route by clicks until the plan's contacts screen.
        Returns the labels pressed (for a failure message); `limit` is a hang guard."""
        lang = self.lang
        pressed = [text(lang, "menu.threatened")]
        self.press(pressed[0])
        goal = text(lang, "after.plan.contacts")
        back, menu = text(lang, "engine.nav.back"), text(lang, "engine.nav.menu")
        prefer = [
            text(lang, key)
            for key in (
                "after.danger.no",
                f"after.age.{age}",
                "common.done",
                "evidence.btn.later",
                "after.happening.next",
                "after.threat.understood",
                "after.plan.to_later",
                "after.plan.to_contacts",
                "common.next",
                "common.continue",
            )
        ]
        for _ in range(limit):
            if any(goal in said for said in self.bot_texts()[-3:]):
                return pressed
            labels = self.labels()
            pick = next((p for p in prefer if p in labels), None) or next(
                (b for b in labels if b not in (back, menu)), None
            )
            assert pick is not None, f"no way on from {labels} after {pressed}"
            pressed.append(pick)
            self.press(pick)
        raise AssertionError(f"the plan's contacts never came: pressed {pressed}")
