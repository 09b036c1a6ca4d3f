""""I already sent a photo": danger first, age, what is happening, one section per item, a plan.

Each test is one person's story. The walk helper presses the forward button of every
step and keeps every text and locale key the person saw, so a test can check both the
order of the advice and that nothing ever tells anyone to pay, delete or send.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests.helpers import Chat, content

LANGS = ["ja", "en"]
NIGHT = "2026-11-26T01:30+09:00"
ROOT = Path(__file__).resolve().parents[2]

HAPPENING = {
    "threat": "after.happening.threat",
    "paid": "after.happening.paid",
    "video_call": "after.happening.video_call",
    "posted": "after.happening.posted",
    "app_link": "after.happening.app_link",
    "other_minor": "after.happening.other_minor",
    "worried": "after.happening.worried",
}
AGE_BUTTON = {"under18": "after.age.under18", "adult": "after.age.adult",
              "unsaid": "common.rather_not_say"}
FORWARD = ("after.threat.understood", "common.next")


class Walk:
    """Everything one person saw, in order."""

    def __init__(self, chat: Chat):
        self.chat = chat
        self.keys: list[str] = []
        self.texts: list[str] = []
        self.note()

    def note(self) -> None:
        self.keys += self.chat.keys
        self.texts.append(self.chat.text)

    async def press(self, key: str) -> None:
        await self.chat.press(key)
        self.note()

    async def type(self, text: str) -> None:
        await self.chat.type(text)
        self.note()

    def has_button(self, key: str) -> bool:
        try:
            self.chat.button_for(key)
        except AssertionError:
            return False
        return True

    async def to_plan(self, ticks: tuple[str, ...] = ()) -> None:
        """Press forward until the plan; in the evidence checklist tick `ticks`, then go on."""
        for _ in range(40):
            if "after.plan.intro" in self.chat.keys:
                return
            if "evidence.list.q" in self.chat.keys:
                for item in ticks:
                    await self.press(f"evidence.btn.{item}")
                await self.press("common.done")
                if "evidence.remaining" in self.chat.keys:
                    await self.press("evidence.btn.later")
                continue
            if "after.happening.q_more" in self.chat.keys:
                await self.press("after.happening.next")
                continue
            for key in FORWARD:
                if self.has_button(key):
                    await self.press(key)
                    break
            else:
                raise AssertionError(f"stuck: keys={self.chat.keys} buttons={self.chat.labels}")
        raise AssertionError("never reached the plan")

    async def through_plan(self) -> None:
        """From the plan's first screen to its last (now, later, contacts, a last word)."""
        for key in ("after.plan.to_later", "after.plan.to_contacts", "common.next"):
            await self.press(key)
        assert "after.plan.crisis" in self.chat.keys, self.chat.keys

    def index(self, key: str) -> int:
        return self.keys.index(key)

    @property
    def all_text(self) -> str:
        return "\n".join(self.texts)


async def open_after(lang: str, age: str | None = "adult", *, danger: str = "after.danger.no",
                     now: str = NIGHT) -> Walk:
    chat = await Chat.start(lang=lang, now=now)
    await chat.press("menu.after_sending")
    walk = Walk(chat)
    assert "after.danger.q" in chat.keys
    await walk.press(danger)
    if danger == "after.danger.yes":
        await walk.press("after.danger.called")
    if age is not None:
        assert {"after.age.q"} <= set(chat.keys), chat.keys
        await walk.press(AGE_BUTTON[age])
    return walk


async def tick(walk: Walk, *items: str) -> None:
    for item in items:
        await walk.press(HAPPENING[item])
    await walk.press("after.happening.next")


async def plan_for(lang: str, items: tuple[str, ...], age: str = "adult") -> Walk:
    walk = await open_after(lang, age)
    await tick(walk, *items)
    await walk.to_plan()
    await walk.through_plan()
    return walk


def plan_keys(walk: Walk) -> list[str]:
    """Every key of the plan's screens (after through_plan)."""
    return walk.keys[len(walk.keys) - 1 - walk.keys[::-1].index("after.plan.intro"):]


# --- what must never be said ----------------------------------------------------------------

