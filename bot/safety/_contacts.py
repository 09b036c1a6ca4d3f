"""ContactDirectory: who can be reached *now*, from ``contacts/*.yaml``.

A directory file declares its regions (time zone and public-holiday calendar)
and lists contacts::

    regions:
      jp: {timezone: Asia/Tokyo, holidays: JP}
    contacts:
      - id: houterasu_support
        name: {ja: 法テラス・サポートダイヤル, en: Houterasu support dial}
        kind: phone                  # phone | chat | online (a form) | website
        phones: [{number: 0570-078374, free: false}]
        url: https://www.houterasu.or.jp/
        topics: [legal, extortion]
        for: [adult, guardian]       # minor | adult | guardian
        hours:                       # always | check | a list of windows
          - {days: [mon, tue, wed, thu, fri], open: "09:00", close: "21:00"}
          - {days: [sat], open: "09:00", close: "17:00"}
        closed_on_holidays: true
        closed_dates: ["12-29", "12-30", "12-31", "01-01", "01-02", "01-03"]
        note: {ja: ..., en: ...}     # optional, shown under the contact
        source: https://...          # where the facts were read (required)
        checked: 2026-11             # when (required)
        status: verified             # verified | check ("check the site" is shown)

Online forms (``kind: online``) always count as open, and are rendered as
forms, not people. ``hours: check`` means the hours are unknown: the contact is
listed apart, with "check the site". Hours are in the region's time zone;
public holidays come from the ``holidays`` library. Mistakes raise
:class:`DirectoryError` naming the file and line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays

from .._errors import ContentError, Problem

__all__ = [
    "AUDIENCES",
    "KINDS",
    "TOPICS",
    "Contact",
    "ContactDirectory",
    "ContactStatus",
    "DirectoryError",
    "Phone",
    "Region",
    "Window",
    "audiences_for_age",
    "pick_contacts",
    "render_contacts",
]

TOPICS = frozenset(
    {"extortion", "leak", "legal", "sexual_violence", "children", "crisis", "police"}
)
AUDIENCES = frozenset({"minor", "adult", "guardian"})
KINDS = frozenset({"phone", "chat", "online", "website"})
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HORIZON_DAYS = 30  # how far ahead to look for the next opening


class DirectoryError(ContentError, ValueError):
    """A contact directory file is broken; the message starts with ``file:line:``."""

    def __init__(self, file: str | Path, line: int, message: str) -> None:
        self.file, self.line, self.problem = str(file), line, message
        super().__init__(f"{file}:{line}: {message}")
        self.problems = [Problem(self.file, line, message)]


@dataclass(frozen=True)
class Phone:
    """A number to call; ``free`` is None when the data does not say."""

    number: str
    free: bool | None = None
    note: Mapping[str, str] | None = None


@dataclass(frozen=True)
class Window:
    """Opening hours on some weekdays, in minutes after midnight (close may be 1440)."""

    days: frozenset[int]
    open: int
    close: int


@dataclass(frozen=True)
class Region:
    """A region's time zone and public-holiday calendar."""

    code: str
    tz: ZoneInfo
    holiday_country: str

    def is_holiday(self, day: date) -> bool:
        """True on the region's public holidays."""
        return day in _holiday_calendar(self.holiday_country)


_CALENDARS: dict[str, holidays.HolidayBase] = {}


def _holiday_calendar(country: str) -> holidays.HolidayBase:
    if country not in _CALENDARS:
        _CALENDARS[country] = holidays.country_holidays(country)
    return _CALENDARS[country]


@dataclass(frozen=True)
class Contact:
    """One place to turn to, as validated from the directory."""

    id: str
    region: str
    name: Mapping[str, str]
    kind: str
    phones: tuple[Phone, ...]
    url: str | None
    topics: frozenset[str]
    audiences: frozenset[str]
    hours: str | tuple[Window, ...]  # "always", "check" or windows
    closed_on_holidays: bool
    closed_dates: frozenset[tuple[int, int]]
    note: Mapping[str, str] | None
    source: str
    checked: str
    status: str
    file: str = field(default="", compare=False)
    line: int = field(default=0, compare=False)

    @property
    def always_open(self) -> bool:
        """Answers 24 hours a day (online forms included)."""
        return self.hours == "always" or self.kind == "online"

    def display_name(self, lang: str) -> str:
        """The name in ``lang``, falling back to Japanese, then English."""
        return self.name.get(lang) or self.name.get("ja") or self.name.get("en") or self.id


