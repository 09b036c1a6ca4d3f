"""The self-check before sending. Adults: one short question at a time, a summary that names
each risk. Under 18 or age not given: no risk check at all, only "don't send", why, how to
say no, and who to talk to."""

from __future__ import annotations

import pytest

from tests.helpers import Chat

DAY = "2026-11-25T14:00+09:00"
LATE = "2026-11-26T02:00+09:00"
LANGS = ["ja", "en"]

# (question key, the answer that is a risk, the summary item it must produce)
QUESTIONS = [
    ("selfcheck.frame.id", "common.yes", "selfcheck.summary.id"),
    ("selfcheck.frame.view", "common.yes", "selfcheck.summary.view"),
    ("selfcheck.frame.logo", "common.yes", "selfcheck.summary.logo"),
    ("selfcheck.frame.face", "common.yes", "selfcheck.summary.face"),
    ("selfcheck.frame.location", "common.yes", "selfcheck.summary.location"),
    ("selfcheck.service.rules", "common.yes", "selfcheck.summary.rules"),
    ("selfcheck.service.agecheck", "common.no", "selfcheck.summary.agecheck"),
    ("selfcheck.service.room", "common.yes", "selfcheck.summary.room"),
    ("selfcheck.person.photo", "common.yes", "selfcheck.summary.photo"),
    ("selfcheck.person.early", "common.yes", "selfcheck.summary.early"),
    ("selfcheck.person.push", "common.yes", "selfcheck.summary.push"),
    ("selfcheck.person.minor", "common.yes", "selfcheck.summary.minor"),
    ("selfcheck.person.rush", "common.yes", "selfcheck.summary.rush"),
    ("selfcheck.you.alcohol", "common.yes", "selfcheck.summary.alcohol"),
    ("selfcheck.you.lonely", "common.yes", "selfcheck.summary.lonely"),
]
SAFE = {q: ("common.yes" if risky == "common.no" else "common.no") for q, risky, _ in QUESTIONS}
RISKY = {q: risky for q, risky, _ in QUESTIONS}
ALL_ITEMS = [item for _, _, item in QUESTIONS] + [
    "selfcheck.summary.age_unclear", "selfcheck.summary.late", "selfcheck.summary.unsure_note"]
AGE_BUTTON = {"under18": "selfcheck.age.under18", "adult": "selfcheck.age.adult",
              "unsaid": "common.rather_not_say"}


async def open_selfcheck(lang: str, now: str = DAY, age: str | None = "adult") -> Chat:
    chat = await Chat.start(lang=lang, now=now)
    await chat.press("menu.selfcheck")
    assert "selfcheck.intro" in chat.keys
    await chat.press("selfcheck.start")
    if age is not None:
        assert "selfcheck.age.q" in chat.keys
        await chat.press(AGE_BUTTON[age])
    return chat


async def answer_all(chat: Chat, answers: dict[str, str] | None = None) -> Chat:
    """Answer the 15 questions in order: the given answers, otherwise the safe one."""
    answers = answers or {}
    for question, _, _ in QUESTIONS:
        assert question in chat.keys, (question, chat.keys)
        await chat.press(answers.get(question, SAFE[question]))
    return chat


async def to_summary(lang: str, answers: dict[str, str] | None = None, *, now: str = DAY,
                     age: str = "adult") -> Chat:
    return await answer_all(await open_selfcheck(lang, now, age), answers)


def risk_items(chat: Chat) -> list[str]:
    return [k for k in chat.keys if k in ALL_ITEMS]


async def all_risks(chat: Chat) -> list[str]:
    """The risks listed over the summary's screens (the list is split to fit a phone)."""
    found = risk_items(chat)
    if await chat.position() == ("selfcheck", "risks"):
        await chat.press("common.next")
        if await chat.position() == ("selfcheck", "risks_more"):
            found += risk_items(chat)
    return found


async def to_choice(chat: Chat) -> Chat:
    """From the summary, on past the risk screens (and the stop screen) to the safest choice."""
    for _ in range(4):
        if "selfcheck.choice.safest" in chat.keys:
            return chat
        await chat.press("common.next")
    raise AssertionError(chat.keys)