# Uninstalling a malicious app is advised (after its screens are captured as evidence:
# see test_app_is_captured_first_then_cut_off_and_uninstalled), so it is not listed here.
JA_FORBIDDEN = re.compile(
    r"(払って|はらって|支払って|振り込んで|消して|削除して|送って|転送して)"
    r"(ください|下さい|おきましょう|しまいましょう|みましょう)"
    r"|(払い|はらい|支払い|消し|削除し|送り|振り込み)ましょう")
EN_ACTION = re.compile(r"\b(pay|send|delete|erase|forward)\b", re.IGNORECASE)
EN_GUARD = re.compile(r"\b(don't|do not|never|not|no|stop|before|won't|n't)\b|n't\b", re.IGNORECASE)
QUOTED = re.compile(r"「[^」]*」|\"[^\"]*\"|“[^”]*”")


def instructions_to_pay_delete_or_send(text: str) -> list[str]:
    """Sentences that tell the reader to pay, delete or send (quoted threats don't count)."""
    text = QUOTED.sub("", text)
    bad = [m.group(0) for m in JA_FORBIDDEN.finditer(text)]
    for sentence in re.split(r"(?<=[.!?。？\n;])", text):
        if sentence.strip().endswith(("?", "？")):
            continue  # a question ("When did you send the image?") instructs nothing
        if EN_ACTION.search(sentence) and not EN_GUARD.search(sentence):
            bad.append(sentence.strip())
    return bad


def test_the_guard_itself_catches_bad_advice():
    assert instructions_to_pay_delete_or_send("今すぐ払ってください")
    assert instructions_to_pay_delete_or_send("会話を削除しましょう")
    assert instructions_to_pay_delete_or_send("Send them the photo.")
    assert instructions_to_pay_delete_or_send("Delete the chat now.")
    assert not instructions_to_pay_delete_or_send("Don't pay. Don't delete the chat.")
    assert not instructions_to_pay_delete_or_send("お金を払わない。画像は送らないでください。")
    assert not instructions_to_pay_delete_or_send('11/24 "Pay or I send it to everyone"')
    assert not instructions_to_pay_delete_or_send("When did you send the image?")


# --- danger and age --------------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
async def test_person_in_danger_is_told_to_call_110_before_anything_else(lang):
    chat = await Chat.start(lang=lang, now=NIGHT)
    await chat.press("menu.after_sending")
    await chat.press("after.danger.yes")
    assert chat.keys[0] == "after.danger.now"
    assert "110" in chat.text
    assert chat.labels[0] == chat.t("after.danger.called")
    await chat.press("after.danger.called")
    assert "after.age.q" in chat.keys


@pytest.mark.parametrize("lang", LANGS)
async def test_late_at_night_the_bot_acknowledges_the_hour_but_not_by_day(lang):
    chat = await Chat.start(lang=lang, now=NIGHT)
    await chat.press("menu.after_sending")
    assert chat.keys == ["after.intro", "after.night", "after.danger.q"]
    chat = await Chat.start(lang=lang, now="2026-11-26T15:00+09:00")
    await chat.press("menu.after_sending")
    assert chat.keys == ["after.intro", "after.danger.q"]


@pytest.mark.parametrize("lang", LANGS)
async def test_unsure_about_danger_hears_110_is_fine_and_goes_on(lang):
    chat = await Chat.start(lang=lang, now=NIGHT)
    await chat.press("menu.after_sending")
    await chat.press("common.not_sure")
    assert chat.keys[:2] == ["after.danger.unsure", "after.age.q"]
    assert "110" in chat.text


@pytest.mark.parametrize("lang", LANGS)
async def test_age_is_asked_once_and_not_again_when_the_person_comes_back(lang):
    walk = await open_after(lang, "adult")
    assert "after.happening.q" in walk.chat.keys
    await walk.chat.press("engine.nav.menu")
    await walk.chat.press("menu.after_sending")
    await walk.chat.press("after.danger.no")
    assert "after.age.q" not in walk.chat.keys
    assert "after.happening.q" in walk.chat.keys


@pytest.mark.parametrize("lang", LANGS)
async def test_under_18_hears_first_that_they_are_the_one_protected(lang):
    walk = await open_after(lang, "under18")
    assert walk.chat.keys[0] == "after.age.minor"
    assert (await walk.chat.slots())["age"] == "under18"


