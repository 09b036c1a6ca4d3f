"""A person walks the chat in a real browser: by clicks in Japanese and English, by plain
form posts with JavaScript off, and on a 320 px wide phone."""

from __future__ import annotations

from typing import Any

from ._site import Chat, Server, text


def _contacts_shown(chat: Chat) -> str:
    said = "\n".join(chat.bot_texts())
    assert text(chat.lang, "after.plan.contacts") in said
    return said


def test_threatened_teen_reaches_the_plan_and_contacts_by_clicks_in_japanese(
    page: Any, server: Server
) -> None:
    page.goto(server.url)
    assert page.get_attribute("html", "lang") == "ja"
    chat = Chat(page, "ja")
    assert text("ja", "menu.threatened") in chat.labels()
    pressed = chat.walk_threatened(age="under18")
    said = _contacts_shown(chat)
    assert text("ja", "after.age.under18") in pressed
    # Under 18: the children's line is offered.
    assert "24時間子供SOSダイヤル" in said or "チャイルドライン" in said, said[-2000:]


def test_threatened_adult_reaches_the_plan_and_contacts_by_clicks_in_english(
    page: Any, server: Server
) -> None:
    page.goto(server.url + "?lang=en")
    assert page.get_attribute("html", "lang") == "en"
    chat = Chat(page, "en")
    assert text("en", "menu.threatened") in chat.labels()
    chat.walk_threatened(age="adult")
    said = _contacts_shown(chat)
    assert "110" in said


def test_the_same_triage_works_by_plain_form_posts_without_javascript(
    browser: Any, server: Server
) -> None:
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        posts: list[str] = []
        page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
        page.goto(server.url)
        chat = Chat(page, "ja", js=False)
        chat.walk_threatened(age="under18")
        _contacts_shown(chat)
        # Every turn was a whole-page form post to the chat's own address, never the JSON API.
        assert posts and all(url == server.url for url in posts), posts
        # The token lives only in the forms: no cookie, and never in the address.
        assert context.cookies() == []
        assert page.url == server.url
        assert page.locator('#choices input[name="token"]').get_attribute("value")
    finally:
        context.close()


def _no_horizontal_scroll(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, f"the page is {width} px wide at a 320 px viewport"


def test_a_320px_phone_never_scrolls_sideways_and_buttons_are_big_enough(
    browser: Any, server: Server
) -> None:
    context = browser.new_context(viewport={"width": 320, "height": 640})
    try:
        page = context.new_page()
        page.goto(server.url)
        _no_horizontal_scroll(page)
        chat = Chat(page, "ja")
        chat.press(text("ja", "menu.threatened"))
        _no_horizontal_scroll(page)
        # A crisis answer brings long lines: phone numbers, names of helplines.
        chat.say("もう死にたい")
        first_line = text("ja", "crisis.message").splitlines()[0]
        assert any(first_line in said for said in chat.bot_texts())
        _no_horizontal_scroll(page)
        for box in [b.bounding_box() for b in page.locator("#choices button.choice").all()]:
            assert box is not None and box["height"] >= 44, box
        send = page.locator("#send").bounding_box()
        assert send is not None and send["height"] >= 44 and send["width"] >= 44
    finally:
        context.close()