# --- the conversation ----------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
async def test_questions_come_one_at_a_time_with_yes_no_not_sure(lang):
    chat = await open_selfcheck(lang)
    for question, _, _ in QUESTIONS:
        questions_shown = [k for k in chat.keys if k in {q for q, _, _ in QUESTIONS}]
        assert questions_shown == [question]
        for key in ("common.yes", "common.no", "common.not_sure"):
            chat.button_for(key)
        assert len(chat.labels) <= 8
        await chat.press(SAFE[question])


@pytest.mark.parametrize("lang", LANGS)
async def test_questions_are_grouped_in_four_short_sections(lang):
    chat = await open_selfcheck(lang)
    intros = []
    for question, _, _ in QUESTIONS:
        intros += [k for k in chat.keys if k.endswith(".intro")]
        await chat.press(SAFE[question])
    assert intros == ["selfcheck.frame.intro", "selfcheck.service.intro",
                      "selfcheck.person.intro", "selfcheck.you.intro"]


@pytest.mark.parametrize("lang", LANGS)
async def test_age_is_asked_once_and_then_reused(lang):
    chat = await to_summary(lang, age="adult")
    assert (await chat.slots())["age"] == "adult"
    await chat.command("menu")
    await chat.press("menu.selfcheck")
    await chat.press("selfcheck.start")
    assert "selfcheck.age.q" not in chat.keys
    assert "selfcheck.frame.id" in chat.keys


# --- the summary names what was found --------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("question,risky,item", QUESTIONS)
async def test_each_risky_answer_names_its_own_risk_and_nothing_else(lang, question, risky, item):
    chat = await to_summary(lang, {question: risky})
    assert "selfcheck.summary.risks_intro" in chat.keys
    assert risk_items(chat) == [item]
    assert chat.t(item) in chat.text


@pytest.mark.parametrize("lang", LANGS)
async def test_visible_id_gives_the_id_warning(lang):
    chat = await to_summary(lang, {"selfcheck.frame.id": "common.yes"})
    assert "selfcheck.summary.id" in chat.keys
    assert ("身分証" if lang == "ja" else "ID") in chat.text


@pytest.mark.parametrize("lang", LANGS)
async def test_face_and_body_together_is_named_as_the_threat_material(lang):
    chat = await to_summary(lang, {"selfcheck.frame.face": "common.yes"})
    assert ("顔と体" if lang == "ja" else "Face and body") in chat.text


@pytest.mark.parametrize("lang", LANGS)
async def test_not_sure_counts_as_a_risk_and_says_why(lang):
    chat = await to_summary(lang, {"selfcheck.frame.location": "common.not_sure",
                                   "selfcheck.service.agecheck": "common.not_sure"})
    assert risk_items(chat) == ["selfcheck.summary.location", "selfcheck.summary.agecheck",
                                "selfcheck.summary.unsure_note"]


@pytest.mark.parametrize("lang", LANGS)
async def test_every_risk_at_once_lists_every_item(lang):
    chat = await to_summary(lang, RISKY, now=LATE)
    expected = [item for _, _, item in QUESTIONS]
    expected.insert(expected.index("selfcheck.summary.alcohol"), "selfcheck.summary.late")
    assert await all_risks(chat) == expected


@pytest.mark.parametrize("lang", LANGS)
async def test_no_risk_by_day_says_so_but_still_says_the_safest_choice_is_not_to_send(lang):
    chat = await to_summary(lang)
    assert "selfcheck.summary.clear" in chat.keys
    assert risk_items(chat) == []
    await chat.press("common.next")
    assert "selfcheck.minor_stop.adult" not in chat.keys
    assert chat.keys[0] == "selfcheck.choice.safest"
    assert "selfcheck.choice.rules" in chat.keys


@pytest.mark.parametrize("lang", LANGS)
async def test_adults_who_still_send_get_the_personal_rules(lang):
    chat = await to_choice(await to_summary(lang, {"selfcheck.frame.face": "common.yes"}))
    assert "selfcheck.choice.safest" in chat.keys
    assert "selfcheck.choice.rules" in chat.keys
    rules = chat.t("selfcheck.choice.rules")
    for words in (["顔と体", "身元", "保存・録画", "年齢確認"] if lang == "ja"
                  else ["face and your body", "identifies you", "recorded", "age checks"]):
        assert words in rules


# --- under 18, or age not given: never a risk check -----------------------------------------

COACHING = ["selfcheck.frame.", "selfcheck.service.", "selfcheck.person.", "selfcheck.you.",
            "selfcheck.summary.", "selfcheck.choice.rules", "selfcheck.offer.late",
            "selfcheck.contacts.late", "selfcheck.bye.late"]


