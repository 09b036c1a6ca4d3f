"""For parents and teachers: urgent check first, topics they choose, a summary to keep."""

from __future__ import annotations

import re

import pytest

from tests.helpers import Chat, content

LANGS = ["ja", "en"]
TOPICS = {  # menu button → (first screen key, summary item)
    "guardians.menu.talk": ("guardians.talk.step1", "guardians.summary.talk"),
    "guardians.menu.never": ("guardians.never.part1", "guardians.summary.never"),
    "guardians.menu.todo": ("guardians.todo.evidence", "guardians.summary.todo"),
    "guardians.menu.where": ("guardians.where.places", "guardians.summary.where"),
    "guardians.menu.rules": ("guardians.rules.text", "guardians.summary.rules"),
    "guardians.menu.escalate": ("guardians.escalate.text", "guardians.summary.escalate"),
}
SUMMARY_ITEMS = [item for _, item in TOPICS.values()]


async def open_guardians(lang: str) -> Chat:
    chat = await Chat.start(lang=lang)
    await chat.press("menu.guardians")
    assert chat.keys == ["guardians.urgent.q"]
    return chat


async def to_menu(lang: str) -> Chat:
    chat = await open_guardians(lang)
    await chat.press("common.no")
    assert chat.keys == ["guardians.menu.text"]
    return chat


async def read_topic(chat: Chat, button: str) -> list[str]:
    """Open a topic from the menu, read every screen, come back; return the keys shown."""
    await chat.press(button)
    shown = list(chat.keys)
    while chat.t("common.next") in chat.labels:
        await chat.press("common.next")
        shown += chat.keys
    await chat.press("guardians.menu.topics")
    assert chat.keys == ["guardians.menu.text"]
    return shown


def all_guardian_texts(lang: str) -> dict[str, str]:
    locales = content().locales
    return {k: locales.text(lang, k) for k in locales.keys() if k.startswith("guardians.")}


# --- urgent first ------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
async def test_danger_now_sends_the_guardian_to_110_first(lang):
    chat = await open_guardians(lang)
    await chat.press("common.yes")
    assert chat.keys[0] == "guardians.urgent.now"
    assert "contacts:police" in chat.keys
    call_now = "すぐに110番" if lang == "ja" else "Call 110 now"
    assert chat.t("guardians.urgent.now").startswith(call_now)
    await chat.press("guardians.urgent.after")
    assert chat.keys == ["guardians.menu.text"]


@pytest.mark.parametrize("lang", LANGS)
async def test_not_sure_lists_the_signs_and_any_match_goes_to_110(lang):
    chat = await open_guardians(lang)
    await chat.press("common.not_sure")
    assert chat.keys == ["guardians.urgent.unsure"]
    await chat.press("guardians.urgent.matches")
    assert "guardians.urgent.now" in chat.keys
    assert (await chat.slots())["gd_urgent"] == "yes"


@pytest.mark.parametrize("lang", LANGS)
async def test_not_sure_with_no_sign_goes_to_the_topics(lang):
    chat = await open_guardians(lang)
    await chat.press("common.not_sure")
    await chat.press("guardians.urgent.no_match")
    assert chat.keys == ["guardians.menu.text"]


@pytest.mark.parametrize("lang", LANGS)
async def test_urgent_case_is_remembered_in_the_summary(lang):
    chat = await open_guardians(lang)
    await chat.walk("common.yes", "guardians.urgent.after", "guardians.menu.summary")
    assert "guardians.summary.urgent" in chat.keys


# --- the guardian chooses ---------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
async def test_the_menu_offers_every_topic_and_the_summary(lang):
    chat = await to_menu(lang)
    for button in [*TOPICS, "guardians.menu.summary"]:
        chat.button_for(button)
    assert len(chat.labels) <= 8 + 2  # topics + the engine's back and menu


