"""Incremental rebuilds for the dev server: the same result as ``build()``, recomputing
only what a change affects.

``IncrementalBuilder.build(config, sources)`` runs the stages of ``generator.build.build``
in the same order, and keeps between calls:

- each content file's parsed entry, keyed by its bytes, so an unchanged file gives the very
  same Event or Actor object (later stages compare entries by identity, which is cheap);
- each body's HTML, keyed by its Markdown (and by the site's file-to-page map when the
  body links to other .md files);
- every page's bytes, re-rendering a page only when what it shows changed: an event's own
  fields or body, the titles of its neighbours and related events, the names of its
  actors, tags and places; the events (and their cards) on a year, actor, tag or place
  page; the term lists; the home page's events. Counts shown on every page (the footer)
  or a new theme or config re-render everything;
- the link check's verdict, re-checking only re-rendered pages unless pages went away.

The feeds and the sitemap are made again on every build; timeline.json and events.ics
(every event's data: about a second at 10,000 events) when first read (``LazyPages``).
Linking reuses what it can through a ``LinkMemo`` and gives back unchanged terms and
event links as the very same objects, which is how most pages are found unchanged.

``tests/test_incremental.py`` checks the result equals a full build for many kinds of
edits. When a stage is added to ``build()``, add it here too: that test fails until then.
Pages that ``SiteRenderer.jobs()`` lists under a subject this module does not know are
re-rendered on every build, which is always correct.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup

from generator.build import BuildResult, body_targets, read_entry, with_summaries
from generator.config import Config
from generator.diagnostics import Diagnostic, has_errors, sort_key
from generator.exports import whole_exports
from generator.feeds import feed_pages
from generator.linkcheck import broken_links
from generator.linking import LinkMemo, link, same_items
from generator.markup import MarkdownRenderer
from generator.model import Actor, Event, EventLinks, Term, Timeline
from generator.render import (
    TAXONOMIES,
    PageJob,
    SiteRenderer,
    home_events,
    make_environment,
    site_root_path,
    static_files,
)
from generator.sources import Sources

Entry = Event | Actor | None


@dataclass
class _Body:
    markdown: str
    line: int
    html: str
    problems: list[Diagnostic]


@dataclass
class _State:
    """What the previous build of one theme and config left behind."""

    config: Config
    sources: Sources
    env: Any  # jinja2.Environment, reused so templates compile once
    entries: dict[str, tuple[bytes, Entry, list[Diagnostic]]] = field(default_factory=dict)
    bodies: dict[str, _Body] = field(default_factory=dict)
    body_targets: Mapping[str, str] = field(default_factory=dict)
    summaries: dict[str, tuple[Event | Actor, Event | Actor]] = field(default_factory=dict)
    timeline: Timeline | None = None
    pages: Mapping[str, bytes] = field(default_factory=dict)
    render_ok: bool = False  # the previous render had no template problems
    link_problems: list[Diagnostic] | None = None  # None: not checked
    link_memo: LinkMemo = field(default_factory=LinkMemo)
    cards: Mapping[tuple[str, str, int], Markup] = field(default_factory=dict)  # render.card


class IncrementalBuilder:
    def __init__(self, drafts: bool = False) -> None:
        self.drafts = drafts
        self.state: _State | None = None
        self.rendered: set[str] = set()  # pages the last build rendered again

    def build(self, config: Config, sources: Sources) -> BuildResult:
        state = self.state
        if state is None or not _same_theme(state, config, sources):
            state = _State(config, sources, make_environment(sources))
        self.state = state
        state.sources = sources
        events, actors, problems = self._read(state, config, sources)
        bodies, changed, found = self._bodies(state, [*events, *actors])
        problems += found
        events, actors = self._summarize(state, events, actors, bodies, changed)
        timeline, found = link(events, actors, state.link_memo)
        problems += found
        pages, fresh, found = self._render(state, timeline, bodies, changed)
        problems += found
        feeds = feed_pages(config, timeline, bodies, list(pages), ZoneInfo(config.timezone))
        pages |= feeds
        fresh |= feeds.keys()
        exports = whole_exports(config, timeline, bodies)
        if has_errors(problems):
            state.link_problems = None
        else:
            problems += self._check_links(state, timeline, pages, exports.keys(), fresh)
        state.timeline = timeline
        state.pages = pages
        return BuildResult(
            pages=LazyPages(pages, exports),
            diagnostics=tuple(sorted(set(problems), key=sort_key)),
            timeline=timeline,
        )

    def _read(
        self, state: _State, config: Config, sources: Sources
    ) -> tuple[list[Event], list[Actor], list[Diagnostic]]:
        zone = ZoneInfo(config.timezone)
        events: list[Event] = []
        actors: list[Actor] = []
        problems: list[Diagnostic] = []
        kept: dict[str, tuple[bytes, Entry, list[Diagnostic]]] = {}
        for source in sources.content:
            cached = state.entries.get(source.path)
            if cached is None or cached[0] != source.data:
                entry, found = read_entry(config, source, zone)
                cached = (source.data, entry, found)
            kept[source.path] = cached
            _, entry, found = cached
            problems += found
            if isinstance(entry, Event) and (self.drafts or not entry.draft):
                events.append(entry)
            elif isinstance(entry, Actor):
                actors.append(entry)
        state.entries = kept  # deleted files drop out
        return events, actors, problems

    def _bodies(
        self, state: _State, documents: list[Event | Actor]
    ) -> tuple[dict[str, str], set[str], list[Diagnostic]]:
        """Every body's HTML, the source paths whose HTML changed, and the problems."""
        targets = body_targets(documents)
        moved = targets != state.body_targets
        renderer = MarkdownRenderer(targets, unsafe_html=state.config.unsafe_html)
        kept: dict[str, _Body] = {}
        changed: set[str] = set()
        problems: list[Diagnostic] = []
        for doc in documents:
            body = state.bodies.get(doc.path)
            if (
                body is None
                or body.markdown != doc.body
                or body.line != doc.body_line
                or (moved and ".md" in doc.body)  # its links to other files may now differ
            ):
                html, found = renderer.render(doc.body, doc.path, doc.body_line)
                if body is None or body.html != html:
                    changed.add(doc.path)
                body = _Body(doc.body, doc.body_line, html, found)
            kept[doc.path] = body
            problems += body.problems
        state.bodies = kept
        state.body_targets = targets
        return {path: body.html for path, body in kept.items()}, changed, problems

    def _summarize(
        self,
        state: _State,
        events: list[Event],
        actors: list[Actor],
        bodies: Mapping[str, str],
        changed: set[str],
    ) -> tuple[list[Event], list[Actor]]:
        """``with_summaries``, giving back the very same objects for unchanged entries so
        later stages can keep comparing entries by identity."""
        kept: dict[str, tuple[Event | Actor, Event | Actor]] = {}
        done: list[Event | Actor] = []
        entries: list[Event | Actor] = [*events, *actors]
        for entry in entries:
            previous = state.summaries.get(entry.path)
            summarized: Event | Actor
            if previous is not None and previous[0] is entry and entry.path not in changed:
                summarized = previous[1]
            else:
                (summarized,) = with_summaries([entry], bodies)
            kept[entry.path] = (entry, summarized)
            done.append(summarized)
        state.summaries = kept
        return (
            [e for e in done if isinstance(e, Event)],
            [a for a in done if isinstance(a, Actor)],
        )

    def _render(
        self, state: _State, timeline: Timeline, bodies: Mapping[str, str], changed: set[str]
    ) -> tuple[dict[str, bytes], set[str], list[Diagnostic]]:
        """The pages, re-rendering those a change affects; also the re-rendered paths."""
        renderer = SiteRenderer(state.config, state.sources, timeline, bodies, env=state.env)
        old = state.timeline
        changes = None
        if old is not None and state.render_ok and _counts(old) == _counts(timeline):
            changes = _Changes(old, timeline, state.config, changed)
            # Cards of events whose card did not change are the ones rendered last time.
            renderer.cards.update(
                (key, card) for key, card in state.cards.items() if key[0] not in changes.cards
            )
        pages: dict[str, bytes] = {}
        self.rendered = set()
        for job in renderer.jobs():
            previous = state.pages.get(job.path)
            if changes is None or previous is None or changes.affects(job):
                renderer.render(job)
                self.rendered.add(job.path)
                if job.path in renderer.pages:
                    pages[job.path] = renderer.pages[job.path]
            else:
                pages[job.path] = previous
        for path, data in static_files(state.sources):
            pages.setdefault(path, data)
        state.render_ok = not renderer.problems
        state.cards = renderer.cards
        return pages, set(renderer.pages), list(renderer.problems.values())

    def _check_links(
        self,
        state: _State,
        timeline: Timeline,
        pages: dict[str, bytes],
        exports: Iterable[str],
        fresh: set[str],
    ) -> list[Diagnostic]:
        origins = {f"events/{e.slug}/index.html": e.path for e in timeline.events}
        root = site_root_path(state.config.base_url)
        lost = state.pages.keys() - pages.keys()
        # The exports are files pages link to, not pages with links of their own.
        targets = pages | dict.fromkeys(exports, b"")
        if state.link_problems is None or state.link_problems or lost:
            found = broken_links(_Only(targets, set(pages)), origins, root)
        else:  # pages not rendered again link only to pages that still exist
            found = broken_links(_Only(targets, fresh), origins, root)
        state.link_problems = found
        return found