@pytest.mark.parametrize("lang", LANGS)
async def test_rather_not_say_is_accepted_without_pressure(lang):
    walk = await open_after(lang, "unsaid")
    assert walk.chat.keys[0] == "after.age.unsaid"
    assert (await walk.chat.slots())["age"] == "unsaid"
    assert "after.happening.q" in walk.chat.keys


# --- what is happening ------------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
async def test_nothing_ticked_gets_a_gentle_note_and_the_same_question(lang):
    walk = await open_after(lang)
    await walk.press("after.happening.next")
    assert walk.chat.keys[:2] == ["after.happening.none", "after.happening.q"]


@pytest.mark.parametrize("lang", LANGS)
async def test_ticks_show_a_check_mark_and_can_be_undone(lang):
    walk = await open_after(lang)
    await walk.press("after.happening.posted")
    label = walk.chat.t("after.happening.posted")
    assert "✅ " + label in walk.chat.labels
    await walk.press("after.happening.posted")
    assert label in walk.chat.labels
    assert "posted" not in (await walk.chat.slots()).get("happening", [])


# --- threatened: the "do not" list comes first --------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
async def test_threatened_user_is_told_not_to_pay_before_anything_else(lang):
    chat = await Chat.start(lang=lang, now=NIGHT)
    await chat.press("menu.threatened")
    walk = Walk(chat)
    assert walk.keys == ["after.threatened.intro", "after.night", "after.danger.q"]
    await walk.press("after.danger.no")
    assert "after.age.q_short" in chat.keys
    await walk.press("after.age.adult")
    assert chat.keys[0] == "after.threat.dont"
    await walk.to_plan()
    await walk.through_plan()
    order = [walk.index(k) for k in ("after.threat.dont", "evidence.intro",
                                      "after.threat.block", "after.threat.police",
                                      "after.happening.q_more", "after.plan.intro")]
    assert order == sorted(order)
    for key in ("after.plan.dont", "after.plan.evidence", "after.plan.block", "after.plan.police"):
        assert key in plan_keys(walk)
    assert not instructions_to_pay_delete_or_send(walk.all_text)


@pytest.mark.parametrize("lang", LANGS)
async def test_threatened_user_is_told_the_police_do_not_casually_tell_schools(lang):
    walk = await open_after(lang)
    await tick(walk, "threat")
    assert walk.chat.keys[:3] == ["after.threat.dont", "after.threat.deadline", "after.threat.lies"]
    assert ("学校" if lang == "ja" else "school") in walk.chat.text


@pytest.mark.parametrize("lang", LANGS)
async def test_a_countdown_is_named_a_pressure_trick_and_paying_does_not_stop_it(lang):
    walk = await open_after(lang)
    await tick(walk, "threat")
    assert "after.threat.deadline" in walk.chat.keys
    text = walk.chat.t("after.threat.deadline")
    assert ("24時間以内" if lang == "ja" else "24 hours") in text
    assert ("止まりません" if lang == "ja" else "doesn't stop") in text


@pytest.mark.parametrize("lang", LANGS)
async def test_threat_route_says_to_make_friend_and_follower_lists_private(lang):
    walk = await plan_for(lang, ("threat",))
    assert walk.index("evidence.list.q") < walk.index("after.threat.lock_down")
    assert ("フォロワー" if lang == "ja" else "followers") in walk.chat.t("after.threat.lock_down")


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("age", ["under18", "unsaid"])
async def test_a_teen_or_someone_without_an_age_gets_words_for_an_adult_and_child_lines(lang, age):
    walk = await plan_for(lang, ("threat",), age=age)
    assert "after.threat.tell_adult" in walk.keys
    words = walk.chat.t("after.threat.tell_adult")
    assert re.search(r"「[^」]{20,}」|\"[^\"]{40,}\"", words)  # a sentence to send as it is
    assert ("画像そのものを見せる必要は、ありません" if lang == "ja"
            else "never have to show anyone the image") in words
    assert walk.index("after.threat.tell_adult") < walk.index("evidence.list.q")
    assert "after.plan.tell_adult" in plan_keys(walk)
    assert "after.threat.dont" not in walk.keys and "after.threat.dont_minor" in walk.keys
    if walk.chat.dialogue.content.directory is not None:
        assert "0120-0-78310" in walk.all_text  # the 24-hour children's line
        assert "110" in walk.all_text