@dataclass(frozen=True)
class ContactStatus:
    """Whether a contact is open at a moment, and when it closes or opens next.

    ``at`` is the moment asked about (in the region's time zone); the renderer
    uses it to say "from 8:30" (today) rather than "Thursday 8:30".
    """

    contact: Contact
    open_now: bool
    opens_at: datetime | None
    closes_at: datetime | None
    unknown_hours: bool
    at: datetime | None = None


class ContactDirectory:
    """All contacts by region; answers "who is open now for this topic and person"."""

    def __init__(self, contacts: Iterable[Contact], regions: Mapping[str, Region]) -> None:
        self.contacts: tuple[Contact, ...] = tuple(contacts)
        self.regions: dict[str, Region] = dict(regions)
        self._by_id = {c.id: c for c in self.contacts}

    @classmethod
    def load(cls, paths: Iterable[Path]) -> ContactDirectory:
        """Read and validate directory files; raises :class:`DirectoryError`."""
        from ._contactfile import read_directory_file  # keeps this module about hours

        regions: dict[str, Region] = {}
        contacts: list[Contact] = []
        seen: dict[str, Contact] = {}
        for path in paths:
            file_regions, file_contacts = read_directory_file(Path(path))
            for code, (region, line) in file_regions.items():
                known = regions.get(code)
                if known is not None and known != region:
                    raise DirectoryError(path, line, f"region {code!r} is declared differently")
                regions[code] = region
            for c in file_contacts:
                if c.id in seen:
                    first = seen[c.id]
                    msg = f"duplicate contact id {c.id!r} (first at {first.file}:{first.line})"
                    raise DirectoryError(c.file, c.line, msg)
                seen[c.id] = c
                contacts.append(c)
        return cls(contacts, regions)

    def __len__(self) -> int:
        return len(self.contacts)

    def get(self, contact_id: str) -> Contact:
        """The contact with this id (KeyError if unknown)."""
        return self._by_id[contact_id]

    def status(
        self, topic: str, audience: str, now: datetime, region: str = "jp"
    ) -> list[ContactStatus]:
        """Contacts for ``topic`` and ``audience`` in ``region``, best first.

        Order: open now (24-hour live lines, then other live lines, then online
        forms), then unknown hours, then closed ones by next opening. A naive
        ``now`` is taken as the region's local time.
        """
        if topic not in TOPICS:
            raise ValueError(f"unknown topic {topic!r}; known: {', '.join(sorted(TOPICS))}")
        if audience not in AUDIENCES:
            raise ValueError(
                f"unknown audience {audience!r}; known: {', '.join(sorted(AUDIENCES))}"
            )
        if region not in self.regions:
            raise ValueError(f"unknown region {region!r}; known: {', '.join(sorted(self.regions))}")
        reg = self.regions[region]
        local = now.replace(tzinfo=reg.tz) if now.tzinfo is None else now.astimezone(reg.tz)
        found = []
        for index, c in enumerate(self.contacts):
            if c.region == region and topic in c.topics and audience in c.audiences:
                st = contact_status(c, reg, local)
                found.append((_rank(st), index, st))
        found.sort(key=lambda item: (item[0], item[1]))
        return [st for _, _, st in found]


def audiences_for_age(age: str | None) -> tuple[str, ...]:
    """Whose contacts a person of this age gets: an adult the adult lines, a minor the child
    lines, and someone whose age is unknown (rather not say, or not asked yet) both, child
    lines first: a teenager who keeps their age to themselves is still a teenager."""
    if age == "adult":
        return ("adult",)
    if age == "under18":
        return ("minor",)
    return ("minor", "adult")


def merge_statuses(lists: Iterable[Sequence[ContactStatus]]) -> list[ContactStatus]:
    """Several topics' lists as one, each contact once, best first (same order as status())."""
    seen: dict[str, tuple[tuple[int, float], int, ContactStatus]] = {}
    position = 0
    for statuses in lists:
        for st in statuses:
            if st.contact.id not in seen:
                seen[st.contact.id] = (_rank(st), position, st)
            position += 1
    return [st for _, _, st in sorted(seen.values(), key=lambda item: (item[0], item[1]))]


