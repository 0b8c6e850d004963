"""The timeline in other programs' formats: ``timeline.json`` for TimelineJS3 embeds and
``events.ics`` for calendars; and the one hook the build calls to add every export.

TimelineJS3 dates: each field is a string at the precision the author gave, years in
historical numbering (-44 is 44 BC), because TimelineJS labels a negative year y as
"|y| BCE"; the astronomical year (-43) would be shown as "43 BCE".
"""

from __future__ import annotations

import functools
import html
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, cast
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import icalendar
from icalendar.prop import vCategory, vDDDTypes, vText, vUri

from generator import cache as caching
from generator.cache import Cache
from generator.config import Config
from generator.dates import PartialDate, Precision, display_range
from generator.entries import url_scheme
from generator.feeds import absolute_links, event_path, feed_pages, instant, site_url
from generator.markup import sanitize
from generator.model import Event, EventLinks, Timeline
from generator.parallel import map_chunks
from generator.slugs import slugify

# TimelineJS3 switches to its year-only "cosmological" scale beyond JavaScript's dates.
JS_DATE_YEARS = 271_820
# VEVENTs are looked up in the cache and made this many at a time, not all held at once.
VEVENT_BLOCK = 10_000
# The octets of a content line on each line of text when it is folded, as icalendar folds:
# a folded line's leading space makes 75, RFC 5545's limit.
FOLD_OCTETS = 74
# The control characters RFC 5545 keeps out of a value (CTL but a tab; a line break is
# written escaped, as a backslash and an n).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# Part of each cached VEVENT's key: raised when the same event is written otherwise (2:
# control characters left out).
VEVENT_REVISION = 2
MEDIA_KEYS = ("url", "caption", "credit", "thumbnail", "alt", "title", "link")
# TimelineJS3's date fields and the precision each one gives a date (the importer too).
DATE_FIELDS = ("year", "month", "day", "hour", "minute", "second")
FIELD_PRECISIONS = (
    Precision.YEAR,
    Precision.MONTH,
    Precision.DAY,
    Precision.MINUTE,
    Precision.MINUTE,
    Precision.SECOND,
)


def export_pages(
    config: Config,
    timeline: Timeline,
    bodies: Mapping[str, str],
    pages: Mapping[str, bytes],
    cache: Cache | None = None,
    workers: int = 1,
) -> Iterator[tuple[str, Iterable[bytes]]]:
    """Every export of the site as (output path, its bytes in parts), made one at a time
    so that each can be written and let go before the next; the large ones are made part
    by part as they are written, so they are never whole in memory (timeline.json is
    300 MB at 100,000 events). ``pages`` are the rendered pages (for the sitemap)."""
    feeds = feed_pages(config, timeline, bodies, list(pages), ZoneInfo(config.timezone))
    for path, data in feeds.items():
        yield path, (data,)
    for path, parts in export_parts(config, timeline, bodies, cache, workers).items():
        yield path, parts()


def export_parts(
    config: Config,
    timeline: Timeline,
    bodies: Mapping[str, str],
    cache: Cache | None = None,
    workers: int = 1,
) -> dict[str, Callable[[], Iterator[bytes]]]:
    """The exports of every event (the slow ones), by output path, each made in parts
    when called."""
    zone = ZoneInfo(config.timezone)
    calendar = functools.partial(calendar_ics_parts, config, timeline, zone, cache, workers)
    return {
        "timeline.json": functools.partial(timeline_json_parts, config, timeline, bodies),
        "events.ics": calendar,
    }


def whole_exports(
    config: Config, timeline: Timeline, bodies: Mapping[str, str], cache: Cache | None = None
) -> dict[str, Callable[[], bytes]]:
    """The exports of every event, by output path, each made whole when called: the dev
    server makes them only when they are asked for."""
    return {
        path: functools.partial(_joined, parts)
        for path, parts in export_parts(config, timeline, bodies, cache).items()
    }


def _joined(parts: Callable[[], Iterable[bytes]]) -> bytes:
    return b"".join(parts())


