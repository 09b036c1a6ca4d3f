"""'Is this a crime?': general orientation on the legal lines, never legal advice."""

from __future__ import annotations

import itertools

import pytest

from tests.helpers import Chat, content

LANGS = ["ja", "en"]
AGE = {"under18": "crime.age.under18", "adult": "crime.age.adult",
       "unsaid": "common.rather_not_say"}
OTHER = {"under16": "crime.other_age.under16", "under18": "crime.other_age.under18",
         "adult": "crime.other_age.adult", "unknown": "crime.other_age.unknown"}
DID = ("sent_own", "received", "saved", "forwarded", "asked", "recorded")
THREAT = {"me": "crime.threat.me", "by_me": "crime.threat.by_me", "none": "crime.threat.none",
          "unsure": "common.not_sure"}
LINE_SCREENS = {  # the key that identifies each line screen
    "crime.line.child", "crime.line.ordinance", "crime.line.art182", "crime.line.revenge",
    "crime.line.recorded", "crime.line.own", "crime.line.own_young", "crime.line.didnt_know",
    "crime.line.threat_me",
    "crime.line.threat_by_me", "crime.line.threat_unsure", "crime.lawyer.steps",
    "crime.lawyer.where", "crime.lawyer.young", "crime.minor_user",
}


class Walk:
    """One walk through the flow: every reply shown, in order, and the summary at the end."""

    def __init__(self, chat: Chat, first: int, summary: list[str]):
        self.chat = chat
        self.first = first
        self.summary = summary  # the summary's keys, then its contacts screen's

    @property
    def replies(self):
        return self.chat.sent[self.first:]

    @property
    def screens(self) -> list[str]:
        """The line screens shown, in order (by their identifying key)."""
        found = []
        for reply in self.replies:
            found += [k for k in reply.keys if k in LINE_SCREENS and k not in found]
        return found

    def reply_with(self, key: str) -> str:
        """The text of the message that showed `key` (with its source line)."""
        return next(r.text for r in self.replies if key in r.keys)


async def walk(lang: str, age: str | None, other: str, did: tuple[str, ...] | list[str] = (),
               threat: str = "none", chat: Chat | None = None) -> Walk:
    chat = chat or await Chat.start(lang=lang)
    if await chat.position() != ("menu", "main"):
        await chat.command("menu")
    first = len(chat.sent)
    await chat.press("menu.crime")
    assert "crime.intro" in chat.keys
    await chat.press("crime.start")
    if age is not None:
        assert "crime.age.q" in chat.keys
        await chat.press(AGE[age])
    if "crime.minor_user" in chat.keys:
        await chat.press("common.next")
    assert "crime.other_age.q" in chat.keys
    await chat.press(OTHER[other])
    for item in did:
        await chat.press(f"crime.did.{item}")
    await chat.press("common.done")
    assert "crime.threat.q" in chat.keys
    await chat.press(THREAT[threat])
    for _ in range(15):
        if "crime.summary.intro" in chat.keys:
            break
        await chat.press("common.next")
    assert "crime.summary.intro" in chat.keys
    summary = list(chat.keys)
    await chat.press("crime.summary.to_contacts")
    return Walk(chat, first, summary + chat.keys)


# --- the disclaimer, on every screen -------------------------------------------------------

def test_every_crime_lines_state_that_talks_carries_the_disclaimer():
    flow = content().flows["crime_lines"]
    for state in flow.states.values():
        if state.say:
            unconditional = [s.key for s in state.say if s.when is None]
            assert "crime.disclaimer" in unconditional, state.name


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("age", ["under18", "adult", "unsaid"])
async def test_every_screen_of_every_path_shows_the_disclaimer(lang, age):
    did_sets = [(), *[(d,) for d in DID], DID]
    for other, did, threat in itertools.product(OTHER, did_sets, THREAT):
        w = await walk(lang, age, other, did, threat)
        for reply in w.replies:
            assert "crime.disclaimer" in reply.keys, (other, did, threat, reply.keys)
        assert w.chat.t("crime.disclaimer") in w.chat.text
        assert await w.chat.position() == ("crime_lines", "summary_contacts")


