"""The consultation memo: one skippable question at a time, an overview, a file, and edits."""

from __future__ import annotations

import pytest

from tests.helpers import Chat

LANGS = ["ja", "en"]
NIGHT = "2026-11-26T01:30+09:00"

# (ask state key, what the person types, what the memo must show)
FIELDS = [
    ("memo.app.q", "Instagram", "Instagram"),
    ("memo.other_id.q", "@yuna_2005 「ゆな」プロフィール: 19歳 東京", "@yuna_2005"),
    ("memo.room.q", "深夜の雑談ルーム", "深夜の雑談ルーム"),
    ("memo.started_at.q", "11/24 22:40", "22:40"),
    ("memo.sent_at.q", "11/24 23:10", "23:10"),
    ("memo.sent_what.q", "顔と上半身、部屋の壁", "顔と上半身"),
    ("memo.threats.q", "11/24 23:15「友達全員に送る」\n11/24 23:40「あと1時間」", "あと1時間"),
    ("memo.demand.q", "10万円 アマギフで", "10万円"),
    ("memo.paid.q", "2万円 アマギフ 11/25 0:10", "2万円"),
    ("memo.my_age.q", "22", "22"),
    ("memo.their_age.q", "19と言っていた", "19と言っていた"),
    ("memo.urls.q", "https://example.com/a\nhttps://example.com/b", "https://example.com/b"),
]
SLOTS = ["memo_app", "memo_other_id", "memo_room", "memo_started_at", "memo_sent_at",
         "memo_sent_what", "memo_threats", "memo_demand", "memo_paid", "memo_my_age",
         "memo_their_age", "memo_urls", "evidence_done"]


async def open_memo(lang: str) -> Chat:
    chat = await Chat.start(lang=lang, now=NIGHT)
    await chat.press("menu.memo")
    assert chat.keys == ["memo.intro"]
    await chat.press("memo.btn.start")
    return chat


async def fill(chat: Chat, answers: dict[str, str | None]) -> None:
    """Answer every field in order: typed text, or Skip when the answer is None."""
    for question, _, _ in FIELDS:
        assert question in chat.keys, (question, chat.keys)
        answer = answers.get(question)
        if answer is None:
            await chat.press("common.skip")
        else:
            await chat.type(answer)
    assert "memo.evidence.q" in chat.keys


async def full_memo(lang: str) -> Chat:
    chat = await open_memo(lang)
    await fill(chat, {q: typed for q, typed, _ in FIELDS})
    await chat.press("memo.btn.open_checklist")
    await chat.press("evidence.btn.chat")
    await chat.press("evidence.btn.payment")
    await chat.press("common.done")
    await chat.press("evidence.btn.later")
    assert "memo:view" in chat.keys
    return chat


def memo_text(chat: Chat) -> str:
    """The memo block of the last reply (the text after the overview's intro)."""
    intro = chat.t("memo.overview.intro")
    text = chat.text
    return text[text.index(intro) + len(intro):]


@pytest.mark.parametrize("lang", LANGS)
async def test_every_question_comes_alone_and_can_be_skipped(lang):
    chat = await open_memo(lang)
    for question, _, _ in FIELDS:
        asked = [k for k in chat.keys if k.endswith(".q")]
        assert asked == [question]
        assert chat.t("common.skip") in chat.labels
        await chat.press("common.skip")
    assert chat.keys == ["memo.evidence.q"]
    await chat.press("common.skip")
    assert chat.keys[:2] == ["memo.overview.intro", "memo:view"]


@pytest.mark.parametrize("lang", LANGS)
async def test_a_memo_with_every_field_filled_shows_every_answer(lang):
    chat = await full_memo(lang)
    memo = memo_text(chat)
    assert chat.t("memo.title") in memo
    for slot in SLOTS:
        assert chat.t(f"memo.field.{slot}") in memo, slot
    for _, _, shown in FIELDS:
        assert shown in memo, shown
    assert chat.t("memo.value.evidence_done.chat") in memo
    assert chat.t("memo.value.evidence_done.payment") in memo
    assert chat.t("memo.not_given") not in memo
    assert chat.t("memo.footer").split("\n")[0] in memo
    for button in ("memo.btn.file", "memo.btn.edit", "memo.btn.done"):
        chat.button_for(button)