def _rank(st: ContactStatus) -> tuple[int, float]:
    if st.open_now:
        if st.contact.kind == "online":
            return (2, 0.0)
        return (0, 0.0) if st.contact.hours == "always" else (1, 0.0)
    if st.unknown_hours:
        return (3, 0.0)
    if st.opens_at is not None:
        return (4, st.opens_at.timestamp())
    return (5, 0.0)


def _closed_on(c: Contact, region: Region, day: date) -> bool:
    if (day.month, day.day) in c.closed_dates:
        return True
    return c.closed_on_holidays and region.is_holiday(day)


def contact_status(c: Contact, region: Region, now: datetime) -> ContactStatus:
    """Whether ``c`` is open at ``now`` (aware, in the region's zone) and its next change."""
    if c.always_open:
        return ContactStatus(c, True, None, None, False, now)
    if c.hours == "check" or isinstance(c.hours, str):
        return ContactStatus(c, False, None, None, True, now)
    opens_at: datetime | None = None
    today = now.date()
    for offset in range(-1, _HORIZON_DAYS + 1):  # from yesterday: windows past midnight
        day = today + timedelta(days=offset)
        if _closed_on(c, region, day):
            continue
        midnight = datetime(day.year, day.month, day.day, tzinfo=region.tz)
        for w in c.hours:
            if day.weekday() not in w.days:
                continue
            start = midnight + timedelta(minutes=w.open)
            end = midnight + timedelta(minutes=w.close)
            if start <= now < end:
                return ContactStatus(c, True, None, end, False, now)
            if start > now and (opens_at is None or start < opens_at):
                opens_at = start
        if opens_at is not None and offset >= 1:
            break  # later days cannot open earlier
    return ContactStatus(c, False, opens_at, None, False, now)


# ---------------------------------------------------------------- rendering

Text = Callable[..., str]


def _clock(dt: datetime | int) -> str:
    """ "8:30"; window ends past midnight (e.g. 1800 minutes) are shown as clock times."""
    minutes = (dt if dt <= 1440 else dt - 1440) if isinstance(dt, int) else dt.hour * 60 + dt.minute
    return f"{minutes // 60}:{minutes % 60:02d}"


def _opening(st: ContactStatus, text: Text) -> str:
    assert st.opens_at is not None
    when, time = st.opens_at, _clock(st.opens_at)
    if st.at is not None:
        days = (when.date() - st.at.astimezone(when.tzinfo).date()).days
        if days == 0:
            return text("contacts.opens_today", time=time)
        if days == 1:
            return text("contacts.opens_tomorrow", time=time)
        if days >= 7:
            day = text("contacts.date", month=when.month, day=when.day)
            return text("contacts.opens_date", date=day, time=time)
    weekday = text(f"contacts.weekday.{DAYS[when.weekday()]}")
    return text("contacts.opens_on", weekday=weekday, time=time)


# A phone screen holds about six contacts of two lines each (issue 14: one message stays
# under ~700 characters in Japanese). The rest wait behind "more" (`part: more`, the next
# page of the same size) and "more2" (`part: more2`, all after that).
MAX_SHOWN = 6
# Someone in crisis gets every crisis line at once: no second tap between them and help
# (a list that mixes topics keeps the usual limit).
TOPIC_LIMITS = {"crisis": 12}
EMERGENCY_NUMBERS = frozenset({"110", "119"})


def _first_sentence(note: str) -> str:
    """The note's first sentence: its point (the rest is for the reading scripts)."""
    for stop in ("。", ". "):
        cut = note.find(stop)
        if 0 < cut < len(note) - len(stop):
            return note[: cut + 1]
    return note


