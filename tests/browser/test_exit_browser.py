"""Quick exit in a real browser: by the always-visible button and by Shift pressed three
times. The tab ends at the operator's neutral site, Back does not return to the chat, and the
chat's origin keeps nothing in sessionStorage or localStorage."""

from __future__ import annotations

from typing import Any

from ._site import STEP_MS, Chat, Server, text


def _open_chat_after_a_neutral_page(page: Any, server: Server) -> str:
    """A page of the same origin first (so Back has somewhere to go and its storage can be
    read), then the chat with one turn taken and the conversation kept on this device."""
    page.goto(server.url + "healthz")
    page.goto(server.url)
    chat = Chat(page, "ja")
    chat.press(text("ja", "menu.threatened"))
    page.check("#keep")
    stored = page.evaluate("sessionStorage.length + localStorage.length")
    assert stored > 0, "the chat keeps its token in the tab (else this test proves nothing)"
    exit_url = page.get_attribute('meta[name="kakekomi-exit"]', "content")
    assert exit_url and exit_url.startswith("https://")
    return exit_url


def _left_no_trace(page: Any, server: Server, exit_url: str, entries: int) -> None:
    page.wait_for_url(exit_url, timeout=STEP_MS)
    # The exit site took the chat's place in the tab's history instead of adding to it.
    assert page.evaluate("history.length") == entries
    assert page.locator("#log").count() == 0
    page.go_back(timeout=STEP_MS)
    # Back leads to the page before the chat, never to the chat itself.
    assert page.url == server.url + "healthz", page.url
    assert page.locator("#log").count() == 0
    # Same tab, same origin as the chat: its storage is what the chat left behind.
    assert page.evaluate("sessionStorage.length") == 0
    assert page.evaluate("localStorage.length") == 0
    origins = page.context.storage_state()["origins"]
    assert not [
        o
        for o in origins
        if o["origin"].startswith(server.url.rstrip("/")) and o.get("localStorage")
    ], origins


def test_exit_button_replaces_the_tab_and_clears_storage(
    page: Any, server: Server, traffic: Any
) -> None:
    exit_url = _open_chat_after_a_neutral_page(page, server)
    exit_link = page.locator("#exit")
    assert exit_link.is_visible()
    assert exit_link.get_attribute("rel") and "noreferrer" in exit_link.get_attribute("rel")
    entries = page.evaluate("history.length")
    exit_link.click()
    _left_no_trace(page, server, exit_url, entries)


def test_shift_pressed_three_times_exits_but_typing_capitals_does_not(
    page: Any, server: Server, traffic: Any
) -> None:
    exit_url = _open_chat_after_a_neutral_page(page, server)
    page.click("#say")
    for letter in "ABC":
        page.keyboard.press(f"Shift+{letter}")
    assert page.locator("#log").count() == 1, "capital letters must not close the chat"
    assert page.input_value("#say") == "ABC"
    page.locator("body").click(position={"x": 1, "y": 1})
    entries = page.evaluate("history.length")
    for _ in range(3):
        page.keyboard.press("Shift")
    _left_no_trace(page, server, exit_url, entries)


def test_exit_is_the_first_thing_the_keyboard_reaches(page: Any, server: Server) -> None:
    page.goto(server.url)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "exit"
