"""Pages kept from the previous build: a page whose fingerprint did not change is neither
rendered nor written again, but hard-linked from the previous output.

A page's fingerprint is a hash of everything its template can show: the site-wide part
(generator source and library versions, the config, every template, and the site's
counts when a template other than index.html shows them, see ``counts_shown``; the home
page always hashes them) and the data its template receives (the job's context). Events
are hashed with every field (the key of the file read, which stands for them all, and
the summary) and the terms, neighbours and related events their card and page can show;
terms with their name, profile and events (so a count is never stale). A missed input
would be a wrong page, so each rule leans to hashing more: more pages rendered, never a
stale one.
A template that reads the whole ``timeline_links`` can show anything, so a site whose
templates use it keeps no page.

The previous build's fingerprints are trusted only while its output is untouched (the
CLI compares the output folder's fingerprint) and while every file it linked to still
exists; each kept page brings back the links it noted for the link check.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

from markupsafe import Markup

from generator import cache as caching
from generator.config import Config
from generator.dates import PartialDate
from generator.linkcheck import Places
from generator.model import Actor, Event, EventLinks, Link, Term, Timeline
from generator.sources import Sources

_GENERATOR = Path(__file__).resolve().parent
RECORD_KEY = "pages"

# A page's own links to files that are not pages (see LinkCheck): (target, first link to
# it, how many links).
Notes = list[tuple[str, str, int]]


class Unhashable(Exception):
    """A context value the fingerprint has no rule for: its page is always rendered."""


@dataclass
class PageReuse:
    """The previous build's pages (path -> (fingerprint, notes)) and the files they could
    link to (its pages and static files); this build's, filled in by ``render_site``."""

    previous: Mapping[str, tuple[str, Notes]] = field(default_factory=dict)
    previous_expected: frozenset[str] = frozenset()
    fresh: dict[str, tuple[str, Notes]] = field(default_factory=dict)
    expected: frozenset[str] = frozenset()

    @classmethod
    def load(cls, record: object) -> PageReuse:
        """The record a previous build saved; anything malformed is no record."""
        try:
            assert isinstance(record, dict)
            pages = {
                str(path): (str(fp), [(str(t), str(link), int(n)) for t, link, n in notes])
                for path, (fp, notes) in record["pages"].items()
            }
            return cls(pages, frozenset(map(str, record["expected"])))
        except (AssertionError, KeyError, TypeError, ValueError, AttributeError):
            return cls()

    def usable(self, expected: set[str]) -> Mapping[str, tuple[str, Notes]]:
        """The previous pages that may be kept: none when a file they could link to is
        gone (a kept page's links are not read again)."""
        return self.previous if self.previous_expected <= expected else {}

    def record(self) -> dict[str, object]:
        """This build's pages, for the next build's ``load``."""
        return {
            "expected": sorted(self.expected),
            "pages": {p: [fp, notes] for p, (fp, notes) in sorted(self.fresh.items())},
        }


def notes_of(places: Places) -> Notes:
    return [(target, link, count) for target, ((_, link), count) in sorted(places.items())]


def places_of(path: str, notes: Notes) -> Places:
    return {target: ((path, link), count) for target, link, count in notes}


def site_fingerprint(config: Config, sources: Sources, timeline: Timeline) -> str | None:
    """What every page depends on besides its own context; None when pages cannot be
    kept (a template reads ``timeline_links``)."""
    digest = hashlib.blake2b(caching.key("pages", repr(config)).encode(), digest_size=20)
    for library in ("jinja2", "markupsafe"):
        _text(digest, f"{library} {version(library)}")
    for path in sorted(_GENERATOR.rglob("*.py")):
        _text(digest, path.relative_to(_GENERATOR).as_posix())
        _bytes(digest, path.read_bytes())
    layers = [("site", sources.site_templates), *((t.name, t.templates) for t in sources.themes)]
    for layer, templates in layers:
        for name, (text, _) in sorted(templates.items()):
            if "timeline_links" in text:
                return None
            _text(digest, f"{layer}/{name}")
            _text(digest, text)
    if counts_shown(sources):  # else only the home page shows them (see Fingerprints)
        _text(digest, repr(site_counts(timeline)))
    return digest.hexdigest()


def site_counts(timeline: Timeline) -> tuple[int, int, int, int]:
    """The site's counts: site.events, site.actors, site.tags, site.places."""
    return len(timeline.events), len(timeline.actors), len(timeline.tags), len(timeline.places)


