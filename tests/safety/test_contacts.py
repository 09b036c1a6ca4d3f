"""The contact directory: who is open now, when the others open, and how it is shown."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from bot.safety._contacts import (
    AUDIENCES,
    TOPICS,
    ContactDirectory,
    ContactStatus,
    DirectoryError,
    render_contacts,
)

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted((ROOT / "contacts").glob("*.yaml"))
JST = ZoneInfo("Asia/Tokyo")

WED_DAY = datetime(2026, 11, 25, 10, 0, tzinfo=JST)
WED_NIGHT = datetime(2026, 11, 25, 22, 0, tzinfo=JST)
THU_EARLY = datetime(2026, 11, 26, 7, 0, tzinfo=JST)
SUN_2AM = datetime(2026, 11, 29, 2, 0, tzinfo=JST)
HOLIDAY = datetime(2026, 11, 23, 10, 0, tzinfo=JST)  # Labour Thanksgiving Day, a Monday
NEW_YEAR = datetime(2027, 1, 2, 10, 0, tzinfo=JST)  # a Saturday


def locale_text(lang: str):
    """A strict text(key, **kw): unknown keys and unfilled placeholders fail the test."""
    tree = yaml.safe_load((ROOT / f"locales/{lang}/contacts.yaml").read_text(encoding="utf-8"))

    def text(key: str, **kw: object) -> str:
        value = tree
        for part in key.split("."):
            value = value[part]
        assert isinstance(value, str), key
        return value.format(**kw)

    return text


@pytest.fixture(scope="module")
def directory() -> ContactDirectory:
    return ContactDirectory.load(FILES)


def by_id(statuses: list[ContactStatus]) -> dict[str, ContactStatus]:
    return {s.contact.id: s for s in statuses}


def at(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=JST)


# ---- the data ----------------------------------------------------------------------------


def test_every_entry_has_source_checked_date_and_status(directory: ContactDirectory) -> None:
    assert len(directory) >= 25
    for c in directory.contacts:
        assert c.source.startswith(("https://", "http://")), c.id
        assert c.checked == "2026-11", c.id
        assert c.status in ("verified", "check"), c.id
        assert c.name["ja"] and c.name["en"], c.id


def test_required_lines_are_present_with_the_reference_numbers(directory: ContactDirectory) -> None:
    numbers = {p.number for c in directory.contacts for p in c.phones}
    for number in (
        "110",
        "#9110",
        "#8103",
        "#8891",
        "0120-0-78310",
        "0120-99-7777",
        "0120-007-110",
        "0570-078374",
        "0120-279-338",
        "0120-061-338",
        "0570-783-556",
        "988",
        "0800 1111",
        "116 123",
        "0345 6000 459",
    ):
        assert number in numbers, number
    urls = {c.url for c in directory.contacts}
    for url in (
        "https://stopncii.org/",
        "https://takeitdown.ncmec.org/",
        "https://paps.jp/",
        "https://www.safe-line.jp/",
        "https://www.ihaho.jp/",
        "https://report.cybertip.org/",
    ):
        assert url in urls, url


def test_unconfirmed_hours_are_marked_check(directory: ContactDirectory) -> None:
    for cid in (
        "inochi_no_denwa",
        "inochi_sos",
        "paps",
        "police_8103",
        "onestop_8891",
        "cyber_police",
        "uk_revenge_porn_helpline",
    ):
        assert directory.get(cid).hours == "check", cid


# ---- hours at fixed moments (JST) ----------------------------------------------------------


def test_weekday_daytime(directory: ContactDirectory) -> None:
    s = by_id(directory.status("extortion", "adult", WED_DAY))
    assert s["police_9110"].open_now and s["police_9110"].closes_at == at(2026, 11, 25, 17, 15)
    assert s["houterasu_support"].open_now and s["houterasu_support"].closes_at == at(
        2026, 11, 25, 21
    )
    kids = by_id(directory.status("children", "minor", WED_DAY))
    assert kids["kodomo_jinken_110"].open_now
    assert not kids["childline_jp"].open_now
    assert kids["childline_jp"].opens_at == at(2026, 11, 25, 16)


def test_weeknight(directory: ContactDirectory) -> None:
    s = by_id(directory.status("extortion", "adult", WED_NIGHT))
    assert not s["police_9110"].open_now
    assert s["police_9110"].opens_at == at(2026, 11, 26, 8, 30)
    assert not s["houterasu_support"].open_now  # closes at 21:00
    assert s["houterasu_support"].opens_at == at(2026, 11, 26, 9)
    assert s["yorisoi"].open_now
    kids = by_id(directory.status("crisis", "minor", WED_NIGHT))
    assert kids["childline_jp"].opens_at == at(2026, 11, 26, 16)
    assert kids["child_sos_24h"].open_now


def test_sunday_two_am_offers_only_what_really_answers(directory: ContactDirectory) -> None:
    for topic in sorted(TOPICS):
        for audience in sorted(AUDIENCES):
            for st in directory.status(topic, audience, SUN_2AM):
                if st.open_now:
                    assert st.contact.hours == "always" or st.contact.kind == "online", (
                        st.contact.id
                    )
                if st.contact.hours == "always" and st.contact.kind != "online":
                    assert st.open_now
    s = by_id(directory.status("crisis", "adult", SUN_2AM))
    assert s["yorisoi"].open_now and s["police_110"].open_now
    assert s["inochi_no_denwa"].unknown_hours and not s["inochi_no_denwa"].open_now
    legal = by_id(directory.status("legal", "adult", SUN_2AM))
    assert legal["houterasu_support"].opens_at == at(2026, 11, 30, 9)
    assert by_id(directory.status("crisis", "minor", SUN_2AM))["childline_jp"].opens_at == at(
        2026, 11, 29, 16
    )


def test_national_holiday_closes_weekday_lines(directory: ContactDirectory) -> None:
    s = by_id(directory.status("extortion", "adult", HOLIDAY))
    assert not s["police_9110"].open_now
    assert s["police_9110"].opens_at == at(2026, 11, 24, 8, 30)
    assert s["houterasu_support"].opens_at == at(2026, 11, 24, 9)
    kids = by_id(directory.status("children", "minor", HOLIDAY))
    assert not kids["kodomo_jinken_110"].open_now
    assert kids["childline_jp"].opens_at == at(2026, 11, 23, 16)  # not closed on holidays


def test_new_year_closures(directory: ContactDirectory) -> None:
    legal = by_id(directory.status("legal", "adult", NEW_YEAR))
    assert not legal["houterasu_support"].open_now  # Saturdays are open, but not on 1/2
    assert legal["houterasu_support"].opens_at == at(2027, 1, 4, 9)
    kids = by_id(directory.status("children", "minor", NEW_YEAR))
    assert kids["childline_jp"].opens_at == at(2027, 1, 4, 16)
    assert kids["kodomo_jinken_110"].opens_at == at(2027, 1, 4, 8, 30)
    assert kids["child_sos_24h"].open_now


def test_thursday_morning_next_opening_is_today(directory: ContactDirectory) -> None:
    s = by_id(directory.status("police", "adult", THU_EARLY))
    assert s["police_9110"].opens_at == at(2026, 11, 26, 8, 30)
    out = render_contacts(directory.status("police", "adult", THU_EARLY), "ja", locale_text("ja"))
    assert "#9110（8:30から）" in out
    out = render_contacts(directory.status("police", "adult", THU_EARLY), "en", locale_text("en"))
    assert "(#9110) (opens at 8:30)" in out


def test_naive_and_foreign_times_are_read_in_the_region_zone(directory: ContactDirectory) -> None:
    naive = by_id(directory.status("police", "adult", datetime(2026, 11, 25, 10, 0)))
    utc = by_id(directory.status("police", "adult", datetime(2026, 11, 25, 1, 0, tzinfo=UTC)))
    assert naive["police_9110"].open_now and utc["police_9110"].open_now


# ---- order and filtering -----------------------------------------------------------------


def test_order_open_24h_first_then_unknown_then_closed_by_next_opening(
    directory: ContactDirectory,
) -> None:
    statuses = directory.status("extortion", "adult", WED_NIGHT)
    groups = []
    for st in statuses:
        if st.open_now:
            live = st.contact.kind != "online"
            groups.append(0 if live and st.contact.hours == "always" else 1 if live else 2)
        else:
            groups.append(3 if st.unknown_hours else 4)
    assert groups == sorted(groups)
    closed = [st.opens_at for st in statuses if not st.open_now and st.opens_at]
    assert closed == sorted(closed)


def test_minors_get_child_lines_and_not_adult_only_ones(directory: ContactDirectory) -> None:
    ids = {s.contact.id for s in directory.status("extortion", "minor", WED_DAY)}
    assert {"child_sos_24h", "childline_jp"} <= ids
    assert not ids & {"houterasu_support", "stopncii"}
    adult = {s.contact.id for s in directory.status("extortion", "adult", WED_DAY)}
    assert "childline_jp" not in adult and "stopncii" in adult


@pytest.mark.parametrize("audience", ["minor", "adult", "guardian"])
def test_every_list_in_japan_offers_110(directory: ContactDirectory, audience: str) -> None:
    for topic in sorted(TOPICS):
        ids = {s.contact.id for s in directory.status(topic, audience, WED_DAY)}
        assert "police_110" in ids, (topic, audience)


@pytest.mark.parametrize("topic", ["extortion", "leak"])
def test_extortion_and_leak_lists_offer_8891_and_8103(
    directory: ContactDirectory, topic: str
) -> None:
    for audience in ("minor", "adult", "guardian"):
        ids = {s.contact.id for s in directory.status(topic, audience, WED_DAY)}
        assert {"onestop_8891", "police_8103"} <= ids, (topic, audience)


def test_the_legal_list_is_about_finding_a_lawyer(directory: ContactDirectory) -> None:
    ids = {s.contact.id for s in directory.status("legal", "adult", WED_DAY)}
    assert "houterasu_support" in ids
    assert not ids & {"houterasu_victims", "ihaho", "moj_internet", "moj_phone"}


def test_abroad_regions(directory: ContactDirectory) -> None:
    uk = {s.contact.id for s in directory.status("crisis", "adult", WED_DAY, region="uk")}
    assert uk == {"uk_samaritans"}
    assert "uk_childline" in {
        s.contact.id for s in directory.status("crisis", "minor", WED_DAY, region="uk")
    }
    assert {s.contact.id for s in directory.status("crisis", "adult", WED_DAY, region="us")} == {
        "us_988"
    }


@pytest.mark.parametrize(
    ("topic", "audience", "region"),
    [("nope", "adult", "jp"), ("crisis", "child", "jp"), ("crisis", "adult", "fr")],
)
def test_unknown_topic_audience_or_region_is_an_error(
    directory: ContactDirectory, topic: str, audience: str, region: str
) -> None:
    with pytest.raises(ValueError):
        directory.status(topic, audience, WED_DAY, region=region)


# ---- rendering ---------------------------------------------------------------------------


def test_render_open_now_comes_before_closed(directory: ContactDirectory) -> None:
    statuses = directory.status("police", "adult", WED_NIGHT)
    out = render_contacts(statuses, "ja", locale_text("ja"), groups=("adult",))
    assert out.index("今つながる窓口") < out.index("今は時間外の窓口")
    assert "・警察 110番（24時間）\n  電話 110\n" in out
    assert "明日 8:30から" in out  # #9110 on Thursday
    assert "<" not in out and ">" not in out


def test_render_each_contact_in_two_or_three_short_lines(directory: ContactDirectory) -> None:
    statuses = directory.status("extortion", "adult", WED_NIGHT)
    out = render_contacts(statuses, "ja", locale_text("ja"), groups=("adult",))
    # name and whether it is open; the number (free or not); the note's first sentence only
    assert ("・よりそいホットライン（24時間）\n  電話 0120-279-338（無料）\n"
            "  どんななやみでも話せます。\n") in out
    assert "死にたい気持ち" not in out  # the rest of that note is for the reading scripts
    assert max(len(line) for line in out.splitlines()) < 80
    assert len(out) < 700


def test_a_long_list_shows_six_and_says_how_many_more(directory: ContactDirectory) -> None:
    from bot.safety._contacts import MAX_SHOWN, pick_contacts

    statuses = directory.status("leak", "adult", WED_NIGHT)
    assert len(statuses) > MAX_SHOWN
    shown, rest = pick_contacts(statuses, ("adult",))
    assert len(shown) == MAX_SHOWN and len(rest) == len(statuses) - MAX_SHOWN
    first = render_contacts(statuses, "ja", locale_text("ja"), groups=("adult",))
    assert f"ほかに{len(rest)}か所あります" in first
    # The ones left out come a phone screen at a time: the next six, then all the others.
    more = render_contacts(statuses, "en", locale_text("en"), groups=("adult",), part="more")
    more2 = render_contacts(statuses, "en", locale_text("en"), groups=("adult",), part="more2")
    assert all(st.contact.display_name("en") in more for st in rest[:MAX_SHOWN])
    assert all(st.contact.display_name("en") in more2 for st in rest[MAX_SHOWN:])
    assert not any(st.contact.display_name("en") in more for st in shown + rest[MAX_SHOWN:])
    assert not any(st.contact.display_name("en") in more2 for st in shown + rest[:MAX_SHOWN])
    if len(rest) > MAX_SHOWN:
        assert f"{len(rest) - MAX_SHOWN} more" in more
    else:
        assert more2 == locale_text("en")("contacts.no_more")


def test_every_page_of_a_long_list_fits_a_phone(directory: ContactDirectory) -> None:
    from bot.safety._contacts import audiences_for_age, merge_statuses

    groups = audiences_for_age(None)  # age unknown: the longest lists (child AND adult lines)
    statuses = merge_statuses(directory.status("leak", g, WED_NIGHT) for g in groups)
    for part in ("first", "more", "more2"):
        for lang, most in (("ja", 700), ("en", 1000)):
            text = render_contacts(statuses, lang, locale_text(lang), groups=groups, part=part)
            assert len(text) < most, (lang, part)


def test_110_and_child_lines_are_never_left_for_later(directory: ContactDirectory) -> None:
    from bot.safety._contacts import audiences_for_age, merge_statuses, pick_contacts

    for topic in ("extortion", "leak", "sexual_violence", "police"):
        groups = audiences_for_age(None)  # age unknown: child AND adult lines
        statuses = merge_statuses(directory.status(topic, g, SUN_2AM) for g in groups)
        shown, _ = pick_contacts(statuses, groups)
        ids = {st.contact.id for st in shown}
        children = {st.contact.id for st in statuses
                    if "minor" in st.contact.audiences and "adult" not in st.contact.audiences}
        assert children <= ids, topic
        assert any("adult" in st.contact.audiences for st in shown), topic
        if any(st.contact.id == "police_110" for st in statuses):
            assert "police_110" in ids, topic


def test_render_for_minors_lists_child_lines(directory: ContactDirectory) -> None:
    out = render_contacts(directory.status("crisis", "minor", SUN_2AM), "ja", locale_text("ja"),
                          groups=("minor",), topics=("crisis",))
    assert "24時間子供SOSダイヤル（24時間）" in out
    assert "0120-0-78310" in out
    assert "チャイルドライン（16:00から）" in out
    assert out.index("24時間子供SOSダイヤル") < out.index("チャイルドライン")


def test_render_unknown_hours_say_check_the_site(directory: ContactDirectory) -> None:
    crisis = directory.status("crisis", "adult", SUN_2AM)
    ja = render_contacts(crisis, "ja", locale_text("ja"), groups=("adult",), topics=("crisis",))
    assert "いのちの電話（時間はサイトで確認）" in ja
    assert all(st.contact.display_name("ja") in ja for st in crisis)  # every crisis line at once
    en = render_contacts(crisis, "en", locale_text("en"), groups=("adult",), topics=("crisis",))
    assert "(hours on their site)" in en
    assert en.index("Open now") < en.index("Check their hours first")


def test_render_weekday_and_date_for_later_openings(directory: ContactDirectory) -> None:
    en = render_contacts(directory.status("legal", "adult", SUN_2AM), "en", locale_text("en"))
    assert "Houterasu support dial (legal help) (opens tomorrow at 9:00)" in en
    saturday_evening = datetime(2026, 11, 28, 18, 0, tzinfo=JST)
    en = render_contacts(
        directory.status("legal", "adult", saturday_evening), "en", locale_text("en")
    )
    assert "(opens Monday at 9:00)" in en
    before_new_year = datetime(2026, 12, 28, 22, 0, tzinfo=JST)  # Mon; closed 12/29–1/3
    ja = render_contacts(
        directory.status("legal", "adult", before_new_year), "ja", locale_text("ja")
    )
    assert "法テラス・サポートダイヤル（1月4日 9:00から）" in ja


def test_render_nothing_found() -> None:
    assert "110" in render_contacts([], "ja", locale_text("ja"))


def test_contact_locales_match() -> None:
    trees = {
        lang: yaml.safe_load((ROOT / f"locales/{lang}/contacts.yaml").read_text(encoding="utf-8"))
        for lang in ("ja", "en")
    }

    def flat(tree: dict, prefix: str = "") -> dict:
        out = {}
        for k, v in tree.items():
            out.update(flat(v, f"{prefix}{k}.") if isinstance(v, dict) else {f"{prefix}{k}": v})
        return out

    ja, en = flat(trees["ja"]), flat(trees["en"])
    assert ja.keys() == en.keys()
    for key in ja:
        assert set(re.findall(r"\{(\w+)\}", ja[key])) == set(re.findall(r"\{(\w+)\}", en[key])), key


# ---- broken files ------------------------------------------------------------------------

GOOD = """\
regions:
  jp: {timezone: Asia/Tokyo, holidays: JP}