@pytest.mark.parametrize("lang", LANGS)
async def test_skipped_fields_show_as_not_given(lang):
    chat = await open_memo(lang)
    answers = {q: typed for q, typed, _ in FIELDS}
    answers["memo.room.q"] = None
    answers["memo.paid.q"] = None
    answers["memo.sent_at.q"] = None
    await fill(chat, answers)
    await chat.press("common.skip")
    memo = memo_text(chat)
    not_given = chat.t("memo.not_given")
    for slot in ("memo_room", "memo_paid", "memo_sent_at", "evidence_done"):
        label = chat.t(f"memo.field.{slot}")
        line = next(line for line in memo.split("\n") if line.startswith(label))
        assert line.endswith(not_given), line
    assert memo.count(not_given) == 4


@pytest.mark.parametrize("lang", LANGS)
async def test_tricky_input_is_kept_exactly_as_plain_text(lang):
    chat = await open_memo(lang)
    tricky = "<b>相手</b> & <script>alert(1)</script> \"quoted\" 'single' 😱🙏 {memo_app} %s"
    await chat.type(tricky)
    long_text = ("あ" * 1999) + "😱"  # 2,000 characters (the emoji is one)
    assert len(long_text) == 2000
    await chat.type(long_text)
    assert "memo.room.q" in chat.keys
    slots = await chat.slots()
    assert slots["memo_app"] == tricky
    assert slots["memo_other_id"] == long_text
    for _ in range(len(FIELDS) - 2):
        await chat.press("common.skip")
    await chat.press("common.skip")
    memo = memo_text(chat)
    assert tricky in memo
    assert long_text in memo