# --- which lines apply -------------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
async def test_adult_who_asked_an_under16_for_images_sees_every_child_line_and_a_lawyer(lang):
    w = await walk(lang, "adult", "under16", ["received", "saved", "asked"])
    assert w.screens == ["crime.line.child", "crime.line.ordinance", "crime.line.art182",
                         "crime.line.didnt_know", "crime.lawyer.steps", "crime.lawyer.where"]
    for key in ("crime.summary.child", "crime.summary.ordinance", "crime.summary.art182",
                "crime.summary.didnt_know", "crime.summary.next_lawyer"):
        assert key in w.summary
    assert "crime.summary.none" not in w.summary
    assert "児童ポルノ" in w.chat.t("crime.line.child") or lang == "en"


@pytest.mark.parametrize("lang", LANGS)
async def test_asking_a_16_or_17_year_old_is_the_ordinance_but_not_article_182(lang):
    w = await walk(lang, "adult", "under18", ["asked"])
    assert "crime.line.ordinance" in w.screens
    assert "crime.line.art182" not in w.screens
    assert "crime.summary.art182" not in w.summary


@pytest.mark.parametrize("lang", LANGS)
async def test_unknown_age_is_treated_as_possibly_under18(lang):
    w = await walk(lang, "adult", "unknown", ["received"])
    assert w.screens[:2] == ["crime.line.child", "crime.line.didnt_know"]
    assert any("crime.line.child_unknown" in r.keys for r in w.replies)
    assert "crime.lawyer.steps" in w.screens


@pytest.mark.parametrize("lang", LANGS)
async def test_sending_your_own_image_to_one_adult_is_not_in_itself_a_crime(lang):
    w = await walk(lang, "adult", "adult", ["sent_own"])
    assert w.screens == ["crime.line.own"]
    assert "crime.summary.own" in w.summary
    assert "crime.summary.next_lawyer" not in w.summary
    assert ("送った側の犯罪ではありません" if lang == "ja" else "not, in itself, a crime") \
        in w.chat.t("crime.line.own")


@pytest.mark.parametrize("lang", LANGS)
async def test_own_image_to_someone_who_may_be_a_minor_means_checking_with_a_lawyer(lang):
    w = await walk(lang, "adult", "unknown", ["sent_own"])
    assert any("crime.line.own_minor_other" in r.keys for r in w.replies)
    assert "crime.summary.own_check" in w.summary
    assert "crime.summary.own" not in w.summary
    assert "crime.lawyer.steps" in w.screens


@pytest.mark.parametrize("lang", LANGS)
async def test_forwarding_someones_image_shows_the_revenge_porn_line(lang):
    w = await walk(lang, "adult", "adult", ["forwarded"])
    assert w.screens == ["crime.line.revenge", "crime.lawyer.steps", "crime.lawyer.where"]
    assert "crime.summary.revenge" in w.summary
    law = "リベンジポルノ防止法" if lang == "ja" else "revenge porn"
    assert law in w.chat.t("crime.line.revenge")


@pytest.mark.parametrize("lang", LANGS)
async def test_threats_are_named_as_the_other_sides_crime(lang):
    w = await walk(lang, "adult", "adult", ["sent_own"], "me")
    assert w.screens == ["crime.line.own", "crime.line.threat_me"]
    assert "crime.summary.threat_me" in w.summary
    assert "crime.summary.next_police" in w.summary
    assert "contacts:police" in w.summary
    text = w.chat.t("crime.line.threat_me")
    assert ("恐喝（きょうかつ）・脅迫（きょうはく）・強要" if lang == "ja"
            else "extortion, intimidation or coercion") in text