class _Changes:
    """Which pages a change between two timelines affects (see the module's docstring)."""

    def __init__(self, old: Timeline, new: Timeline, config: Config, bodies: set[str]) -> None:
        self.old = old
        self.new = new
        self.config = config
        self.bodies = bodies
        old_events = {e.slug: e for e in old.events}
        before_all, new_all = dict(old_events), {e.slug: e for e in new.events}
        self.pages: set[str] = set()  # event pages to render again
        self.cards: set[str] = set()  # events whose card (on list pages) changed
        for event in new.events:
            slug = event.slug
            before = old_events.pop(slug, None)
            links, old_links = new.links[slug], old.links.get(slug)
            if before is not event or old_links is None:
                self.pages.add(slug)
                self.cards.add(slug)
                continue
            if links is old_links:  # link() gives back what did not change
                if event.path in bodies:
                    self.pages.add(slug)
                continue
            if event.path in bodies or not _same_links(old_links, links):
                self.pages.add(slug)
            if any(
                _terms(getattr(old_links, name)) != _terms(getattr(links, name))
                for name in TAXONOMIES  # cards show and filter by all three
            ):
                self.cards.add(slug)
        self.cards |= old_events.keys()  # events gone (or renamed) leave the lists
        # Where the changed cards show: their events' term pages and years, before and after.
        self.card_terms: set[tuple[str, str]] = set()
        self.card_years: set[int] = set()
        for slug in self.cards:
            for shown in (old.links.get(slug), new.links.get(slug)):
                if shown is not None:
                    terms = (*shown.actors, *shown.tags, *shown.places)
                    self.card_terms.update((t.taxonomy, t.slug) for t in terms)
            self.card_years.update(e.year for e in (before_all.get(slug), new_all.get(slug)) if e)

    def affects(self, job: PageJob) -> bool:
        kind, *rest = job.subject
        old, new = self.old, self.new
        if kind == "events":
            return rest[0] in self.pages
        if kind == "years":
            year = int(rest[0])
            return (
                list(old.years) != list(new.years)
                or year in self.card_years
                or not same_items(old.years.get(year, ()), new.years[year])
            )
        if kind == "home":
            shown = home_events(new, self.config)
            return (
                _year_counts(old) != _year_counts(new)
                or any(e.slug in self.cards for e in shown)
                or not same_items(home_events(old, self.config), shown)
            )
        if kind == "terms":
            before, after = old.taxonomy(rest[0]), new.taxonomy(rest[0])
            return not _same_terms(before, after) and _term_list(before) != _term_list(after)
        if kind in TAXONOMIES:
            return self._term_differs(kind, rest[0])
        if kind == "network":
            return not self._same_network()
        return kind != "404"  # 404.html shows nothing from the content; unknown: render

    def _same_network(self) -> bool:
        """The network is drawn from the actors (names, counts) and the actors of each
        event; only events with a changed card can name other actors than before."""
        old, new = self.old, self.new
        if _same_terms(old.actors, new.actors):
            return True
        if _term_list(old.actors) != _term_list(new.actors):
            return False
        return all(
            _actor_slugs(old.links.get(slug)) == _actor_slugs(new.links.get(slug))
            for slug in self.cards
        )

    def _term_differs(self, taxonomy: str, slug: str) -> bool:
        before = self.old.taxonomy(taxonomy).get(slug)
        after = self.new.taxonomy(taxonomy)[slug]
        if before is None or before.name != after.name or before.profile is not after.profile:
            return True
        if after.profile is not None and after.profile.path in self.bodies:
            return True
        if taxonomy == "actors" and _co_actors(self.old, slug) != _co_actors(self.new, slug):
            return True
        return (taxonomy, slug) in self.card_terms or not same_items(before.events, after.events)