@pytest.mark.parametrize("lang", LANGS)
async def test_an_adult_is_not_given_words_for_telling_an_adult(lang):
    walk = await plan_for(lang, ("threat",), age="adult")
    assert "after.threat.tell_adult" not in walk.keys
    assert "after.plan.tell_adult" not in walk.keys


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("age", ["under18", "unsaid"])
async def test_without_a_stated_adult_age_no_adult_only_text_is_ever_shown(lang, age):
    flow = content().flows["after_sending"]
    adult_only = {item.key for state in flow.states.values() for item in state.says()
                  if item.audience == "adult"}
    assert {"after.minor.law", "after.posted.law", "after.hash.adult"} <= adult_only
    walk = await plan_for(lang, tuple(HAPPENING), age=age)
    assert not adult_only & set(walk.keys)


@pytest.mark.parametrize("lang", LANGS)
async def test_evidence_is_saved_before_blocking(lang):
    walk = await open_after(lang)
    await tick(walk, "threat")
    await walk.to_plan()
    assert walk.index("after.threat.evidence_intro") < walk.index("evidence.list.q") \
        < walk.index("after.threat.block")


@pytest.mark.parametrize("lang", LANGS)
async def test_video_call_alone_gets_the_same_steps_as_a_threat(lang):
    walk = await plan_for(lang, ("video_call",))
    for key in ("after.threat.video_note", "after.threat.dont", "evidence.list.q",
                "after.threat.police"):
        assert key in walk.keys
    assert "after.plan.dont" in plan_keys(walk)


@pytest.mark.parametrize("lang", LANGS)
async def test_someone_who_already_paid_hears_no_shame_and_to_stop_paying(lang):
    walk = await plan_for(lang, ("paid",))
    assert walk.index("after.threat.paid_note") < walk.index("after.threat.dont")
    assert walk.index("after.threat.block") < walk.index("after.paid.main") \
        < walk.index("after.threat.police")
    assert "after.plan.paid" in plan_keys(walk)
    assert not instructions_to_pay_delete_or_send(walk.all_text)


@pytest.mark.parametrize("lang", LANGS)
async def test_threatened_entry_then_ticking_paid_still_gets_the_paid_steps(lang):
    chat = await Chat.start(lang=lang, now=NIGHT)
    await chat.press("menu.threatened")
    walk = Walk(chat)
    await walk.press("after.danger.no")
    await walk.press("after.age.adult")
    for _ in range(10):
        if "after.happening.q_more" in chat.keys:
            break
        if "evidence.list.q" in chat.keys:
            await walk.press("common.done")
            await walk.press("evidence.btn.later")
            continue
        await walk.press("common.next" if walk.has_button("common.next")
                         else "after.threat.understood")
    await walk.press("after.happening.paid")
    await walk.press("after.happening.next")
    assert chat.keys[:2] == ["after.threat.paid_note", "after.paid.main"]
    await walk.to_plan()
    await walk.through_plan()
    assert walk.keys.count("after.threat.dont") == 1
    assert "after.plan.paid" in plan_keys(walk)


# --- the other branches ----------------------------------------------------------------------

EXPECTED_PLAN = {
    "threat": ["after.plan.danger", "after.plan.dont", "after.plan.evidence", "after.plan.block",
               "after.plan.police", "contacts:extortion"],
    "paid": ["after.plan.dont", "after.plan.paid", "after.plan.police"],
    "video_call": ["after.plan.dont", "after.plan.block", "after.plan.police"],
    "posted": ["after.plan.posted", "after.plan.takedown", "after.plan.hash", "contacts:leak"],
    "app_link": ["after.plan.app", "contacts:extortion"],
    "worried": ["after.plan.worried", "after.plan.hash", "after.plan.if_starts"],
    "other_minor": ["after.plan.minor", "after.plan.lawyer", "contacts:legal"],
}
NOT_IN_PLAN = {
    "posted": ["after.plan.dont", "after.plan.paid"],
    "worried": ["after.plan.police", "after.plan.takedown"],
    "other_minor": ["after.plan.dont", "after.plan.not_your_fault", "after.plan.hash"],
    "app_link": ["after.plan.takedown"],
}