@pytest.mark.parametrize("lang", LANGS)
async def test_a_memo_with_every_field_at_2000_characters_still_reaches_the_person(lang):
    chat = await open_memo(lang)
    answers = {}
    for i, (question, _, _) in enumerate(FIELDS):
        if question in ("memo.started_at.q", "memo.sent_at.q"):
            answers[question] = "11/24 23:10"
        else:
            answers[question] = chr(0x3042 + i) * 1998 + "🙂!"  # 2,000 characters
    assert all(len(a) == 2000 for a in answers.values() if len(a) > 100)
    await fill(chat, answers)
    await chat.press("common.skip")
    texts = [m.text for m in chat.last.messages if m.text]
    assert len(texts) > 1  # split into several messages
    assert all(len(t.encode("utf-16-le")) // 2 <= 4096 for t in texts)  # Telegram's limit
    joined = "".join(texts)
    for typed in answers.values():
        if len(typed) > 100:
            assert typed[:1998] in joined.replace("\n", "")
    await chat.press("memo.btn.file")
    body = next(m.document for m in chat.last.messages if m.document).content.decode("utf-8-sig")
    for typed in answers.values():
        if len(typed) > 100:
            assert typed in body


@pytest.mark.parametrize("lang", LANGS)
async def test_more_than_2000_characters_is_refused_kindly_and_the_question_stays(lang):
    chat = await open_memo(lang)
    await chat.type("x" * 2001)
    assert chat.keys[0] == "memo.invalid_text"
    assert "2000" in chat.text and "2001" in chat.text
    assert "memo.app.q" in chat.keys
    assert "memo_app" not in await chat.slots()


@pytest.mark.parametrize("lang", LANGS)
async def test_a_time_that_cannot_be_read_is_asked_again_with_examples(lang):
    chat = await open_memo(lang)
    for _ in range(3):
        await chat.press("common.skip")
    assert "memo.started_at.q" in chat.keys
    await chat.type("ずっと前 / a while ago maybe")
    assert chat.keys[0] == "memo.invalid_datetime"
    assert "memo.started_at.q" in chat.keys
    await chat.type("yesterday 23:00" if lang == "en" else "昨日 23時")
    assert "memo.sent_at.q" in chat.keys
    assert (await chat.slots())["memo_started_at"].startswith("2026-11-25")


@pytest.mark.parametrize("lang", LANGS)
async def test_the_memo_can_be_taken_away_as_a_file(lang):
    chat = await full_memo(lang)
    await chat.press("memo.btn.file")
    assert "memo.file.intro" in chat.keys
    docs = [m.document for m in chat.last.messages if m.document is not None]
    assert len(docs) == 1
    body = docs[0].content.decode("utf-8-sig")
    assert docs[0].filename
    for _, _, shown in FIELDS:
        assert shown in body
    assert chat.t("memo.value.evidence_done.chat") in body
    await chat.press("memo.btn.back_to_overview")
    assert "memo:view" in chat.keys


@pytest.mark.parametrize("lang", LANGS)
async def test_editing_one_entry_goes_back_to_the_overview(lang):
    chat = await full_memo(lang)
    await chat.press("memo.btn.edit")
    assert chat.keys == ["memo.edit.q"]
    await chat.press("memo.edit.sent_what")
    assert "memo.sent_what.q" in chat.keys
    await chat.type("顔だけ")
    assert chat.keys[:2] == ["memo.overview.intro", "memo:view"]
    assert "顔だけ" in memo_text(chat)
    assert "顔と上半身" not in memo_text(chat)
    # an entry on the second page
    await chat.press("memo.btn.edit")
    await chat.press("memo.btn.more_fields")
    await chat.press("memo.edit.urls")
    await chat.type("https://example.org/new")
    assert "https://example.org/new" in memo_text(chat)


@pytest.mark.parametrize("lang", LANGS)
async def test_an_entry_can_be_cleared(lang):
    chat = await full_memo(lang)
    await chat.press("memo.btn.edit")
    await chat.press("memo.edit.app")
    await chat.press("memo.btn.clear")
    assert chat.keys[:2] == ["memo.overview.intro", "memo:view"]
    line = next(line for line in memo_text(chat).split("\n")
                if line.startswith(chat.t("memo.field.memo_app")))
    assert line.endswith(chat.t("memo.not_given"))


@pytest.mark.parametrize("lang", LANGS)
async def test_clear_is_offered_only_when_there_is_something_to_clear(lang):
    chat = await open_memo(lang)
    assert chat.t("memo.btn.clear") not in chat.labels


@pytest.mark.parametrize("lang", LANGS)
async def test_evidence_can_be_changed_from_the_edit_page(lang):
    chat = await full_memo(lang)
    await chat.press("memo.btn.edit")
    await chat.press("memo.btn.more_fields")
    await chat.press("memo.edit.evidence")
    await chat.press("memo.btn.open_checklist")
    await chat.press("evidence.btn.profile")
    await chat.press("common.done")
    await chat.press("evidence.btn.later")
    assert chat.t("memo.value.evidence_done.profile") in memo_text(chat)


@pytest.mark.parametrize("lang", LANGS)
async def test_the_memo_asks_for_words_never_the_image(lang):
    chat = await open_memo(lang)
    for _ in range(5):
        await chat.press("common.skip")
    assert "memo.sent_what.q" in chat.keys
    assert "⚠️" in chat.text
    await chat.media("photo")
    assert "memo.sent_what.q" in chat.keys  # still here; the photo was not taken as an answer
    assert "memo_sent_what" not in await chat.slots()


@pytest.mark.parametrize("lang", LANGS)
async def test_coming_back_shows_the_memo_so_far_and_done_ends_kindly(lang):
    chat = await full_memo(lang)
    await chat.press("memo.btn.done")
    assert chat.keys == ["memo.bye"]
    await chat.press("engine.nav.menu")
    await chat.press("menu.memo")
    await chat.press("memo.btn.overview")
    assert "Instagram" in memo_text(chat)