def _terms(terms: Sequence[Term]) -> list[tuple[str, str]]:
    return [(t.slug, t.name) for t in terms]


def _same_links(a: EventLinks, b: EventLinks) -> bool:
    """What an event page shows of its links: term names, neighbours, related events."""
    return (
        a.previous is b.previous
        and a.next is b.next
        and _terms(a.actors) == _terms(b.actors)
        and _terms(a.tags) == _terms(b.tags)
        and _terms(a.places) == _terms(b.places)
        and len(a.related) == len(b.related)
        and all(x is y and m == n for (x, m), (y, n) in zip(a.related, b.related, strict=True))
    )


def _same_terms(a: Mapping[str, Term], b: Mapping[str, Term]) -> bool:
    """Whether ``b`` holds the very same terms as ``a`` (link() keeps unchanged ones)."""
    return a.keys() == b.keys() and all(a[k] is b[k] for k in a)


def _term_list(terms: Mapping[str, Term]) -> list[tuple[str, str, int, Actor | None]]:
    return [(t.slug, t.name, len(t.events), t.profile) for t in terms.values()]


def _actor_slugs(links: EventLinks | None) -> list[str]:
    return [t.slug for t in links.actors] if links is not None else []


def _co_actors(timeline: Timeline, slug: str) -> list[tuple[str, str, int]]:
    return [(t.slug, t.name, n) for t, n in timeline.co_actors.get(slug, ())]