@pytest.mark.parametrize("lang", LANGS)
async def test_pressuring_the_other_person_is_flagged_and_sent_to_a_lawyer(lang):
    w = await walk(lang, "adult", "adult", [], "by_me")
    assert w.screens == ["crime.line.threat_by_me", "crime.lawyer.steps", "crime.lawyer.where"]
    assert "crime.summary.threat_by_me" in w.summary
    assert "crime.summary.next_lawyer" in w.summary


@pytest.mark.parametrize("lang", LANGS)
async def test_unsure_threat_gets_the_signs_and_the_police(lang):
    w = await walk(lang, "adult", "adult", ["sent_own"], "unsure")
    assert "crime.line.threat_unsure" in w.screens
    assert "crime.summary.threat_unsure" in w.summary
    assert "contacts:police" in w.summary


@pytest.mark.parametrize("lang", LANGS)
async def test_when_nothing_applies_the_summary_says_so(lang):
    w = await walk(lang, "adult", "adult", ["received"])
    assert w.screens == []
    assert "crime.summary.none" in w.summary
    assert "crime.summary.next_lawyer" not in w.summary
    assert "contacts:legal" in w.summary
    assert "contacts:police" not in w.summary


# --- the law, precisely, with its source ------------------------------------------------------

def test_every_line_screen_that_states_the_law_names_its_source():
    flow = content().flows["crime_lines"]
    for name, state in flow.states.items():
        if name.startswith("line_") and name != "line_didnt_know":
            sources = [src for item in state.says() for src in item.sources]
            assert sources, name
            for src in sources:
                assert src.url.startswith("https://"), (name, src)


@pytest.mark.parametrize("lang", LANGS)
async def test_article_182_for_13_to_15_needs_a_five_year_gap_and_covers_asking_to_meet(lang):
    w = await walk(lang, "adult", "under16", ["asked"])
    text = w.reply_with("crime.line.art182")
    assert ("5才以上年上" if lang == "ja" else "five years older") in text
    assert ("会うよう求める" if lang == "ja" else "to meet") in text
    assert ("同意できる年れいは16才" if lang == "ja" else "age of consent") in text
    assert ("出典：刑法" if lang == "ja" else "Source: Penal Code") in text


@pytest.mark.parametrize("lang", LANGS)
async def test_ordinances_are_many_prefectures_not_everywhere(lang):
    w = await walk(lang, "adult", "under18", ["asked"])
    text = w.reply_with("crime.line.ordinance")
    assert ("多くの都道府県" if lang == "ja" else "Many prefectures") in text
    assert ("断ったのに" if lang == "ja" else "said no") in text
    assert ("どこでも必ず犯罪になるとは限りません" if lang == "ja"
            else "not every request is an offence everywhere") in text
    assert ("出典" if lang == "ja" else "Source") in text


@pytest.mark.parametrize("lang", LANGS)
async def test_possession_is_for_ones_own_sexual_curiosity(lang):
    w = await walk(lang, "adult", "under18", ["saved"])
    text = w.reply_with("crime.line.child")
    assert ("性的な興味のために" if lang == "ja" else "own sexual interest") in text
    assert ("児童ポルノ禁止法 第7条第1項" if lang == "ja"
            else "Child Pornography Act art. 7(1)") in text


@pytest.mark.parametrize("lang", LANGS)
async def test_recording_someone_is_the_2023_recording_offence(lang):
    w = await walk(lang, "adult", "adult", ["recorded"])
    assert "crime.line.recorded" in w.screens
    assert "crime.summary.recorded" in w.summary
    assert "crime.lawyer.steps" in w.screens
    text = w.reply_with("crime.line.recorded")
    assert ("性的姿態撮影等処罰法" if lang == "ja" else "Sexual Image Recording Act") in text


@pytest.mark.parametrize("lang", LANGS)
async def test_a_threat_is_judged_objectively(lang):
    for threat in ("by_me", "unsure"):
        w = await walk(lang, "adult", "adult", [], threat)
        key = f"crime.line.threat_{threat}"
        assert ("ふつうの人がこわいと感じる" if lang == "ja"
                else "ordinary person") in w.chat.t(key)
        assert ("刑法 第222条" if lang == "ja" else "Penal Code art. 222") in w.reply_with(key)