def _with_directory(keys: list[str], chat: Chat) -> list[str]:
    if chat.dialogue.content.directory is None:
        return [k for k in keys if not k.startswith("contacts:")]
    return keys


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("item", sorted(EXPECTED_PLAN))
async def test_each_situation_leads_to_its_own_plan_steps(lang, item):
    walk = await plan_for(lang, (item,))
    shown = plan_keys(walk)
    for key in _with_directory(EXPECTED_PLAN[item], walk.chat):
        assert key in shown, (item, key)
    for key in NOT_IN_PLAN.get(item, []):
        assert key not in shown, (item, key)
    assert "after.plan.memo" in shown
    assert ("after.plan.good_step" if item == "other_minor" else "after.plan.not_your_fault") \
        in shown
    assert not instructions_to_pay_delete_or_send(walk.all_text)


@pytest.mark.parametrize("lang", LANGS)
async def test_posted_images_are_recorded_first_and_the_person_is_asked_not_to_keep_searching(lang):
    walk = await plan_for(lang, ("posted",))
    assert walk.index("after.posted.record") < walk.index("after.posted.takedown") \
        < walk.index("after.posted.lawyer") < walk.index("after.hash.adult")
    assert "after.posted.no_search" in walk.keys
    assert "after.hash.limits" in walk.keys
    text = walk.all_text
    for contact in ("safe-line.jp", "0570-003-110", "0570-078374", "StopNCII", "Take It Down"):
        assert contact in text


@pytest.mark.parametrize("lang", LANGS)
async def test_adult_whose_image_was_posted_captures_the_post_and_hears_they_can_complain(lang):
    walk = await plan_for(lang, ("posted",))
    record = walk.chat.t("after.posted.record")
    for word in (("URL", "日時", "アカウント", "画像そのもののコピーは要りません"),
                 ("URL", "date", "account", "not a copy of the image"))[lang == "en"]:
        assert word in record
    law = walk.chat.t("after.posted.law")
    assert ("私事性的画像記録の提供等による被害の防止に関する法律" if lang == "ja"
            else "Private Sexual Image Records") in law
    assert ("告訴" if lang == "ja" else "complaint") in law
    assert ("あなたは告訴ができます" if lang == "ja" else "You can make one") in law
    shown = next(t for t in walk.texts if law.splitlines()[0] in t)
    assert ("出典" if lang == "ja" else "Source") in shown  # the law's source under the text


@pytest.mark.parametrize("lang", LANGS)
async def test_under_18_with_a_posted_image_is_told_to_keep_the_url_not_the_image(lang):
    walk = await plan_for(lang, ("posted",), age="under18")
    assert "after.posted.record_minor" in walk.keys
    assert "after.posted.law" not in walk.keys
    text = walk.chat.t("after.posted.record_minor")
    assert "URL" in text
    assert ("保存したり、人に送ったりもしないで" if lang == "ja"
            else "don't save or forward") in text


@pytest.mark.parametrize("lang", LANGS)
async def test_posted_without_a_threat_can_open_the_evidence_checklist(lang):
    walk = await open_after(lang)
    await tick(walk, "posted")
    await walk.press("after.posted.open_checklist")
    assert "evidence.list.q" in walk.chat.keys
    await walk.press("evidence.btn.posted")
    await walk.press("common.done")
    await walk.press("evidence.btn.later")
    assert "after.posted.takedown" in walk.chat.keys


@pytest.mark.parametrize("lang", LANGS)
async def test_app_is_captured_first_then_cut_off_and_uninstalled(lang):
    walk = await plan_for(lang, ("app_link",))
    assert walk.index("after.app.main") < walk.index("after.app.cut")
    capture, cut = walk.chat.t("after.app.main"), walk.chat.t("after.app.cut")
    words = (("URL", "アプリの名前", "許可"), ("URL", "app's name", "permission"))
    for word in words[lang == "en"]:
        assert word in capture
    steps = (("機内モード", "許可", "アンインストール"),
             ("airplane mode", "permissions", "Uninstall"))
    positions = [cut.index(word) for word in steps[lang == "en"]]
    assert positions == sorted(positions)  # cut it off, then remove it
    assert ("証拠" if lang == "ja" else "evidence") in cut
    assert ("警察に相談してから" if lang == "ja" else "Ask the police before") not in walk.all_text