# --- TimelineJS3 -------------------------------------------------------------------------


def tljs_date(when: PartialDate) -> dict[str, str]:
    """A TimelineJS3 date object with the fields the author gave, and our display form."""
    values = (when.year, when.month, when.day, when.hour, when.minute, when.second)
    found = {
        name: str(value)
        for name, value, level in zip(DATE_FIELDS, values, FIELD_PRECISIONS, strict=True)
        if when.precision >= level
    }
    found["display_date"] = when.display()
    return found


def tljs_event(config: Config, timeline: Timeline, event: Event, body: str) -> dict[str, Any]:
    slide: dict[str, Any] = {"unique_id": event.slug, "start_date": tljs_date(event.date)}
    if event.end is not None:
        slide["end_date"] = tljs_date(event.end)
    written = event.extra.get("display_date")  # e.g. "Spring 1944", kept from an import
    # TimelineJS writes these strings into the page as HTML, so they are escaped here.
    slide["display_date"] = html.escape(
        written if isinstance(written, str) else display_range(event.date, event.end, event.circa)
    )
    if config.base_url:
        url = site_url(config.base_url, event_path(event))
        body = absolute_links(body, url) + f'<p><a href="{url}">Read more</a></p>'
    slide["text"] = {"headline": html.escape(event.title), "text": body}
    actors = timeline.links[event.slug].actors
    if actors:  # TimelineJS3 puts each group on a row of its own: the first actor's
        slide["group"] = html.escape(actors[0].name)
    media = _media(event.extra.get("media"))
    if media:
        slide["media"] = media
    background = _media(event.extra.get("background"), ("url", "color", "alt"))
    if background:
        slide["background"] = background
    return slide


def timeline_json_parts(
    config: Config, timeline: Timeline, bodies: Mapping[str, str]
) -> Iterator[bytes]:
    """The whole timeline in TimelineJS3's JSON format, events in time order: compact
    JSON, encoded one event at a time, each event's bytes one part."""
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    title = {
        "text": {"headline": html.escape(config.title), "text": html.escape(config.description)}
    }
    yield b'{"title":' + encode(title).encode("utf-8") + b',"events":['
    for i, event in enumerate(timeline.events):
        slide = tljs_event(config, timeline, event, bodies.get(event.path, ""))
        yield (b"," if i else b"") + encode(slide).encode("utf-8")
    scale = any(abs(e.year) > JS_DATE_YEARS for e in timeline.events)
    yield b"]" + (b',"scale":"cosmological"' if scale else b"") + b"}\n"


def _media(
    value: object,
    keys: tuple[str, ...] = MEDIA_KEYS,
) -> dict[str, str]:
    """An event's ``media:`` (or ``background:``) front matter: a URL, or a mapping of
    TimelineJS3's keys. Only http(s) URLs pass; other keys must be text."""
    if isinstance(value, str):
        value = {"url": value}
    if not isinstance(value, dict):
        return {}
    found = {k: " ".join(v.split()) for k in keys if isinstance(v := value.get(k), str) and v}
    for key in ("url", "thumbnail", "link"):
        if key in found and url_scheme(found[key]) not in ("http", "https"):
            del found[key]
    for key in ("caption", "credit"):  # TimelineJS shows these as HTML
        if key in found:
            found[key] = sanitize(found[key])
    return found if ("url" in found or "color" in found) else {}


# --- iCalendar ---------------------------------------------------------------------------


def in_calendar(event: Event, zone: tzinfo) -> bool:
    """A calendar needs a day; Python's dates (and RFC 5545's) run from AD 1 to 9999, and
    a time must stay within them in UTC (9999-12-31T23:00-05:00 does not)."""
    if event.date.precision < Precision.DAY:
        return False
    start = instant(event.date, zone)
    return start is not None and _in_utc(start) is not None


def left_out_of_calendar(timeline: Timeline, zone: tzinfo) -> list[Event]:
    return [e for e in timeline.events if not in_calendar(e, zone)]