class Fingerprints:
    """Page fingerprints of one build; events, terms and actors are hashed once each."""

    def __init__(self, site: str, timeline: Timeline, entries: Mapping[str, str]) -> None:
        self.site = site
        self.entries = entries
        self.counts = repr(site_counts(timeline))
        self.links = timeline.links
        self._memo: dict[int, bytes] = {}
        self._keep: list[object] = []  # the memo's keys are ids: keep their objects alive
        self._labels: dict[str, str] = {}  # by slug, unique among the events

    def hash_events(self, events: Iterable[Event]) -> None:
        """Hash every event (with its links and terms) now: every page's fingerprint reads
        them. Done before the render workers fork, so that each worker reads the digests
        instead of hashing every event again (0.9 s a worker at 10,000 events, where the
        parent takes about half of that once)."""
        for event in events:
            self._object(event)

    def page(self, path: str, template: str, context: Mapping[str, Any]) -> str | None:
        digest = hashlib.blake2b(self.site.encode(), digest_size=20)
        _text(digest, path)
        _text(digest, template)
        if template == "index.html":
            _text(digest, self.counts)
        try:
            self._value(digest, dict(context))
        except Unhashable:
            return None
        return digest.hexdigest()

    def _value(self, digest: Any, value: Any) -> None:
        kind = type(value)
        # Most values are the events of month groups, then texts and the groups
        # themselves: tested first, by exact type (an isinstance test against Mapping is
        # slow).
        if kind is Event:
            digest.update(self._object(value))
        elif kind is str:
            _text(digest, "S" + value)
        elif kind is tuple or kind is list:
            self._sequence(digest, value)
        elif kind is dict:
            self._mapping(digest, value)
        elif kind in _PLAIN:
            _text(digest, f"{kind.__name__}:{value!r}")
        elif kind in _FIELDS:  # a dataclass met before (the month and year groups)
            self._fields(digest, value)
        elif isinstance(value, str):  # Markup is a str, shown unescaped: its own tag
            _text(digest, ("M" if isinstance(value, Markup) else "S") + value)
        elif value is None or isinstance(value, bool | int | float):
            _text(digest, f"{type(value).__name__}:{value!r}")
        elif isinstance(value, Event | Term | Actor | EventLinks):
            digest.update(self._object(value))
        elif isinstance(value, PartialDate | Link):  # fields of plain values only
            _text(digest, repr(value))
        elif isinstance(value, Mapping):
            self._mapping(digest, value)
        elif isinstance(value, list | tuple):
            self._sequence(digest, value)
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            _FIELDS[kind] = tuple(f.name for f in dataclasses.fields(value))
            self._fields(digest, value)
        else:
            raise Unhashable(type(value).__qualname__)

    def _fields(self, digest: Any, value: Any) -> None:
        _text(digest, type(value).__qualname__)
        for name in _FIELDS[type(value)]:
            self._value(digest, getattr(value, name))

    def _sequence(self, digest: Any, value: Sequence[Any]) -> None:
        _text(digest, f"seq {len(value)}")
        for item in value:
            self._value(digest, item)

    def _mapping(self, digest: Any, value: Mapping[Any, Any]) -> None:
        _text(digest, f"map {len(value)}")
        for key, item in value.items():
            self._value(digest, key)
            self._value(digest, item)

    def _object(self, value: Event | Term | Actor | EventLinks) -> bytes:
        found = self._memo.get(id(value))
        if found is None:
            digest = hashlib.blake2b(type(value).__name__.encode(), digest_size=20)
            if isinstance(value, Event):
                self._entry(digest, value)
                # card() shows an event with its links, wherever the event is listed
                digest.update(self._object(self.links[value.slug]))
            elif isinstance(value, Term):
                _text(digest, f"{value.taxonomy}/{value.slug}/{value.name}")
                self._value(digest, value.profile)
                _text(digest, " ".join(e.slug for e in value.events))  # shown: the count
            elif isinstance(value, EventLinks):
                for terms in (value.actors, value.places, value.tags):
                    digest.update(b"".join(self._object(t) for t in terms) + b"|")
                for other in (value.previous, value.next):
                    _text(digest, "" if other is None else self._label(other))
                for other, shared in value.related:
                    _text(digest, f"{self._label(other)} {shared}")
            else:
                self._entry(digest, value)
            found = digest.digest()
            self._memo[id(value)] = found
            self._keep.append(value)
        return found

    def _entry(self, digest: Any, entry: Event | Actor) -> None:
        """An event's or actor's fields: the key of the file it was read from stands for
        every field read there, and the summary, which may come from the body's HTML, is
        hashed too. Hashing the fields themselves was about half the time of hashing every
        event (0.2 s at 10,000 events)."""
        key = self.entries.get(entry.path)
        if key is None:
            _hash_entry(digest, entry)
        else:
            _text(digest, "read " + key)
            _text(digest, entry.summary)

    def _label(self, event: Event) -> str:
        """What a page shows of a neighbouring or related event: its link and when."""
        found = self._labels.get(event.slug)
        if found is None:
            found = repr((event.slug, event.title, event.date, event.end, event.circa))
            self._labels[event.slug] = found
        return found


def _hash_entry(digest: Any, value: Event | Actor) -> None:
    """Every field: the body as it is, the rest as the dataclass's repr (which quotes each
    text, so it reads back unambiguously), one call instead of a walk over tens of
    values. The body is by far the longest, and its repr, escaped character by
    character, was half the time of hashing every event."""
    rest = tuple(getattr(value, f.name) for f in dataclasses.fields(value) if f.name != "body")
    _text(digest, repr(rest))
    _text(digest, value.body)


def _text(digest: Any, text: str) -> None:
    _bytes(digest, text.encode("utf-8", "surrogatepass"))


def _bytes(digest: Any, data: bytes) -> None:
    digest.update(len(data).to_bytes(8, "little") + data)


# Exact types hashed by their repr, as the general rules below would.
_PLAIN = frozenset({int, float, bool, type(None)})
# The field names of the dataclasses hashed by the general rule (the month and year
# groups of the list pages), by type: looked up once.
_FIELDS: dict[type, tuple[str, ...]] = {}


_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)
# ``site`` other than its fields that do not depend on the content.
_SITE_COUNTS = re.compile(
    r"\bsite\b(?!\s*\.\s*(?:title|description|language|base_url|search)\b)"
    r"|\b(?:extends|include|import|from)\b[^%]*index\.html"
)


def counts_shown(sources: Sources) -> bool:
    """Whether a template other than index.html (the home page, rendered again when
    they change) may show the site's counts: then a new or deleted event or term
    renders every page again. Looks for ``site`` in the Jinja tags of the templates,
    except for fields that do not depend on the content, and for index.html itself
    being extended or included."""
    templates = [*sources.site_templates.items()]
    templates += [item for theme in sources.themes for item in theme.templates.items()]
    return any(
        _SITE_COUNTS.search(tag)
        for name, (text, _) in templates
        if name != "index.html"
        for tag in _JINJA.findall(text)
    )