@pytest.mark.parametrize("lang", LANGS)
async def test_worried_person_learns_what_the_image_reveals_and_how_extortion_starts(lang):
    walk = await plan_for(lang, ("worried",))
    for key in ("after.worried.intro", "after.worried.reveal", "after.worried.steps",
                "after.worried.signs", "after.hash.adult", "after.hash.limits"):
        assert key in walk.keys


@pytest.mark.parametrize("lang", LANGS)
async def test_worried_and_threatened_is_not_told_nothing_has_happened(lang):
    walk = await plan_for(lang, ("threat", "worried"))
    assert "after.worried.reveal" in walk.keys
    assert "after.worried.intro" not in walk.keys
    assert "after.plan.if_starts" not in plan_keys(walk)


@pytest.mark.parametrize("lang", LANGS)
async def test_adult_worried_the_other_side_is_a_minor_is_told_not_to_delete_in_panic(lang):
    walk = await plan_for(lang, ("other_minor",))
    assert walk.keys.index("after.minor.stop") < walk.keys.index("after.minor.law") \
        < walk.keys.index("after.minor.lawyer")
    text = walk.all_text
    assert "0570-078374" in text
    assert ("弁護士会" if lang == "ja" else "bar association") in text
    assert ("朝になったら" if lang == "ja" else "in the morning") in text
    assert ("証拠を隠そうとした" if lang == "ja" else "hide evidence") in text
    assert ("法律の助言ではありません" if lang == "ja" else "not legal advice") in text
    assert ("7条1項" if lang == "ja" else "7(1)") in text
    assert not instructions_to_pay_delete_or_send(text)
    if walk.chat.dialogue.content.directory is not None:
        assert ("犯罪被害者支援ダイヤル" if lang == "ja" else "crime victims line") not in text


@pytest.mark.parametrize("lang", LANGS)
async def test_every_ticked_situation_is_handled_once_in_a_fixed_order(lang):
    walk = await plan_for(lang, tuple(HAPPENING))
    firsts = ["after.threat.dont", "after.paid.main", "after.app.main", "after.posted.record",
              "after.worried.reveal", "after.minor.stop", "after.plan.intro"]
    assert [walk.keys.count(k) for k in firsts] == [1] * len(firsts)
    assert [walk.index(k) for k in firsts] == sorted(walk.index(k) for k in firsts)
    assert walk.keys.count("evidence.list.q") == 1  # the checklist is not offered twice
    assert not instructions_to_pay_delete_or_send(walk.all_text)


# --- under 18 -----------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
async def test_under_18_gets_the_simple_route_a_trusted_adult_and_child_contacts(lang):
    walk = await plan_for(lang, tuple(HAPPENING), age="under18")
    keys = set(walk.keys)
    assert {"after.threat.dont_minor", "after.threat.lies_minor", "after.threat.police_minor",
            "after.paid.minor", "after.posted.record_minor", "after.posted.lawyer_minor",
            "after.hash.minor", "after.minor.young", "evidence.minor_note"} <= keys
    assert not keys & {"after.threat.dont", "after.threat.police", "after.posted.record",
                       "after.hash.adult", "after.minor.stop", "after.minor.law",
                       "after.minor.lawyer", "after.plan.hash", "after.plan.lawyer"}
    plan = plan_keys(walk)
    assert plan.index("after.plan.tell_adult") == plan.index("after.plan.now") + 1
    minor_items = {"after.plan.police_minor", "after.plan.hash_minor", "after.plan.minor_young"}
    assert minor_items <= set(plan)
    if walk.chat.dialogue.content.directory is not None:
        # the extortion block, shown for the person's age group (child lines first)
        assert [k for k in plan if k.startswith("contacts:")] == ["contacts:extortion"]
    assert "after.plan.not_your_fault" in plan
    assert not instructions_to_pay_delete_or_send(walk.all_text)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("items,age,block", [
    (("worried",), "under18", "contacts:children"),
    (("other_minor",), "under18", "contacts:children"),
    (("posted",), "under18", "contacts:leak"),
    (("threat", "posted"), "adult", "contacts:extortion"),
    (("posted", "other_minor"), "adult", "contacts:leak"),
    (("worried",), "unsaid", "contacts:children"),
    (("other_minor",), "adult", "contacts:legal"),
])
async def test_the_plan_shows_one_contact_list_for_the_most_urgent_topic(lang, items, age, block):
    walk = await plan_for(lang, items, age=age)
    if walk.chat.dialogue.content.directory is None:
        pytest.skip("no contact directory")
    plan = plan_keys(walk)
    assert [k for k in plan if k.startswith("contacts:")] == [block]
    assert sum(k.startswith("contacts:") for k in walk.keys) == 1  # once on the whole route


