"""The content model: frozen dataclasses built from the source files."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from generator.dates import PartialDate


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