async def walk_young(lang: str, age: str, now: str = LATE) -> list[str]:
    """Every key a young (or age-unknown) person is shown, to the end of the self-check."""
    chat = await open_selfcheck(lang, now, age)
    seen = list(chat.keys)
    for button in ("selfcheck.young.next", "common.next", "selfcheck.young.show_lines"):
        await chat.press(button)
        seen += chat.keys
    assert await chat.position() == ("selfcheck", "young_lines")
    return seen, chat


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("age", ["under18", "unsaid"])
async def test_young_or_unknown_age_gets_no_tips_on_taking_or_sending_even_late(lang, age):
    seen, chat = await walk_young(lang, age)
    assert not [k for k in seen if k.startswith(tuple(COACHING))], seen
    for words in (["カーテン", "背景", "お酒", "朝"] if lang == "ja"
                  else ["curtain", "background", "drinking", "morning"]):
        assert words not in "\n".join(chat.t(k) for k in seen)


@pytest.mark.parametrize("lang", LANGS)
async def test_under18_is_told_not_to_send_why_and_that_the_asker_is_in_the_wrong(lang):
    chat = await open_selfcheck(lang, age="under18")
    assert chat.keys[0] == "selfcheck.young.dont"
    text = chat.text
    for words in (["送らないで", "法律", "悪いのは、もとめてくる人", "守られる側"] if lang == "ja"
                  else ["don't send", "against the law", "the person asking", "protects"]):
        assert words in text
    # the law is cited under the message
    assert ("出典：児童ポルノ禁止法" if lang == "ja"
            else "Source: Child Pornography Prohibition Act") in text
    assert "engine.sources" in chat.keys


@pytest.mark.parametrize("lang", LANGS)
async def test_under18_learns_how_to_say_no_and_who_to_talk_to_with_child_lines(lang):
    seen, chat = await walk_young(lang, "under18", now=DAY)
    assert "selfcheck.young.say_no" in seen and "selfcheck.young.talk" in seen
    assert "contacts:children" in chat.keys
    assert ("チャイルドライン" if lang == "ja" else "Childline") in chat.text
    talk = chat.t("selfcheck.young.talk")
    assert ("画像を見せる必要はありません" if lang == "ja" else "never have to show") in talk


@pytest.mark.parametrize("lang", LANGS)
async def test_rather_not_say_gets_child_lines_and_adult_lines(lang):
    seen, chat = await walk_young(lang, "unsaid", now=DAY)
    assert "selfcheck.young.unsaid" in seen
    under18, _ = await walk_young(lang, "under18", now=DAY)
    assert "selfcheck.young.unsaid" not in under18
    assert ("チャイルドライン" if lang == "ja" else "Childline") in chat.text
    assert len(chat.text) > 0


@pytest.mark.parametrize("lang", LANGS)
async def test_rather_not_say_can_still_choose_the_adult_check(lang):
    chat = await open_selfcheck(lang, age="unsaid")
    await chat.press("selfcheck.young.im_adult")
    assert (await chat.slots())["age"] == "adult"
    assert "selfcheck.frame.id" in chat.keys


@pytest.mark.parametrize("lang", LANGS)
async def test_under18_is_not_offered_the_adult_check(lang):
    chat = await open_selfcheck(lang, age="under18")
    with pytest.raises(AssertionError):
        chat.button_for("selfcheck.young.im_adult")


# --- minor signs: a hard stop ----------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
async def test_minor_signs_give_the_stop_note_before_anything_else(lang):
    chat = await to_summary(lang, {"selfcheck.person.minor": "common.yes"})
    assert "selfcheck.summary.minor" in chat.keys
    await chat.press("common.next")
    assert chat.keys[0] == "selfcheck.minor_stop.adult"
    text = chat.t("selfcheck.minor_stop.adult")
    assert ("送らない、受け取らない、保存しない" if lang == "ja"
            else "Don't send images, don't accept them, don't save them") in text
    await chat.press("common.next")
    assert "selfcheck.choice.safest" in chat.keys


@pytest.mark.parametrize("lang", LANGS)
async def test_minor_signs_lead_to_the_legal_lines(lang):
    chat = await to_summary(lang, {"selfcheck.person.minor": "common.yes"})
    await chat.press("common.next")
    await chat.press("selfcheck.minor_stop.crime_button")
    assert "crime.intro" in chat.keys
    assert await chat.position() == ("crime_lines", "intro")