# --- the evidence checklist ---------------------------------------------------------------------

EVIDENCE_ITEMS = ["chat", "profile", "place", "times", "payment", "moved", "posted"]


@pytest.mark.parametrize("lang", LANGS)
async def test_evidence_means_text_and_profiles_never_the_image_itself(lang):
    walk = await open_after(lang)
    await tick(walk, "threat")
    await walk.press("after.threat.understood")
    assert {"evidence.intro", "evidence.how", "evidence.list.q"} <= set(walk.chat.keys)
    assert "⚠️" in walk.chat.text
    assert "evidence.minor_note" not in walk.chat.keys


@pytest.mark.parametrize("lang", LANGS)
async def test_evidence_checklist_reminds_what_is_still_open_and_can_wait(lang):
    walk = await open_after(lang)
    await tick(walk, "threat")
    await walk.press("after.threat.understood")
    await walk.press("evidence.btn.chat")
    await walk.press("evidence.btn.profile")
    assert walk.chat.labels[0].startswith("✅ ")
    await walk.press("common.done")
    assert walk.chat.keys == ["evidence.remaining", "checklist:evidence"]
    lines = walk.chat.text.split("\n")
    assert sum(1 for line in lines if line.startswith("✅ ")) == 2
    assert sum(1 for line in lines if line.startswith("⬜ ")) == 5
    await walk.press("evidence.btn.back_to_list")
    assert walk.chat.keys == ["evidence.list.q"]
    await walk.press("common.done")
    await walk.press("evidence.btn.later")
    assert walk.chat.keys[:2] == ["evidence.later", "after.threat.block"]
    assert (await walk.chat.slots())["evidence_done"] == ["chat", "profile"]


@pytest.mark.parametrize("lang", LANGS)
async def test_evidence_checklist_all_ticked_returns_to_the_caller(lang):
    walk = await open_after(lang)
    await tick(walk, "threat")
    await walk.press("after.threat.understood")
    for item in EVIDENCE_ITEMS:
        await walk.press(f"evidence.btn.{item}")
    await walk.press("common.done")
    assert walk.chat.keys[:3] == ["evidence.all_done", "checklist:evidence", "after.threat.block"]
    assert "⬜" not in walk.chat.text


@pytest.mark.parametrize("lang", LANGS)
async def test_checklist_can_be_reopened_from_the_plan_and_keeps_its_ticks(lang):
    walk = await open_after(lang)
    await tick(walk, "threat")
    await walk.to_plan(ticks=("chat",))
    await walk.through_plan()
    await walk.press("after.plan.checklist")
    assert "✅ " + walk.chat.t("evidence.btn.chat") in walk.chat.labels
    await walk.press("common.done")
    await walk.press("evidence.btn.later")
    assert "after.plan.not_your_fault" in walk.chat.keys


# --- the end of the flow ---------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
async def test_plan_offers_the_memo_and_ends_with_menu_and_quick_exit(lang):
    walk = await plan_for(lang, ("threat",))
    await walk.press("after.plan.make_memo")
    assert await walk.chat.position() == ("memo", "intro")
    walk = await plan_for(lang, ("threat",))
    await walk.press("after.plan.finish")
    assert walk.chat.keys == ["after.bye"]
    assert walk.chat.t("engine.nav.menu") in walk.chat.labels
    assert walk.chat.t("engine.nav.exit") in walk.chat.labels


# --- free text -----------------------------------------------------------------------------------