@pytest.mark.parametrize("lang", LANGS)
async def test_topics_can_be_read_in_any_order(lang):
    chat = await to_menu(lang)
    for button in reversed(list(TOPICS)):
        first_screen, _ = TOPICS[button]
        shown = await read_topic(chat, button)
        assert shown[0] == first_screen


@pytest.mark.parametrize("lang", LANGS)
async def test_talking_is_four_steps_one_per_screen_with_example_phrases(lang):
    chat = await to_menu(lang)
    await chat.press("guardians.menu.talk")
    steps = []
    for n in range(1, 5):
        assert chat.keys == [f"guardians.talk.step{n}"]
        steps.append(chat.text)
        if n < 4:
            await chat.press("common.next")
    for n, text in enumerate(steps, 1):
        assert f"{n}/4" in text
        assert ("例：「" if lang == "ja" else 'e.g. "') in text
    assert ("怒らない" if lang == "ja" else "won't be angry") in steps[0]
    assert ("誰と" if lang == "ja" else "Who") in steps[1]
    assert ("相手の犯罪" if lang == "ja" else "crime") in steps[2]
    assert ("一緒に" if lang == "ja" else "together") in steps[3]


# --- never the image -------------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
async def test_guardian_is_told_never_to_forward_the_childs_image(lang):
    chat = await to_menu(lang)
    await chat.press("guardians.menu.never")
    text = chat.text
    if lang == "ja":
        for word in ("見ない", "コピーしない", "保存しない", "転送しない", "証拠のため",
                     "所持や提供"):
            assert word in text
    else:
        assert "Don't look at, copy, save or forward the child's image" in text
        assert 'Not even "as evidence"' in text
        assert "possessing or providing" in text


@pytest.mark.parametrize("lang", LANGS)
async def test_the_summary_always_leads_with_never_touching_the_image(lang):
    chat = await to_menu(lang)
    await chat.press("guardians.menu.summary")
    assert chat.keys[0] == "guardians.summary.intro"
    intro = chat.t("guardians.summary.intro")
    assert ("見ない、保存しない、転送しない" if lang == "ja"
            else "Don't look at, save or forward the image") in intro


@pytest.mark.parametrize("lang", LANGS)
def test_guardians_never_advise_viewing_saving_or_forwarding_the_image(lang):
    positive = (r"画像を(見て|開いて|保存して|転送して|送って|コピーして)(ください|おいて)"
                if lang == "ja" else
                r"\b(please )?(look at|open|save|forward|copy|screenshot) the (child's )?image\b")
    for key, text in all_guardian_texts(lang).items():
        for line in text.splitlines():
            if lang == "en" and re.search(r"\b(don't|never|not)\b", line, re.I):
                continue
            assert not re.search(positive, line, re.I), (key, line)


@pytest.mark.parametrize("lang", LANGS)
async def test_evidence_is_the_chat_text_and_profile_not_the_image(lang):
    chat = await to_menu(lang)
    await chat.press("guardians.menu.todo")
    text = chat.t("guardians.todo.evidence")
    assert ("画像が写っている部分は除く" if lang == "ja"
            else "leaving out any part that shows an image") in text
    assert ("プロフィール" if lang == "ja" else "profile") in text


@pytest.mark.parametrize("lang", LANGS)
async def test_never_pay_confront_or_confiscate_as_punishment(lang):
    chat = await to_menu(lang)
    await chat.walk("guardians.menu.never", "common.next")
    text = chat.t("guardians.never.part2")
    for word in (["お金を払わない", "言い返したり", "罰としてスマホを取り上げない"] if lang == "ja"
                 else ["Don't pay", "Don't confront", "Don't take the phone away as a punishment"]):
        assert word in text


# --- what to do ---------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
async def test_what_to_do_covers_platform_police_take_it_down_and_school(lang):
    chat = await to_menu(lang)
    shown = await read_topic(chat, "guardians.menu.todo")
    assert shown == ["guardians.todo.evidence", "guardians.todo.report", "guardians.todo.school"]
    report = chat.t("guardians.todo.report")
    for word in ("110", "#9110", "takeitdown.ncmec.org"):
        assert word in report
    assert ("公式サイトで確認してください" if lang == "ja" else "official site") in report