def calendar_ics_parts(
    config: Config,
    timeline: Timeline,
    zone: tzinfo,
    cache: Cache | None = None,
    workers: int = 1,
) -> Iterator[bytes]:
    """Every event dated to the day or finer as an iCalendar VEVENT (RFC 5545), each one
    part: all-day events for days, timed events in UTC for times. DTSTAMP, which RFC 5545
    requires, is the event's own start, so the file never depends on when it was built.
    ``cache`` keeps each VEVENT between builds, by everything it is made from; those it
    does not hold are made on ``workers`` processes."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//timeline//timeline static site generator//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", config.title)
    host = urlsplit(config.base_url).netloc or slugify(config.title)
    end = b"END:VCALENDAR\r\n"
    head: bytes = calendar.to_ical()
    yield head.removesuffix(end)
    parts = [
        _VEventOf(event, config.base_url, zone, host, *_names(timeline.links[event.slug]))
        for event in timeline.events
        if in_calendar(event, zone)
    ]
    if cache is None:
        yield from map(_vevent, parts)
    else:
        for start in range(0, len(parts), VEVENT_BLOCK):
            yield from _cached_vevents(parts[start : start + VEVENT_BLOCK], cache, workers)
    yield end


def _names(links: EventLinks) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The names of an event's places and tags, as its VEVENT shows them."""
    return tuple(t.name for t in links.places), tuple(t.name for t in links.tags)


@dataclass(frozen=True)
class _VEventOf:
    """Everything one event's VEVENT is made from."""

    event: Event
    base_url: str
    zone: tzinfo
    host: str
    places: tuple[str, ...]
    tags: tuple[str, ...]

    def key(self) -> str:
        """A cache key of all of it, the instants in the site's zone as computed now (so
        a change of the zone's rules is seen)."""
        event = self.event
        made_of = (event.slug, event.title, event.summary, event.date, event.end)
        instants = (instant(event.date, self.zone), _timed_end(event.end, self.zone))
        return caching.key(
            "vevent",
            VEVENT_REVISION,
            icalendar.__version__,
            repr((made_of, instants)),
            self.base_url,
            self.host,
            repr(self.places),
            repr(self.tags),
        )


def _cached_vevents(parts: Sequence[_VEventOf], cache: Cache, workers: int) -> list[bytes]:
    """Each VEVENT, from ``cache`` when it holds it; those made are put there."""
    keys = [part.key() for part in parts]
    kept = cache.get_many(keys)
    vevents = [_valid_vevent(kept.get(key)) for key in keys]
    missing = [i for i, vevent in enumerate(vevents) if vevent is None]
    # The workers share the parts from the fork: they are sent indices only.
    made = [v for chunk in map_chunks(_vevent_chunk, parts, missing, workers) for v in chunk]
    for i, vevent in zip(missing, made, strict=True):
        vevents[i] = vevent
    cache.put_many({keys[i]: vevent.decode() for i, vevent in zip(missing, made, strict=True)})
    return cast(list[bytes], vevents)


def _vevent_chunk(parts: Sequence[_VEventOf], indices: Sequence[int]) -> list[bytes]:
    # Not through _vevent's memo: a worker's dies with it, and hashing each part for it
    # took 3.4 s of CPU at 100,000 events.
    return [_make_vevent(parts[i]) for i in indices]