def _status_words(st: ContactStatus, text: Text) -> str:
    c = st.contact
    state: list[str] = []
    if c.kind == "chat":
        state.append(text("contacts.chat"))
    if c.kind == "online":
        state.append(text("contacts.online_form"))
    elif st.open_now:
        state.append(
            text("contacts.always")
            if st.closes_at is None
            else text("contacts.open_until", time=_clock(st.closes_at))
        )
    elif st.unknown_hours:
        state.append(text("contacts.check_site"))
    elif st.opens_at is not None:
        state.append(_opening(st, text))
    else:
        state.append(text("contacts.no_next_opening"))
    if c.status == "check" and not st.unknown_hours:
        state.append(text("contacts.unconfirmed"))
    return text("contacts.list_separator").join(state)


def _item(st: ContactStatus, lang: str, text: Text) -> list[str]:
    """Two lines, three with a note: name and open-now; how to reach it; the note's point."""
    c = st.contact
    lines = [text("contacts.item", name=c.display_name(lang), status=_status_words(st, text))]
    if c.phones:
        phone = c.phones[0]
        if phone.free:
            reach = text("contacts.phone_detail", number=phone.number, detail=text("contacts.free"))
        else:
            reach = text("contacts.phone", number=phone.number)
    else:
        reach = c.url or ""
    if reach:
        lines.append("  " + reach)
    if c.note:
        lines.append("  " + _first_sentence(c.note.get(lang) or next(iter(c.note.values()))))
    return lines


def _pinned(st: ContactStatus, groups: Sequence[str]) -> bool:
    """Never left for later: 110/119, and the child lines (for minors, not adults) when the
    person may be under 18."""
    c = st.contact
    if any(phone.number in EMERGENCY_NUMBERS for phone in c.phones):
        return True
    return "minor" in groups and "minor" in c.audiences and "adult" not in c.audiences


def pick_contacts(statuses: Sequence[ContactStatus], groups: Sequence[str] = (),
                  limit: int = MAX_SHOWN) -> tuple[list[ContactStatus], list[ContactStatus]]:
    """The contacts a list shows first (best first) and the rest.

    110/119 and, for someone who may be under 18, the child lines are always shown; then
    the best line for each of the person's groups (unknown age: a child line AND an adult
    line); then the best of the rest, up to ``limit``."""
    chosen: list[int] = [i for i, st in enumerate(statuses) if _pinned(st, groups)]
    for group in groups:
        best = next((i for i, st in enumerate(statuses) if group in st.contact.audiences), None)
        if best is not None and best not in chosen:
            chosen.append(best)
    for i in range(len(statuses)):
        if len(chosen) >= limit:
            break
        if i not in chosen:
            chosen.append(i)
    shown = [st for i, st in enumerate(statuses) if i in chosen]
    return shown, [st for i, st in enumerate(statuses) if i not in chosen]


def render_contacts(statuses: Sequence[ContactStatus], lang: str, text: Text,
                    groups: Sequence[str] = (), part: str = "first",
                    topics: Sequence[str] = ()) -> str:
    """Plain text for a phone screen: open now, then hours to check, then closed.

    At most ``MAX_SHOWN`` contacts (more for a topic in ``TOPIC_LIMITS``), two or three
    short lines each; ``part="more"`` lists the next page of the ones left out (and says how
    many are still left), ``part="more2"`` all the ones after that page.
    ``text(key, **placeholders)`` supplies every word (locale keys ``contacts.*``); names,
    numbers, URLs and notes come from the directory.
    """
    if not statuses:
        return text("contacts.none")
    limit = min((TOPIC_LIMITS.get(t, MAX_SHOWN) for t in topics), default=MAX_SHOWN)
    shown, rest = pick_contacts(statuses, groups, limit)
    if part in ("more", "more2"):
        if part == "more2":
            rest = rest[limit:]
        if not rest:
            return text("contacts.no_more")
        shown, rest = (rest[:limit], rest[limit:]) if part == "more" else (rest, [])
    sections = [
        ("contacts.open_now", [s for s in shown if s.open_now]),
        ("contacts.check_hours_title", [s for s in shown if not s.open_now and s.unknown_hours]),
        ("contacts.closed_now", [s for s in shown if not s.open_now and not s.unknown_hours]),
    ]
    blocks = []
    for title, items in sections:
        if items:
            lines = [text(title)]
            for st in items:
                lines += _item(st, lang, text)
            blocks.append("\n".join(lines))
    if rest:
        blocks.append(text("contacts.more", count=len(rest)))
    return "\n\n".join(blocks)