@pytest.mark.parametrize("lang", LANGS)
async def test_when_it_grows_physical_safety_comes_first(lang):
    chat = await to_menu(lang)
    await chat.press("guardians.menu.escalate")
    text = chat.text
    safety, evidence, police = (("体の安全", "証拠", "警察と弁護士") if lang == "ja"
                                else ("Physical safety", "Evidence", "Police and a lawyer"))
    assert text.index(safety) < text.index(evidence) < text.index(police)


@pytest.mark.parametrize("lang", LANGS)
async def test_family_rules_include_the_no_anger_promise(lang):
    chat = await to_menu(lang)
    await chat.press("guardians.menu.rules")
    assert ("絶対に怒らない" if lang == "ja" else "I won't be angry") in chat.text


# --- the summary reflects what they read ----------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
async def test_summary_lists_only_the_topics_read_and_points_to_the_rest(lang):
    chat = await to_menu(lang)
    await read_topic(chat, "guardians.menu.talk")
    await read_topic(chat, "guardians.menu.rules")
    await chat.press("guardians.menu.summary")
    items = [k for k in chat.keys if k in SUMMARY_ITEMS]
    assert items == ["guardians.summary.talk", "guardians.summary.rules"]
    assert "guardians.summary.unread" in chat.keys
    assert "guardians.summary.urgent" not in chat.keys


@pytest.mark.parametrize("lang", LANGS)
async def test_summary_after_reading_everything_has_every_item_and_no_unread_note(lang):
    chat = await to_menu(lang)
    for button in TOPICS:
        await read_topic(chat, button)
    await chat.press("guardians.menu.summary")
    assert [k for k in chat.keys if k in SUMMARY_ITEMS] == SUMMARY_ITEMS
    assert "guardians.summary.unread" not in chat.keys


@pytest.mark.parametrize("lang", LANGS)
async def test_summary_ends_with_contacts_for_guardians_and_the_police(lang):
    chat = await to_menu(lang)
    await chat.press("guardians.menu.summary")
    for desk in ("ぱっぷす", "#8891", "safe-line.jp", "ihaho.jp") if lang == "ja" else \
            ("PAPS", "#8891", "safe-line.jp", "ihaho.jp"):
        assert desk in chat.text
    await chat.press("guardians.summary.to_contacts")
    assert "contacts:children" in chat.keys
    assert "contacts:police" in chat.keys
    assert await chat.position() == ("guardians", "summary_contacts")
    chat.button_for("engine.nav.menu")


@pytest.mark.parametrize("lang", LANGS)
async def test_showing_the_screen_means_the_messages_never_the_image(lang):
    chat = await to_menu(lang)
    await chat.press("guardians.menu.rules")
    assert ("メッセージ" if lang == "ja" else "messages") in chat.text
    assert ("画像は見せなくていい" if lang == "ja"
            else "never have to show me the image") in chat.text


@pytest.mark.parametrize("lang", LANGS)
async def test_the_school_is_asked_to_keep_the_url_and_not_save_or_forward_the_image(lang):
    chat = await to_menu(lang)
    await chat.press("guardians.menu.todo")
    await chat.press("common.next")
    await chat.press("common.next")
    assert chat.keys == ["guardians.todo.school"]
    assert "URL" in chat.text
    assert ("保存や転送はせず" if lang == "ja" else "not to save or forward") in chat.text


@pytest.mark.parametrize("lang", LANGS)
async def test_a_new_visit_starts_with_nothing_read(lang):
    chat = await to_menu(lang)
    await read_topic(chat, "guardians.menu.never")
    await chat.command("menu")
    await chat.press("menu.guardians")
    await chat.walk("common.no", "guardians.menu.summary")
    assert [k for k in chat.keys if k in SUMMARY_ITEMS] == []