contacts:
  - id: sample
    name: {ja: 見本, en: Sample}
    kind: phone
    phones:
      - number: "0120-000-000"
        free: true
    topics: [crisis]
    for: [adult]
    hours:
      - {days: [mon], open: "09:00", close: "17:00"}
    source: https://example.org/
    checked: 2026-11
    status: verified
"""


def write(tmp_path: Path, text: str, name: str = "broken.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_sample_loads(tmp_path: Path) -> None:
    assert len(ContactDirectory.load([write(tmp_path, GOOD)])) == 1


@pytest.mark.parametrize(
    ("old", "new", "line", "words"),
    [
        ("kind: phone", "kind: fax", 6, "fax"),
        ("days: [mon]", "days: [monday]", 13, "monday"),
        ('open: "09:00"', "open: 9時", 13, "time"),
        ("    source: https://example.org/\n", "", 4, "source"),
        ("for: [adult]", "for: [adults]", 11, "adults"),
        ("checked: 2026-11", "checked: soon", 15, "checked"),
        ("    status: verified", "    status: verified\n    colour: red", 17, "colour"),
        ('number: "0120-000-000"', "number: #9110", 8, "quote"),
        ("free: true", "free: maybe", 9, "true or false"),
        (
            'hours:\n      - {days: [mon], open: "09:00", close: "17:00"}\n',
            "hours: sometimes\n",
            12,
            "sometimes",
        ),
        # YAML notices an unclosed [ on the next line, and says where it started
        ("topics: [crisis]", "topics: [crisis", 11, "line 10"),
    ],
)
def test_broken_directory_names_file_and_line(
    tmp_path: Path, old: str, new: str, line: int, words: str
) -> None:
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new))
    with pytest.raises(DirectoryError) as info:
        ContactDirectory.load([path])
    message = str(info.value)
    assert message.startswith(f"{path}:{line}:"), message
    assert words in message
    assert info.value.line == line and isinstance(info.value, ValueError)


def test_duplicate_ids_across_files(tmp_path: Path) -> None:
    a, b = write(tmp_path, GOOD, "a.yaml"), write(tmp_path, GOOD, "b.yaml")
    with pytest.raises(DirectoryError, match=r"b\.yaml:4: duplicate contact id 'sample'"):
        ContactDirectory.load([a, b])


def test_a_window_past_midnight(tmp_path: Path) -> None:
    night = GOOD.replace(
        '{days: [mon], open: "09:00", close: "17:00"}',
        '{days: [fri], open: "22:00", close: "06:00"}',
    )
    directory = ContactDirectory.load([write(tmp_path, night, "night.yaml")])
    saturday_3am = by_id(directory.status("crisis", "adult", at(2026, 11, 28, 3)))["sample"]
    assert saturday_3am.open_now and saturday_3am.closes_at == at(2026, 11, 28, 6)
    saturday_7am = by_id(directory.status("crisis", "adult", at(2026, 11, 28, 7)))["sample"]
    assert not saturday_7am.open_now and saturday_7am.opens_at == at(2026, 12, 4, 22)
    out = render_contacts([saturday_7am], "en", locale_text("en"))
    assert "• Sample (opens Friday at 22:00)\n  Call 0120-000-000 (free call)" in out


def test_merged_topics_list_each_contact_once_open_ones_first() -> None:
    from bot.safety._contacts import merge_statuses

    directory = ContactDirectory.load(sorted((ROOT / "contacts").glob("*.yaml")))
    now = datetime(2026, 11, 29, 2, 0, tzinfo=JST)
    lists = [directory.status(t, "minor", now) for t in ("children", "police", "crisis")]
    merged = merge_statuses(lists)
    ids = [st.contact.id for st in merged]
    assert len(ids) == len(set(ids)) == len({st.contact.id for lst in lists for st in lst})
    opens = [st.open_now for st in merged]
    assert opens == sorted(opens, reverse=True)  # every open one before any closed one


@pytest.mark.parametrize("lang", ["ja", "en"])
async def test_contacts_now_shows_a_long_list_a_screen_at_a_time(lang: str) -> None:
    from tests.helpers import Chat

    limit = {"ja": 700, "en": 1000}[lang]
    chat = await Chat.start(lang=lang)
    await chat.command("contacts")
    await chat.walk("common.rather_not_say", "contacts_now.topic.leak")
    first = chat.text
    assert len(first) < limit
    await chat.press("contacts_now.more")
    second = chat.text
    assert await chat.position() == ("contacts_now", "show_more")
    assert len(second) < limit
    await chat.press("contacts_now.more")
    assert await chat.position() == ("contacts_now", "show_more2")
    third = chat.text
    assert len(third) < limit
    # every place for a leak (child AND adult lines: age not said) is on exactly one screen
    from bot.safety._contacts import audiences_for_age, merge_statuses
    from tests.helpers import content

    groups = audiences_for_age("unsaid")
    places = merge_statuses(content().directory.status("leak", g, chat.now) for g in groups)
    assert len(places) > 12
    for st in places:
        name = st.contact.display_name(lang)
        assert sum(f"{name}（" in page or f"{name} (" in page
                   for page in (first, second, third)) == 1, name


# ---- one list of topics and audiences -------------------------------------------------------


def _enums_under(node: object, names: tuple[str, ...], found: list[list[str]]) -> list[list[str]]:
    """Every enum given for a property called one of `names`, anywhere in a JSON Schema."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in names and isinstance(value, dict):
                for holder in (value, value.get("items")):
                    if isinstance(holder, dict) and "enum" in holder:
                        found.append(holder["enum"])
            _enums_under(value, names, found)
    elif isinstance(node, list):
        for item in node:
            _enums_under(item, names, found)
    return found


