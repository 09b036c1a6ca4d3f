"""What a browser sees of the web chat: nothing fetched from anywhere but 127.0.0.1, no
cookies, the strict headers, and no serious accessibility problem (axe-core) in either
language."""

from __future__ import annotations

from typing import Any

from ._site import Chat, Server, text

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def test_a_whole_triage_fetches_nothing_from_outside_and_sets_no_cookie(
    page: Any, context: Any, server: Server, traffic: Any
) -> None:
    answer = page.goto(server.url)
    headers = answer.headers
    csp = headers.get("content-security-policy", "")
    assert "default-src 'none'" in csp and "script-src 'self'" in csp, csp
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp, csp
    assert headers.get("referrer-policy") == "no-referrer"
    assert "no-store" in headers.get("cache-control", "")
    chat = Chat(page, "ja")
    chat.walk_threatened(age="under18")
    chat.say("<b>こわい</b>")
    assert len(traffic.requests) > 10, "the walk made requests (else this test proves nothing)"
    assert traffic.outside() == []
    assert traffic.set_cookies == []
    assert context.cookies() == []
    # The page's own script and styles are served from the same place.
    assert any(u.endswith(".js") for u in traffic.requests)
    assert any(u.endswith(".css") for u in traffic.requests)


def _serious(page: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
    assert found.response["passes"], "axe checked nothing (else this test proves nothing)"
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in found.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_axe_finds_nothing_serious_in_japanese_or_english(browser: Any, server: Server) -> None:
    problems: list[str] = []
    for lang, query in (("ja", ""), ("en", "?lang=en")):
        page = browser.new_context().new_page()  # a fresh tab: a new conversation
        page.goto(server.url + query)
        problems += [f"{lang} menu: {p}" for p in _serious(page)]
        chat = Chat(page, lang)
        chat.press(text(lang, "menu.threatened"))
        problems += [f"{lang} first step: {p}" for p in _serious(page)]
        page.emulate_media(color_scheme="dark")
        problems += [f"{lang} dark: {p}" for p in _serious(page)]
        page.emulate_media(color_scheme="light")
        if lang == "en":
            page.goto(server.url + "about-exit?lang=en")
            problems += [f"about-exit: {p}" for p in _serious(page)]
        page.context.close()
    assert problems == []
