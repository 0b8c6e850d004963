"""The content model: frozen dataclasses built from the source files."""

from __future__ import annotations

import functools
from collections.abc import Mapping
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
    return [type(entry).__name__, *(_plain(getattr(entry, f.name)) for f in fields(entry))]


def entry_from_json(value: object) -> Event | Actor | None:
    """The entry ``entry_to_json`` made, or None for anything else (a planted cache
    entry): each field must have its type. Front matter values are text, lists and
    mappings (frontmatter.py), which JSON gives back as they were."""
    if not isinstance(value, list) or not value:
        return None
    kind: type[Event] | type[Actor] | None = {"Event": Event, "Actor": Actor}.get(value[0])
    if kind is None or len(value) != len(fields(kind)) + 1:
        return None
    try:
        values = zip(fields(kind), value[1:], strict=True)
        return kind(*(_typed(f.type, item) for f, item in values))
    except (TypeError, ValueError):
        return None


def _plain(value: object) -> object:
    if isinstance(value, PartialDate):
        return [getattr(value, f.name) for f in fields(value)]
    if isinstance(value, Link):
        return [value.url, value.title]
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    if isinstance(value, Mapping):
        return dict(value)
    return value


def _typed(annotation: object, value: Any) -> Any:
    """``value`` read back as the field annotated ``annotation`` (a string: see the
    ``from __future__`` import) holds it; TypeError when it cannot be that."""
    if annotation == "PartialDate | None" and value is None:
        return None
    if annotation in ("PartialDate", "PartialDate | None"):
        *numbers, precision, offset = _checked(value, list)
        if offset is not None:
            _checked(offset, int)
        year, month, day, hour, minute, second = (_checked(n, int) for n in numbers)
        return PartialDate(year, month, day, hour, minute, second, Precision(precision), offset)
    if annotation == "tuple[Link, ...]":
        links = _checked(value, list)
        return tuple(Link(*(_checked(t, str) for t in _checked(link, list))) for link in links)
    if annotation == "tuple[str, ...]":
        return tuple(_checked(item, str) for item in _checked(value, list))
    kind = {"str": str, "int": int, "bool": bool}.get(str(annotation), dict)
    return _checked(value, kind)


def _checked(value: Any, kind: type) -> Any:
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise TypeError(f"{value!r} is not a {kind.__name__}")
    return value