def test_schemas_offer_exactly_the_topics_and_audiences_the_directory_knows() -> None:
    import json

    docs = Path(__file__).resolve().parents[2] / "docs"
    flow = json.loads((docs / "flow.schema.json").read_text(encoding="utf-8"))
    contacts = json.loads((docs / "contacts.schema.json").read_text(encoding="utf-8"))
    topic_enums = [flow["$defs"]["topic"]["enum"]] + _enums_under(contacts, ("topics",), [])
    audience_enums = _enums_under(flow, ("for",), []) + _enums_under(contacts, ("for",), [])
    assert len(topic_enums) == 2 and len(audience_enums) == 2
    for enum in topic_enums:
        assert set(enum) == TOPICS and len(enum) == len(TOPICS)
    for enum in audience_enums:
        assert set(enum) == AUDIENCES and len(enum) == len(AUDIENCES)


def test_a_flow_naming_an_unknown_topic_is_told_the_known_ones() -> None:
    from bot.content._flows import parse_flow

    text = (ROOT / "flows" / "after_sending.yaml").read_text(encoding="utf-8")
    assert "- contacts: extortion\n" in text
    raw = yaml.safe_load(text.replace("- contacts: extortion\n", "- contacts: astrology\n", 1))
    problems: list = []
    parse_flow(raw, "flows/after_sending.yaml", "after_sending", problems)
    unknown = [p.message for p in problems if "astrology" in p.message]
    assert len(unknown) == 1 and all(t in unknown[0] for t in TOPICS), problems
