"""Keyboard only, and motion reduced: a person who cannot use a mouse, or who asked the
phone for less motion, still gets through."""

from __future__ import annotations

from typing import Any

from ._site import Chat, Server, text

_FOCUS_SHOWN = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  return (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0)
      || style.boxShadow !== "none";
}"""


def test_tab_and_enter_alone_choose_a_button_with_the_focus_visible(
    page: Any, server: Server
) -> None:
    page.goto(server.url)
    chat = Chat(page, "ja")
    wanted = text("ja", "menu.threatened")
    for _ in range(40):  # a hang guard: the buttons come after a few links
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == wanted:
            break
    else:
        raise AssertionError("Tab never reached the button")
    assert page.evaluate(_FOCUS_SHOWN), "the focused button shows no focus ring"
    chat.turn(lambda: page.keyboard.press("Enter"))
    assert text("ja", "after.threatened.intro").splitlines()[0] in chat.bot_texts()[-1]
    # After the answer the focus is somewhere useful, not dropped on the page itself.
    assert page.evaluate("document.activeElement !== document.body")


def test_with_reduced_motion_nothing_moves(browser: Any, server: Server) -> None:
    context = browser.new_context(reduced_motion="reduce")
    try:
        page = context.new_page()
        page.goto(server.url)
        chat = Chat(page, "ja")
        chat.press(text("ja", "menu.threatened"))
        assert page.evaluate("document.getAnimations().length") == 0
        smooth = page.evaluate("getComputedStyle(document.documentElement).scrollBehavior")
        assert smooth != "smooth"
    finally:
        context.close()