@pytest.mark.parametrize("lang", LANGS)
async def test_rather_not_say_gets_the_protective_route_and_a_note_for_adults(lang):
    w = await walk(lang, "unsaid", "under18", ["received", "saved"])
    assert "crime.lawyer.young" in w.screens
    lawyer = {"crime.lawyer.steps", "crime.lawyer.where", "crime.line.didnt_know"}
    assert not lawyer & set(w.screens)
    assert any("crime.lawyer.unsaid_note" in r.keys for r in w.replies)
    assert "crime.summary.unsaid_note" in w.summary
    assert "crime.summary.next_lawyer" not in w.summary
    assert "contacts:children" in w.summary or w.chat.dialogue.content.directory is None


# --- the lawyer screen ----------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
async def test_possible_exposure_says_do_not_save_forward_or_panic_delete_and_ask_first(lang):
    w = await walk(lang, "adult", "under18", ["received"])
    steps = w.chat.t("crime.lawyer.steps")
    words = (["保存", "送ったりしない", "パニックで消す", "先に相談"] if lang == "ja"
             else ["Don't save", "send them to anyone", "deleting in a panic", "Get advice first"])
    for word in words:
        assert word in steps
    where = w.chat.t("crime.lawyer.where")
    assert "0570-078374" in where
    assert ("公式サイトで確認してください" if lang == "ja" else "check the official site") in where


# --- under 18: treated as a victim ------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
async def test_under18_user_is_told_warmly_they_are_treated_as_a_victim(lang):
    w = await walk(lang, "under18", "adult", ["sent_own"], "me")
    assert w.screens[0] == "crime.minor_user"
    assert ("守られる側" if lang == "ja" else "protected") in w.chat.t("crime.minor_user")
    assert any("crime.line.own_young" in r.keys for r in w.replies)
    assert "crime.line.own" not in w.screens
    assert "crime.lawyer.steps" not in w.screens
    assert "crime.summary.own_young" in w.summary
    assert "crime.summary.young" in w.summary
    assert "crime.summary.didnt_know" not in w.summary
    assert "contacts:children" in w.summary


@pytest.mark.parametrize("lang", LANGS)
async def test_under18_user_holding_images_goes_to_a_trusted_adult_not_a_lawyer_warning(lang):
    w = await walk(lang, "under18", "under18", ["received", "saved"])
    assert any("crime.line.child_young" in r.keys for r in w.replies)
    assert "crime.lawyer.young" in w.screens
    assert "crime.lawyer.steps" not in w.screens
    assert "crime.summary.next_lawyer" not in w.summary


# --- the shared age slot ---------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
async def test_age_known_from_another_flow_is_not_asked_again(lang):
    first = await walk(lang, "under18", "adult")
    again = await walk(lang, None, "adult", chat=first.chat)
    assert again.screens[0] == "crime.minor_user"
    adult = await walk(lang, "adult", "adult")
    again = await walk(lang, None, "adult", ["sent_own"], chat=adult.chat)
    assert again.screens == ["crime.line.own"]


@pytest.mark.parametrize("lang", LANGS)
async def test_a_new_run_forgets_the_last_answers(lang):
    w = await walk(lang, "adult", "under16", ["asked"], "by_me")
    again = await walk(lang, None, "adult", [], "none", chat=w.chat)
    assert again.screens == []
    assert "crime.summary.none" in again.summary


def test_crime_lines_never_tells_anyone_to_pay_delete_or_send():
    locales = content().locales
    for lang in LANGS:
        for key in locales.keys():
            if key.startswith("crime."):
                text = locales.text(lang, key)
                for bad in ("払ってください", "削除してください", "消してください",
                            "送ってください", "please pay", "pay them", "delete the",
                            "send them more"):
                    assert bad not in text, (lang, key)
