"""Browser tests: Playwright (pytest-playwright) on Debian's chromium-headless-shell against a
real `kakekomi serve` process. Without the browser or the `browser` extra they skip, saying why
(`make test` installs both; apt needs root)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ._site import Server, chromium, launch_args

HERE = Path(__file__).resolve().parent
# What the outside world answers in these tests: the exit site (the branding's https address)
# is fulfilled here, so nothing ever leaves the machine.
NEUTRAL = "<!doctype html><title>neutral</title><p>neutral page</p>"


def _missing() -> str | None:
    try:
        import axe_playwright_python  # noqa: F401
        import playwright.sync_api  # noqa: F401
        import pytest_playwright  # noqa: F401
    except ImportError:
        return "the 'browser' extra is not installed (make test installs it)"
    if chromium() is None:
        return "chromium-headless-shell is missing (make test installs it with apt as root)"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = _missing()
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.browser)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Debian's Chromium instead of Playwright's download; no sandbox (root in CI)."""
    return {**browser_type_launch_args, **launch_args()}


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = Server(tmp_path_factory.mktemp("serve"))
    yield running
    running.stop()


class Traffic:
    """Every request a browser context makes, and every response header it receives.
    Requests for any other host are answered here with a neutral page (never sent)."""

    def __init__(self, context: Any, server: Server):
        self.requests: list[str] = []
        self.set_cookies: list[str] = []
        self.local = f"http://127.0.0.1:{server.port}/"
        context.on("request", lambda r: self.requests.append(r.url))
        context.on("response", self._response)
        context.route(lambda url: not url.startswith(self.local), self._outside)

    def _response(self, response: Any) -> None:
        if response.header_value("set-cookie"):
            self.set_cookies.append(response.url)

    @staticmethod
    def _outside(route: Any) -> None:
        route.fulfill(status=200, content_type="text/html", body=NEUTRAL)

    def outside(self) -> list[str]:
        """Requests that would have left 127.0.0.1 (data: and about: are not requests out)."""
        return [
            u
            for u in self.requests
            if not u.startswith(self.local) and not u.startswith(("data:", "about:"))
        ]


@pytest.fixture
def traffic(context: Any, server: Server) -> Traffic:
    return Traffic(context, server)
