"""Each VEVENT of events.ics, put together and folded by generator/exports.py, against
icalendar writing the same event with its own Component, for any text an author can give."""

from __future__ import annotations

import re
from datetime import UTC
from zoneinfo import ZoneInfo

import icalendar
from hypothesis import example, given, settings
from hypothesis import strategies as st

from generator.dates import Precision, parse_date
from generator.exports import _day_after, _make_vevent, _timed_end, _VEventOf, in_calendar
from generator.feeds import event_path, instant, site_url
from generator.model import Event

PARIS = ZoneInfo("Europe/Paris")
# Any text but the ones YAML cannot hold in a title (surrogates) and control characters,
# which events.ics leaves out (see the test below); a line break, a backslash, a caret, a
# comma, a semicolon and non-ASCII characters of 2 to 4 octets are there to meet the folds.
TEXT = st.text(
    st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from("\n\\^,;é€😀"),
    max_size=300,
)
DATES = st.sampled_from(
    [
        "2023-10-07",
        "1900-01-01",
        "9999-12-31",
        "0001-01-01",
        "2023-10-23T14:30+02:00",
        "2023-10-24T09:15",
        "9999-12-31T22:30",
    ]
)
ENDS = st.none() | st.sampled_from(
    ["2023-10-19", "2024", "2024-02", "2023-10-23T16:00+02:00", "9999", "9999-12-31T23:59-05:00"]
)


def icalendar_wrote(part: _VEventOf) -> bytes:
    """The VEVENT as icalendar's Event component writes it: the reference."""
    event, zone = part.event, part.zone
    start = instant(event.date, zone)
    assert start is not None
    item = icalendar.Event()
    item.add("uid", f"{event.slug}@{part.host}")
    item.add("dtstamp", start.astimezone(UTC))
    item.add("summary", event.title)
    if event.date.precision >= Precision.MINUTE:
        item.add("dtstart", start.astimezone(UTC))
        end = _timed_end(event.end, zone)
        if end is not None:
            item.add("dtend", end)
    else:
        item.add("dtstart", start.date())
        last = _day_after(event.end or event.date) or _day_after(event.date)
        if last is not None:
            item.add("dtend", last)
    description = event.summary
    if part.base_url:
        url = site_url(part.base_url, event_path(event))
        item.add("url", url)
        description = f"{description}\n\n{url}".strip()
    if description:
        item.add("description", description)
    if part.places:
        item.add("location", ", ".join(part.places))
    if part.tags:
        item.add("categories", list(part.tags))
    data: bytes = item.to_ical()
    return data


@settings(max_examples=300, deadline=None)
@given(
    title=TEXT,
    summary=TEXT,
    slug=st.from_regex(r"[a-z0-9][a-z0-9-]{0,120}", fullmatch=True),
    places=st.lists(TEXT.filter(bool), max_size=3),
    tags=st.lists(TEXT.filter(bool), max_size=4),
    date=DATES,
    end=ENDS,
    base_url=st.sampled_from(["", "https://example.org/", "https://example.org/a/very/long/base/"]),
)
@example(
    title="x" * 73 + "\\;" + "é" * 40 + "^" * 80,
    summary="line one\nline two, with; separators \\ and 😀" * 5,
    slug="a",
    places=["Gaza"],
    tags=["war", "a,b"],
    date="2023-10-07",
    end=None,
    base_url="https://example.org/",
)
def test_a_vevent_is_what_icalendar_writes(
    title: str,
    summary: str,
    slug: str,
    places: list[str],
    tags: list[str],
    date: str,
    end: str | None,
    base_url: str,
) -> None:
    event = Event(
        slug=slug,
        title=title,
        date=parse_date(date),
        end=None if end is None else parse_date(end),
        path=f"content/events/{slug}.md",
        summary=summary,
    )
    assert in_calendar(event, PARIS)
    part = _VEventOf(event, base_url, PARIS, "example.org", tuple(places), tuple(tags))
    made = _make_vevent(part)
    assert made == icalendar_wrote(part)
    for line in made.split(b"\r\n"):
        assert len(line) <= 75
        line.decode()  # no fold inside a character
    read = icalendar.Calendar.from_ical(b"BEGIN:VCALENDAR\r\n" + made + b"END:VCALENDAR\r\n")
    (vevent,) = read.walk("VEVENT")
    assert str(vevent["SUMMARY"]) == title


def test_control_characters_are_left_out_of_a_vevent() -> None:
    """A bell or a vertical tab pasted into a title cannot go into an iCalendar value
    (RFC 5545 3.3.11); the line breaks of a summary are written escaped."""
    event = Event(
        slug="bell",
        title="A\x07 bell\x0b",
        date=parse_date("2023-10-07"),
        path="content/events/bell.md",
        summary="One\r\nTwo\x00",
    )
    made = _make_vevent(_VEventOf(event, "", PARIS, "example.org", ("X\x1bY",), ("t\x7f",)))
    assert not re.search(rb"[\x00-\x08\x0b-\x1f\x7f]", made.replace(b"\r\n", b""))
    read = icalendar.Calendar.from_ical(b"BEGIN:VCALENDAR\r\n" + made + b"END:VCALENDAR\r\n")
    (vevent,) = read.walk("VEVENT")
    assert str(vevent["SUMMARY"]) == "A bell"
    assert str(vevent["DESCRIPTION"]) == "One\nTwo"
    assert str(vevent["LOCATION"]) == "XY"
    assert vevent["CATEGORIES"].cats == ["t"]