class LazyPages(Mapping[str, bytes]):
    """A build's pages, with the exports of every event (timeline.json, events.ics: about
    a second at 10,000 events) made the first time they are read, so the dev server tells
    the browser to reload as soon as the pages are ready."""

    def __init__(self, pages: Mapping[str, bytes], lazy: Mapping[str, Callable[[], bytes]]):
        self.pages = pages
        self.lazy = lazy
        self.made: dict[str, bytes] = {}
        self.lock = threading.Lock()  # the server's threads may ask at once

    def __getitem__(self, key: str) -> bytes:
        if key in self.pages:
            return self.pages[key]
        with self.lock:
            if key not in self.made:
                self.made[key] = self.lazy[key]()
            return self.made[key]

    def __contains__(self, key: object) -> bool:
        return key in self.pages or key in self.lazy

    def __iter__(self) -> Iterator[str]:
        yield from self.pages
        yield from (k for k in self.lazy if k not in self.pages)

    def __len__(self) -> int:
        return len(self.pages.keys() | self.lazy.keys())

    def same_pages(self, other: Mapping[str, bytes]) -> bool:
        """Whether ``other`` has the same pages, not counting what the lazy exports will
        hold: what the reader sees has not changed."""
        return isinstance(other, LazyPages) and self.pages == other.pages


class _Only(Mapping[str, bytes]):
    """All the pages for lookups, but only ``keys`` when iterated: lets the link check
    look at the re-rendered pages alone."""

    def __init__(self, pages: Mapping[str, bytes], keys: set[str]) -> None:
        self.pages = pages
        self.only = sorted(keys)

    def __getitem__(self, key: str) -> bytes:
        return self.pages[key]

    def __contains__(self, key: object) -> bool:
        return key in self.pages

    def __iter__(self) -> Iterator[str]:
        return iter(self.only)

    def __len__(self) -> int:
        return len(self.only)


def _same_theme(state: _State, config: Config, sources: Sources) -> bool:
    old = state.sources
    return (
        state.config == config
        and old.themes == sources.themes
        and old.site_templates == sources.site_templates
        and old.site_static == sources.site_static
    )


def _counts(t: Timeline) -> tuple[int, int, int, int]:
    """What every page shows in its footer (site.events, site.actors...)."""
    return len(t.events), len(t.actors), len(t.tags), len(t.places)


def _year_counts(t: Timeline) -> list[tuple[int, int]]:
    return [(year, len(events)) for year, events in t.years.items()]
