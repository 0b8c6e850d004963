"""The content model: frozen dataclasses built from the source files."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any
from urllib.parse import urlsplit

from generator.dates import PartialDate, Precision


@dataclass(frozen=True)
class Link:
    """A source of an event or a link of an actor. ``title`` may be empty."""

    url: str
    title: str = ""

    @property
    def label(self) -> str:
        """What to show for the link: its title, else the host it points to."""
        if self.title:
            return self.title
        parts = urlsplit(self.url)
        return parts.netloc.removeprefix("www.") or self.url


@dataclass(frozen=True)
class Event:
    slug: str
    title: str
    date: PartialDate
    path: str  # source file, relative to the site root
    end: PartialDate | None = None
    circa: bool = False
    actors: tuple[str, ...] = ()  # as written: names, aliases or slugs
    places: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    sources: tuple[Link, ...] = ()
    summary: str = ""  # plain text
    body: str = ""  # Markdown
    body_line: int = 1
    draft: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)
    lines: Mapping[str, int] = field(default_factory=dict, compare=False)  # field -> source line
    start: int = 0  # wall-clock seconds of the start in the site's time zone
    stop: int = 0  # exclusive end of the whole event

    @functools.cached_property  # the dev server sorts the same events on every save
    def sort_key(self) -> tuple[int, int, str, str]:
        """Start, then coarser precision first, then title, then slug: a total order."""
        return (self.start, self.date.precision, self.title.casefold(), self.slug)

    @property
    def year(self) -> int:
        return self.date.year


@dataclass(frozen=True)
class Actor:
    """A person, state, organisation or group with a profile file."""

    slug: str
    name: str
    path: str
    aliases: tuple[str, ...] = ()
    kind: str = ""
    role: str = ""
    summary: str = ""
    links: tuple[Link, ...] = ()
    body: str = ""
    body_line: int = 1
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)
    lines: Mapping[str, int] = field(default_factory=dict, compare=False)  # field -> source line


@dataclass(frozen=True)
class Term:
    """One entry of a taxonomy (actors, tags, places) and the events that name it, in
    time order. Actors with a file carry it as ``profile``."""

    taxonomy: str
    slug: str
    name: str
    events: tuple[Event, ...]
    profile: Actor | None = None

    @property
    def url(self) -> str:
        return f"{self.taxonomy}/{self.slug}/"


@dataclass(frozen=True)
class EventLinks:
    """What an event page links to besides the event itself."""

    actors: tuple[Term, ...] = ()
    places: tuple[Term, ...] = ()
    tags: tuple[Term, ...] = ()
    previous: Event | None = None
    next: Event | None = None
    related: tuple[tuple[Event, int], ...] = ()  # (event, number of shared actors)


@dataclass(frozen=True)
class Timeline:
    """Everything linked: the sorted events and the taxonomies built from them."""

    events: tuple[Event, ...]
    actors: Mapping[str, Term]
    tags: Mapping[str, Term]
    places: Mapping[str, Term]
    links: Mapping[str, EventLinks]  # by event slug (a lookup: its order means nothing)
    co_actors: Mapping[str, tuple[tuple[Term, int], ...]]  # by actor slug (a lookup), most
    # shared first
    years: Mapping[int, tuple[Event, ...]]  # by start year, in time order
    by_slug: Mapping[str, Event] = field(default_factory=dict)  # the events (a lookup)

    def taxonomy(self, name: str) -> Mapping[str, Term]:
        return {"actors": self.actors, "tags": self.tags, "places": self.places}[name]


# Entries as JSON, for the build cache (cache.py keeps JSON, never pickles): each field in
# the dataclass's order, dates and links as lists of their fields, tuples as lists.
def entry_to_json(entry: Event | Actor) -> list[object]:
    kind, codecs = _CODECS[type(entry).__name__]
    return [kind.__name__, *(c.write(getattr(entry, n)) for n, c in codecs)]


def entry_from_json(value: object) -> Event | Actor | None:
    """The entry ``entry_to_json`` made, or None for anything else (a planted cache
    entry): each field must have its type. Front matter values are text, lists and
    mappings (frontmatter.py), which JSON gives back as they were."""
    if type(value) is not list or not value or value[0] not in _CODECS:
        return None
    kind, codecs = _CODECS[value[0]]
    try:
        fields_read = zip(codecs, value[1:], strict=True)
        return kind(*(codec.read(item) for (_, codec), item in fields_read))
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class _Codec:
    write: Callable[[Any], object]
    read: Callable[[Any], Any]  # raises TypeError or ValueError for a value of another type


def _checked(kind: type) -> Callable[[Any], Any]:
    def read(value: Any) -> Any:
        if type(value) is not kind:  # not a subclass either: True is no line number
            raise TypeError(f"{value!r} is not a {kind.__name__}")
        return value

    return read


def _write_date(date: PartialDate | None) -> object:
    return None if date is None else [getattr(date, f.name) for f in fields(date)]


def _read_date(value: Any) -> PartialDate:
    year, month, day, hour, minute, second, precision, offset = _checked(list)(value)
    number = _checked(int)
    if offset is not None:
        number(offset)
    return PartialDate(
        number(year),
        number(month),
        number(day),
        number(hour),
        number(minute),
        number(second),
        Precision(precision),
        offset,
    )


def _read_texts(value: Any) -> tuple[str, ...]:
    if type(value) is list and all(type(item) is str for item in value):
        return tuple(value)
    raise TypeError(f"{value!r} is not a list of texts")


def _read_links(value: Any) -> tuple[Link, ...]:
    return tuple(Link(*_read_texts(link)) for link in _checked(list)(value))


def _same(value: Any) -> Any:
    return value


_FIELD_CODECS = {
    "str": _Codec(_same, _checked(str)),
    "int": _Codec(_same, _checked(int)),
    "bool": _Codec(_same, _checked(bool)),
    "Mapping[str, Any]": _Codec(dict, _checked(dict)),
    "Mapping[str, int]": _Codec(dict, _checked(dict)),
    "tuple[str, ...]": _Codec(list, _read_texts),
    "tuple[Link, ...]": _Codec(lambda links: [[k.url, k.title] for k in links], _read_links),
    "PartialDate": _Codec(_write_date, _read_date),
    "PartialDate | None": _Codec(_write_date, lambda v: None if v is None else _read_date(v)),
}
# By class name: the class and (field name, codec) for each field, from the annotations
# (strings, see the __future__ import); a field of a new type fails here, at import.
_CODECS: dict[str, tuple[type[Event] | type[Actor], tuple[tuple[str, _Codec], ...]]] = {
    kind.__name__: (kind, tuple((f.name, _FIELD_CODECS[str(f.type)]) for f in fields(kind)))
    for kind in (Event, Actor)
}