def _make_vevent(part: _VEventOf) -> bytes:
    """One VEVENT. icalendar encodes each value (escaping, dates, lists); the lines are
    put together and folded here: its Component took 0.3 ms an event for these few
    properties, about 6 s of CPU at 10,000 events. The properties come in the order
    icalendar gives a VEVENT (summary, start, end, stamp, uid, then the rest by name)."""
    event, zone = part.event, part.zone
    start = instant(event.date, zone)
    utc = None if start is None else _in_utc(start)
    assert start is not None and utc is not None  # in_calendar() checked
    lines = [_line("SUMMARY", _text(event.title))]
    if event.date.precision >= Precision.MINUTE:
        lines.append(_line("DTSTART", vDDDTypes(utc)))
        end = _timed_end(event.end, zone)
        if end is not None:
            lines.append(_line("DTEND", vDDDTypes(end)))
    else:
        lines.append(_line("DTSTART;VALUE=DATE", vDDDTypes(start.date())))
        # Without DTEND, a day's event lasts that day (RFC 5545, 3.6.1): so on 9999-12-31
        last = _day_after(event.end or event.date) or _day_after(event.date)
        if last is not None:
            lines.append(_line("DTEND;VALUE=DATE", vDDDTypes(last)))
    lines.append(_line("DTSTAMP", vDDDTypes(utc)))
    lines.append(_line("UID", vText(f"{event.slug}@{part.host}")))
    if part.tags:
        lines.append(_line("CATEGORIES", vCategory([_CONTROL.sub("", tag) for tag in part.tags])))
    url = site_url(part.base_url, event_path(event)) if part.base_url else ""
    description = f"{event.summary}\n\n{url}".strip() if url else event.summary
    if description:
        lines.append(_line("DESCRIPTION", _text(description)))
    if part.places:
        lines.append(_line("LOCATION", _text(", ".join(part.places))))
    if url:
        lines.append(_line("URL", vUri(url)))
    return b"".join((b"BEGIN:VEVENT\r\n", *lines, b"END:VEVENT\r\n"))


def _text(text: str) -> vText:
    """A TEXT value without the control characters RFC 5545 does not allow in one (3.3.11:
    a bell pasted into a title); line breaks are kept, for vText to escape."""
    return vText(_CONTROL.sub("", text))


def _line(name: str, value: vText | vDDDTypes | vCategory | vUri) -> bytes:
    """A content line, folded (RFC 5545, 3.1): no more than 75 octets before each line
    break; a folded line goes on after one space. As icalendar folds: 74 octets a line,
    never inside a UTF-8 character, and never right after a backslash or a caret, which
    would part an escape from the character it escapes (icalendar's issue 1501)."""
    data = name.encode() + b":" + value.to_ical()
    parts = []
    begin = 0
    while len(data) - begin > FOLD_OCTETS:
        cut = begin + FOLD_OCTETS
        while data[cut] & 0xC0 == 0x80:  # a UTF-8 continuation byte
            cut -= 1
        if data[cut - 1] in b"\\^":
            cut -= 1
        parts.append(data[begin:cut])
        begin = cut
    parts.append(data[begin:])
    return b"\r\n ".join(parts) + b"\r\n"


# The dev server makes the calendar again whenever it is asked for after a save, so each
# event's VEVENT is kept for as long as nothing it shows has changed.
_vevent = functools.lru_cache(maxsize=100_000)(_make_vevent)


def _day_after(when: PartialDate) -> date | None:
    """The first day after the period ``when`` covers (DTEND is exclusive), or None when
    it falls outside Python's dates."""
    try:
        if when.precision is Precision.YEAR:
            return date(when.year + 1, 1, 1)
        if when.precision is Precision.MONTH:
            return date(when.year + when.month // 12, when.month % 12 + 1, 1)
        return date(when.year, when.month, when.day) + timedelta(1)
    except (ValueError, OverflowError):
        return None


def _timed_end(end: PartialDate | None, zone: tzinfo) -> datetime | None:
    if end is None:
        return None
    if end.precision >= Precision.MINUTE:
        moment = instant(end, zone)
        return None if moment is None else _in_utc(moment)
    after = _day_after(end)
    if after is None:
        return None
    return _in_utc(datetime.combine(after, time(), zone))


def _in_utc(moment: datetime) -> datetime | None:
    """``moment`` in UTC, or None when that falls outside Python's dates."""
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        return None


def _valid_vevent(value: object) -> bytes | None:
    """A VEVENT read back from the cache, if it is one (a planted cache is a text file)."""
    one = (
        isinstance(value, str)
        and value.startswith("BEGIN:VEVENT\r\n")
        and value.endswith("END:VEVENT\r\n")
        and value.count("BEGIN:") == value.count("END:") == 1
    )
    return value.encode() if one and isinstance(value, str) else None