@pytest.mark.parametrize("lang", LANGS)
async def test_unclear_age_is_listed_without_the_hard_stop(lang):
    chat = await to_summary(lang, {"selfcheck.person.minor": "common.not_sure"})
    assert "selfcheck.summary.age_unclear" in chat.keys
    await chat.press("common.next")
    assert "selfcheck.minor_stop.adult" not in chat.keys
    assert "selfcheck.choice.safest" in chat.keys


# --- late at night: sleep on it -------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
async def test_late_night_is_named_and_the_person_is_told_to_sleep_on_it(lang):
    chat = await open_selfcheck(lang, now=LATE)
    for question, _, _ in QUESTIONS:
        if question == "selfcheck.you.alcohol":
            assert "selfcheck.you.late" in chat.keys
        await chat.press(SAFE[question])
    assert risk_items(chat) == ["selfcheck.summary.late"]
    await chat.walk("common.next", "common.next")
    assert "selfcheck.offer.late" in chat.keys
    assert not any(clock in chat.text for clock in ("2時", "2 a.m.", "午前"))
    await chat.press("selfcheck.offer.skip")
    assert "selfcheck.bye.late" in chat.keys


@pytest.mark.parametrize("lang", LANGS)
async def test_by_day_there_is_no_sleep_on_it(lang):
    chat = await to_summary(lang)
    await chat.walk("common.next", "common.next")
    assert "selfcheck.offer.text" in chat.keys
    assert "selfcheck.offer.late" not in chat.keys
    await chat.press("selfcheck.offer.show")
    assert "selfcheck.contacts.late" not in chat.keys


# --- the end: contacts to keep ----------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
async def test_offer_shows_the_extortion_contacts_and_ends(lang):
    chat = await to_summary(lang, now=LATE)
    await chat.walk("common.next", "common.next", "selfcheck.offer.show")
    assert "selfcheck.contacts.text" in chat.keys
    assert "contacts:extortion" in chat.keys
    assert "selfcheck.contacts.late" in chat.keys
    assert "110" in chat.text
    assert await chat.position() == ("selfcheck", "contacts")
    chat.button_for("engine.nav.menu")  # an end: the engine offers menu and quick exit


@pytest.mark.parametrize("lang", LANGS)
async def test_not_now_ends_kindly(lang):
    chat = await to_summary(lang)
    await chat.walk("common.next", "common.next", "selfcheck.offer.skip")
    assert await chat.position() == ("selfcheck", "bye")
    assert "selfcheck.bye.text" in chat.keys


# --- answers can be changed, and a new run starts clean ---------------------------------------

@pytest.mark.parametrize("lang", LANGS)
async def test_back_lets_you_change_an_answer(lang):
    chat = await open_selfcheck(lang)
    await chat.press("common.yes")           # ID visible...
    assert "selfcheck.frame.view" in chat.keys
    await chat.press("engine.nav.back")      # ...no, wait
    assert "selfcheck.frame.id" in chat.keys
    await chat.press("common.no")
    await answer_all_from(chat, 1)
    assert "selfcheck.summary.id" not in chat.keys


async def answer_all_from(chat: Chat, start: int) -> None:
    for question, _, _ in QUESTIONS[start:]:
        assert question in chat.keys
        await chat.press(SAFE[question])


@pytest.mark.parametrize("lang", LANGS)
async def test_a_second_check_forgets_the_first_answers(lang):
    chat = await to_summary(lang, {"selfcheck.frame.id": "common.yes"})
    assert "selfcheck.summary.id" in chat.keys
    await chat.command("menu")
    await chat.press("menu.selfcheck")
    assert (await chat.slots()).get("sc_id") is None
    await chat.press("selfcheck.start")
    await answer_all(chat)
    assert "selfcheck.summary.id" not in chat.keys
    assert "selfcheck.summary.clear" in chat.keys


def test_selfcheck_never_tells_anyone_to_pay_delete_or_send():
    from tests.helpers import content

    locales = content().locales
    for lang in LANGS:
        for key in locales.keys():
            if not key.startswith("selfcheck."):
                continue
            text = locales.text(lang, key)
            for bad in ("払ってください", "削除してください", "消してください", "送ってください",
                        "please pay", "pay them", "delete the", "send them more"):
                assert bad not in text, (lang, key)