async def test_typed_story_of_a_recorded_video_call_and_money_enters_the_threatened_route():
    chat = await Chat.start(lang="ja", now=NIGHT)
    await chat.type("インスタで知らない人とビデオ通話したら録画されてて10万払えって言われた")
    assert chat.keys == ["engine.intent.confirm"]
    await chat.press("engine.intent.yes")
    assert await chat.position() == ("after_sending", "danger")
    assert {"threat", "video_call"} <= set((await chat.slots())["happening"])
    assert "after.threatened.intro" in chat.keys
    await chat.press("after.danger.no")
    await chat.press("after.age.adult")
    assert chat.keys[:2] == ["after.threat.video_note", "after.threat.dont"]


async def test_typed_english_story_of_a_recorded_call_enters_the_threatened_route_too():
    chat = await Chat.start(lang="en", now=NIGHT)
    await chat.type("I did a video call on Instagram, they recorded it and want 500 dollars")
    await chat.press("engine.intent.yes")
    assert await chat.position() == ("after_sending", "danger")
    assert {"threat", "video_call"} <= set((await chat.slots())["happening"])


async def test_a_teen_who_types_their_school_year_is_asked_their_age_not_assumed_the_other_side():
    chat = await Chat.start(lang="ja", now=NIGHT)
    await chat.type("高校生です。画像送ったら晒すって言われた")
    await chat.press("engine.intent.yes")
    slots = await chat.slots()
    assert "other_minor" not in slots["happening"]
    assert "age" not in slots
    await chat.press("after.danger.no")
    assert "after.age.q_short" in chat.keys
    await chat.press("after.age.under18")
    keys = [k for k in chat.keys if k != "engine.sources"]
    assert keys[:2] == ["after.age.minor", "after.threat.dont_minor"]


async def test_typed_app_install_starts_the_triage_with_that_item_ticked():
    chat = await Chat.start(lang="ja", now=NIGHT)
    await chat.type("リンクからアプリを入れたら連絡先を抜かれたみたい")
    await chat.press("engine.intent.yes")
    assert await chat.position() == ("after_sending", "danger")
    assert (await chat.slots())["happening"] == ["app_link"]
    await chat.press("after.danger.no")
    await chat.press("after.age.adult")
    assert "✅ " + chat.t("after.happening.app_link") in chat.labels


async def test_declining_the_guess_keeps_the_person_where_they_were():
    chat = await Chat.start(lang="ja", now=NIGHT)
    await chat.type("ビデオ通話で録画されたみたいで払えって")
    await chat.press("engine.intent.no")
    assert (await chat.position())[0] == "menu"


# --- content shape ---------------------------------------------------------------------------

MY_FLOWS = ("after_sending", "evidence", "memo")


def _flat(node, prefix=""):
    for key, value in node.items():
        key = {True: "yes", False: "no"}.get(key, key)
        if isinstance(value, dict):
            yield from _flat(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def _texts(lang: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for name in MY_FLOWS:
        out.update(_flat(yaml.safe_load((ROOT / "locales" / lang / f"{name}.yaml").read_text())))
    return out


def _button_keys() -> set[str]:
    keys = set()
    for name in MY_FLOWS:
        flow = yaml.safe_load((ROOT / "flows" / f"{name}.yaml").read_text())
        for state in flow["states"].values():
            buttons = state.get("buttons") or []
            assert len(buttons) <= 8, (name, state)
            keys |= {b["text"] for b in buttons}
    return keys


@pytest.mark.parametrize("lang,text_max,label_max", [("ja", 400, 20), ("en", 700, 30)])
def test_every_message_fits_a_phone_screen_and_labels_are_short(lang, text_max, label_max):
    texts = _texts(lang)
    common = dict(_flat(yaml.safe_load((ROOT / "locales" / lang / "common.yaml").read_text())))
    for key, value in texts.items():
        assert len(value) <= text_max, key
        assert "<" not in value and "**" not in value, key  # plain text, no markup
    for key in _button_keys():
        assert len(texts.get(key) or common[key]) <= label_max, key


@pytest.mark.parametrize("lang", LANGS)
def test_no_text_of_these_flows_tells_anyone_to_pay_delete_or_send(lang):
    for key, value in _texts(lang).items():
        assert not instructions_to_pay_delete_or_send(value), key
