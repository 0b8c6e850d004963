"""Incremental rebuilds for the dev server: the same result as ``build()``, recomputing
only what a change affects.

``IncrementalBuilder.build(config, sources)`` runs the stages of ``generator.build.build``
in the same order, and keeps between calls:

- each content file as read (``_Doc``): a file that is the very same object as last time
  (the watcher gives back unchanged files) or has the same bytes keeps its entry, so
  later stages compare entries by identity, which is cheap;
- each body's Markdown rendered with its links to other files still to place, so a file
  whose page moves only places the links of the bodies that point to it again;
- the linking state (``LinkMemo``): linking updates only what the added and removed
  events touch, and says what it changed (``linking.Changed``);
- every page's bytes, and which pages show each subject (an event, a year, a term...).
  After an edit, only the pages of the subjects it touches are looked at, and a page is
  rendered again only when what it shows changed: an event's own fields or body, the
  titles of its neighbours and related events, the names of its actors, tags and places;
  the events (and their cards) on that page of a year, actor, tag or place; the term
  lists; the home page's events and counts. When a template other than index.html shows
  the site's counts, a change of counts renders every page; a new theme or config too;
- each link's resolved target, and the link check's verdict, re-checking only the
  re-rendered pages unless pages went away.

The exports that look at every event or page (timeline.json and events.ics, about a
second at 10,000 events; feed.xml, sitemap.xml) are made when first read (``LazyPages``).
So may the pages an edit changes: ``build(..., early=...)`` hands over the result before
rendering them, once the edited entries' own pages render with their links whole, and
renders the rest after (about half of a save's rebuild at 10,000 events). Linking then
leaves the links of events that only share a term with the edit to be refreshed after
the pages are made (see ``linking.link``'s ``defer``).
What a build keeps is changed in place, or held in persistent maps (``immutables.Map``)
where a result already given out still reads it, so that an edit costs what it changes,
not a pass over every entry. A build that stops half-way leaves the next one to start
afresh.

What a page "shows" is what the default theme's templates use. ``tests/test_incremental.py``
checks the result equals a full build after many kinds of edits, also in random
sequences; when a stage is added to ``build()``, add it here too: that test fails until
then. Pages that ``SiteRenderer.jobs()`` lists under a subject this module does not know
are re-rendered on every build, which is always correct.
"""

from __future__ import annotations

import dataclasses
import functools
import operator
import posixpath
import threading
import time
import weakref
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote
from zoneinfo import ZoneInfo

import jinja2
from immutables import Map
from markupsafe import Markup

from generator.build import BuildResult, body_targets, markdown_chunk, read_entry, with_summaries
from generator.config import Config
from generator.diagnostics import Diagnostic, has_errors, sort_key
from generator.exports import whole_exports
from generator.feeds import lazy_feeds
from generator.linkcheck import Targets, broken_links, page_origins
from generator.linking import Changed, LinkMemo, link, same_items
from generator.markup import Body, place_links
from generator.model import Actor, Event, EventLinks, Term, Timeline
from generator.output import MemorySink
from generator.pagecache import counts_shown, site_counts
from generator.parallel import map_chunks
from generator.render import (
    TAXONOMIES,
    PageJob,
    SiteRenderer,
    home_events,
    make_environment,
    render_site,
    site_root_path,
    static_files,
)
from generator.sources import SourceFile, Sources

Entry = Event | Actor | None
if TYPE_CHECKING:
    from immutables._protocols import MapMutation

    _Bodies = MapMutation[str, str]  # this build's bodies, made from the last build's


@dataclass(frozen=True)
class _Doc:
    """One content file as last read: its entry if it is built (None when it has errors,
    or is a draft without --drafts), the problems met, its body's HTML and the entry
    with its summary."""

    source: SourceFile
    entry: Event | Actor | None
    problems: list[Diagnostic]
    body: Body | None = None  # Markdown rendered, links to other files not yet placed
    html: str = ""
    body_problems: list[Diagnostic] = field(default_factory=list)
    shown: Event | Actor | None = None

    @property
    def all_problems(self) -> list[Diagnostic]:
        return [*self.problems, *self.body_problems]

    @property
    def target(self) -> str | None:
        """The page a link to this file leads to (see build.body_targets)."""
        return body_targets([self.entry])[self.source.path] if self.entry else None


@dataclass
class _Lists:
    """What linking is given, kept between builds: the built events and actors in the
    order of their files, the files' problems, and where each entry is by its path."""

    events: list[Event]
    actors: list[Actor]
    problems: list[Diagnostic]
    where: dict[str, int]


def _problems(docs: Sequence[_Doc]) -> list[Diagnostic]:
    return [p for d in docs if d.problems or d.body_problems for p in d.all_problems]


@dataclass
class _State:
    """What the previous build of one theme and config left behind."""

    config: Config
    sources: Sources
    env: Any  # jinja2.Environment, reused so templates compile once
    counts_shown: bool  # pages other than the home page show the site's counts
    content: tuple[SourceFile, ...] = ()
    docs: list[_Doc] = field(default_factory=list)  # one per file of ``content``
    targets: dict[str, str] = field(default_factory=dict)  # body_targets of the entries
    # The bodies' HTML by source path, and the pages: persistent maps, which the results
    # already given out keep as they were while an edit changes a few entries. A copy
    # would touch every entry, most of an edit's time on a machine whose idle memory
    # turns slow to touch (docs/benchmarks.md, "Live preview").
    bodies: Map[str, str] = field(default_factory=Map)
    timeline: Timeline | None = None
    pages: Map[str, bytes] = field(default_factory=Map)
    render_ok: bool = False  # the previous render had no template problems
    link_problems: list[Diagnostic] | None = None  # None: not checked
    link_memo: LinkMemo = field(default_factory=LinkMemo)
    cards: dict[str, dict[tuple[str, int], Markup]] = field(default_factory=dict)  # render.card
    subjects: dict[tuple[str, ...], list[str]] = field(default_factory=dict)  # their pages
    link_targets: Targets = field(default_factory=dict)  # links resolved (see linkcheck)
    lists: _Lists | None = None


class IncrementalBuilder:
    def __init__(self, drafts: bool = False) -> None:
        self.drafts = drafts
        # Processes for a build that makes everything: more than one only while the
        # caller runs no other thread (see parallel.py), as before the server starts.
        self.workers = 1
        self.state: _State | None = None
        self.rendered: set[str] = set()  # pages the last build rendered again
        # This build's changes of what files show: (before, after), None for nothing.
        self.delta: list[tuple[Event | Actor | None, Event | Actor | None]] = []
        self.problems_moved = False  # whether a file's problems may have changed
        self.last: LazyPages | None = None  # the pages of the last build

    def build(
        self,
        config: Config,
        sources: Sources,
        early: Callable[[BuildResult], None] | None = None,
    ) -> BuildResult:
        """The site built from ``sources``. ``early``, if given, may be handed the pages
        before those an edit affects are rendered (each is rendered when first read, the
        rest right after): when the build has no errors so far, the last one had none,
        and the edited entries' own pages render, changed, with every link whole. The result
        returned is the whole build's, problems of the pages rendered late included."""
        try:
            return self._build(config, sources, early)
        except BaseException:
            self.state = None  # changed in place part of the way: start afresh next time
            raise

    def _build(
        self, config: Config, sources: Sources, early: Callable[[BuildResult], None] | None
    ) -> BuildResult:
        state = self.state
        if state is None or not _same_theme(state, config, sources):
            state = _State(config, sources, make_environment(sources), counts_shown(sources))
        self.state = state
        state.sources = sources
        self.delta, self.problems_moved = [], False
        changed = self._read(state, sources)
        events, actors, problems = self._entries(state)
        bodies = state.bodies
        added = [new for _, new in self.delta if isinstance(new, Event)]
        removed = [old for old, _ in self.delta if isinstance(old, Event)]
        # The pages are made from a timeline whose links may wait for their terms (see
        # link()); it is refreshed once they are all made.
        memo = state.link_memo
        timeline, found = link(events, actors, memo, (added, removed), defer=early is not None)
        problems = list(problems)
        problems += found
        plan = self._plan(state, timeline, bodies, changed)
        result = LazyPages(plan.pages, {}, plan.pending())
        zone = ZoneInfo(config.timezone)
        result.lazy = whole_exports(config, timeline, bodies) | lazy_feeds(
            config, timeline, bodies, result, zone
        )
        if self.last is not None and plan.lost is not None:  # made from the last pages
            result.since(self.last, set(plan.todo) | plan.lost)
        if early is not None and self._may_show_early(state, timeline, plan, result, problems):
            early(_result(result, problems, timeline))
        pages, lost, found = self._finish(state, plan, result)
        problems += found
        timeline = memo.refresh(timeline)
        if has_errors(problems):
            state.link_problems = None
        else:
            problems += self._check_links(state, timeline, pages, result.lazy, lost)
        state.timeline = timeline
        state.pages = pages
        self.last = result
        return _result(result, problems, timeline)

    def _may_show_early(
        self,
        state: _State,
        timeline: Timeline,
        plan: _Plan,
        result: LazyPages,
        problems: list[Diagnostic],
    ) -> bool:
        """Whether ``result`` may be shown before its pages in ``plan.todo`` are all
        rendered: the pages of the entries this build changed render, differ from the
        last ones, and their links lead to pages of the site, so what is most likely to
        break is seen to work; and nothing is known broken (the rest of the pages are
        checked when rendered)."""
        if not plan.todo or plan.lost != set() or has_errors(problems):
            return False
        if state.link_problems != []:  # the last build failed, or was not checked
            return False
        changed = body_targets([new for _, new in self.delta if new is not None])
        own = {path for path in changed.values() if path in plan.todo}
        made = {path: result.get(path) for path in own}
        if None in made.values():
            return False
        if made and all(data == state.pages.get(path) for path, data in made.items()):
            return False  # the edit may show nowhere: the whole build says (no reload)
        return not broken_links(
            _Only(result, own, extra=set(result.lazy)),
            _Origins(timeline),
            site_root_path(state.config.base_url),
            1,
            state.link_targets,
        )

    def _read(self, state: _State, sources: Sources) -> set[str]:
        """Read again the content files that are not the very objects read last time,
        render their bodies and give them summaries; return the source paths whose HTML
        changed. ``state.docs`` follows the order of ``sources.content``."""
        content, old = sources.content, state.content
        if len(content) == len(old):
            same = list(map(operator.is_, content, old))  # compared in C: quick
            indices = [] if all(same) else [i for i, kept in enumerate(same) if not kept]
            if all(content[i].path == old[i].path for i in indices):
                docs = cast(list[_Doc | None], state.docs)  # changed in place
                return self._update(state, content, docs, set(), indices)
        previous = {d.source.path: d for d in state.docs}
        docs = [previous.get(source.path) for source in content]
        gone = previous.keys() - {source.path for source in content}
        for path in gone:
            self._note(previous[path].shown, None, previous[path].all_problems)
        return self._update(state, content, docs, gone, range(len(content)))

    def _update(
        self,
        state: _State,
        content: tuple[SourceFile, ...],
        kept: list[_Doc | None],
        gone: set[str],
        indices: Iterable[int],
    ) -> set[str]:
        """Bring ``kept`` up to ``content`` at ``indices`` (the files that may differ), in
        place: no copy of every file's entry for an edit of one."""
        zone = ZoneInfo(state.config.timezone)
        fresh: dict[int, _Doc | None] = {}  # index -> the doc it replaces
        for i in indices:
            prior, source = kept[i], content[i]
            if prior is not None and prior.source is source:
                continue
            if prior is not None and prior.source.data == source.data:
                kept[i] = dataclasses.replace(prior, source=source)
                continue
            entry, found = read_entry(state.config, source, zone)
            kept[i] = _Doc(source, self._built(entry), found)
            fresh[i] = prior
            self.problems_moved |= bool(found) or bool(prior and prior.all_problems)
        done = cast(list[_Doc], kept)  # every index is filled now
        state.content, state.docs = content, done
        moved = set(gone) | {
            done[i].source.path
            for i, prior in fresh.items()
            if done[i].target != (prior.target if prior else None)
        }
        if moved:  # links between bodies to these files lead elsewhere now
            state.targets = body_targets([d.entry for d in done if d.entry])
        bodies = state.bodies.mutate()
        changed = self._bodies(state, bodies, fresh, gone)
        if moved:
            changed |= self._replace_links(state, bodies, moved, skip=fresh.keys())
        state.bodies = bodies.finish()
        return changed

    def _note(
        self,
        before: Event | Actor | None,
        after: Event | Actor | None,
        problems: Sequence[Diagnostic] = (),
    ) -> None:
        """Record that a file showed ``before`` and shows ``after`` now (None: nothing
        built), and whether problems came or went with it."""
        if before is not after:
            self.delta.append((before, after))
        self.problems_moved |= bool(problems)

    def _entries(self, state: _State) -> tuple[list[Event], list[Actor], list[Diagnostic]]:
        """The built events and actors, in the order of the files, and the files'
        problems: kept from the last build, with this build's changes in place when each
        is one file's entry for another of the same kind."""
        lists = state.lists
        if lists is not None and all(
            type(old) is type(new) and old is not None and new is not None and old.path == new.path
            for old, new in self.delta
        ):
            for _, new in self.delta:
                if isinstance(new, Event):
                    lists.events[lists.where[new.path]] = new
                elif isinstance(new, Actor):
                    lists.actors[lists.where[new.path]] = new
            if self.problems_moved:
                lists.problems = _problems(state.docs)
            return lists.events, lists.actors, lists.problems
        events: list[Event] = []
        actors: list[Actor] = []
        where: dict[str, int] = {}
        for doc in state.docs:
            shown = doc.shown
            if isinstance(shown, Event):
                where[shown.path] = len(events)
                events.append(shown)
            elif isinstance(shown, Actor):
                where[shown.path] = len(actors)
                actors.append(shown)
        state.lists = _Lists(events, actors, _problems(state.docs), where)
        return events, actors, state.lists.problems

    def _built(self, entry: Event | Actor | None) -> Event | Actor | None:
        """The entry if it is built: drafts only with --drafts."""
        if isinstance(entry, Event) and entry.draft and not self.drafts:
            return None
        return entry

    def _bodies(
        self, state: _State, bodies: _Bodies, fresh: dict[int, _Doc | None], gone: set[str]
    ) -> set[str]:
        """Render the bodies of the ``fresh`` docs (Markdown only when it changed) into
        ``bodies`` and summarize them; return the paths whose HTML changed."""
        changed = {path for path in gone if bodies.pop(path, None) is not None}
        rendered = self._markdown(state, fresh)
        for i, prior in fresh.items():
            doc, before = state.docs[i], prior.shown if prior is not None else None
            if doc.entry is None:
                self._note(before, None)
                if bodies.pop(doc.source.path, None) is not None:
                    changed.add(doc.source.path)
                continue
            doc = dataclasses.replace(doc, body=rendered[i])
            changed |= self._place(state, bodies, i, doc, before)
        return changed

    def _markdown(self, state: _State, fresh: dict[int, _Doc | None]) -> dict[int, Body]:
        """The Markdown of the ``fresh`` docs' bodies, rendered again where it changed
        (on ``self.workers`` processes)."""
        result: dict[int, Body] = {}
        missing = []
        for i, prior in fresh.items():
            entry = state.docs[i].entry
            before = prior.entry if prior is not None else None
            if prior is not None and prior.body and before and entry and _same_body(before, entry):
                result[i] = prior.body
            elif entry is not None:
                missing.append(i)
        texts = [(e.body, e.path, e.body_line) for e in (state.docs[i].entry for i in missing) if e]
        bodies = [
            b for chunk in map_chunks(markdown_chunk, None, texts, self.workers) for b in chunk
        ]
        result.update(zip(missing, bodies, strict=True))
        return result

    def _replace_links(
        self, state: _State, bodies: _Bodies, moved: set[str], skip: Iterable[int]
    ) -> set[str]:
        """Place again the links of the bodies that link to ``moved`` files."""
        changed: set[str] = set()
        done = set(skip)
        for i, doc in enumerate(state.docs):
            links = doc.body.links if doc.body is not None else ()
            if i not in done and any(target in moved for _, target, _ in links):
                changed |= self._place(state, bodies, i, doc, doc.shown)
        return changed

    def _place(
        self, state: _State, bodies: _Bodies, i: int, doc: _Doc, before: Event | Actor | None
    ) -> set[str]:
        """Give ``doc`` (an entry's, at ``i``; ``before`` is what the file showed until
        now) its HTML, with links to other files' pages, and its summary; the path if its
        HTML changed."""
        assert doc.entry is not None and doc.body is not None
        path, entry = doc.source.path, doc.entry
        html, found = place_links(
            doc.body, path, entry.body_line, state.targets, state.config.unsafe_html
        )
        if doc.shown is not None and doc.html == html and doc.body_problems == found:
            return set()  # read before and unchanged: keep the very same entry
        (shown,) = with_summaries([entry], {path: html})
        self._note(before, shown, found or doc.body_problems)
        state.docs[i] = dataclasses.replace(doc, html=html, body_problems=found, shown=shown)
        changed = bodies.get(path) != html
        bodies[path] = html
        return {path} if changed else set()

    def _plan(
        self, state: _State, timeline: Timeline, bodies: Mapping[str, str], changed: set[str]
    ) -> _Plan:
        """The pages, with those a change affects still to render (``todo``); when every
        page must be looked at, all rendered here."""
        renderer = SiteRenderer(state.config, state.sources, timeline, bodies, env=state.env)
        renderer.made = []  # so that every card rendered is kept for the next build
        old = state.timeline
        changes = None
        counted = state.counts_shown and site_counts(old) != site_counts(timeline) if old else True
        if old is not None and state.render_ok and not counted:
            shown = [d.shown for d in state.docs if d.source.path in changed] if changed else []
            changes = _Changes(old, timeline, state.config, shown, state.link_memo.changed)
            # Cards of events whose card did not change are the ones rendered last time
            # (the builder's own: no earlier result holds them).
            renderer.cards = state.cards
            for slug in changes.cards:
                renderer.cards.pop(slug, None)
        self.rendered = set()
        if changes is None and self.workers > 1:
            return self._render_all(state, renderer, timeline, bodies)
        subjects = changes.subjects() if changes is not None else None
        if subjects is None:  # look at every page
            every: dict[str, bytes] = {}
            state.subjects = defaultdict(list)
            for job in renderer.jobs():
                state.subjects[job.subject].append(job.path)
                self._page(renderer, job, state.pages, changes, every)
            for path, data in static_files(state.sources):
                every.setdefault(path, data)
            return _Plan(self, renderer, Map(every), {}, None)
        # Only at the pages of what changed.
        assert changes is not None
        lost: set[str] = set()
        todo: dict[str, PageJob] = {}
        edited = state.pages.mutate()
        for subject in subjects:
            jobs = renderer.jobs_of(subject)
            for path in set(state.subjects.pop(subject, ())) - {j.path for j in jobs}:
                del edited[path]  # a page no longer made (say, a list got shorter)
                lost.add(path)
            if jobs:
                state.subjects[subject] = [job.path for job in jobs]
            for job in jobs:
                if job.path not in state.pages or changes.affects(job):
                    todo[job.path] = job
        return _Plan(self, renderer, edited.finish(), todo, lost)

    def _finish(
        self, state: _State, plan: _Plan, result: LazyPages
    ) -> tuple[Map[str, bytes], set[str] | None, list[Diagnostic]]:
        """Render what ``plan`` left to render (what was read meanwhile is rendered);
        return the pages, the last build's pages no longer made (None: not known) and the
        templates' problems."""
        made = result.settle()
        pages, lost = plan.pages, plan.lost
        if made:
            assert lost is not None
            edited = pages.mutate()
            for path, data in made.items():
                if data is None:  # a template error, which is reported
                    edited.pop(path, None)
                    lost.add(path)
                else:
                    edited[path] = data
            pages = edited.finish()
        result.pages = pages
        problems = [*plan.problems, *plan.renderer.problems.values()]
        state.render_ok = not problems
        state.cards = plan.renderer.cards
        return pages, lost, problems

    def render_job(self, renderer: SiteRenderer, job: PageJob) -> bytes | None:
        """One page of ``renderer``'s, None if its template fails (which is reported)."""
        renderer.render(job)
        self.rendered.add(job.path)
        return renderer.pages.get(job.path)

    def _render_all(
        self, state: _State, renderer: SiteRenderer, timeline: Timeline, bodies: Mapping[str, str]
    ) -> _Plan:
        """Every page, on ``self.workers`` processes (as ``build()`` does)."""
        cards: dict[str, dict[tuple[str, int], Markup]] = {}
        built, problems = render_site(
            state.config, state.sources, timeline, bodies, MemorySink(), self.workers, cards=cards
        )
        state.subjects = defaultdict(list)
        for job in renderer.jobs():
            state.subjects[job.subject].append(job.path)
        _compile_templates(state.env)
        pages = Map(built.result().items())
        self.rendered = set(pages)
        renderer.cards = cards
        return _Plan(self, renderer, pages, {}, None, problems)

    def _page(
        self,
        renderer: SiteRenderer,
        job: PageJob,
        before: Mapping[str, bytes],
        changes: _Changes | None,
        pages: dict[str, bytes],
    ) -> None:
        """Render the page of ``job`` into ``pages`` if ``changes`` affect it, else keep
        the one from ``before``."""
        previous = before.get(job.path)
        data = previous
        if changes is None or previous is None or changes.affects(job):
            data = self.render_job(renderer, job)
        if data is not None:  # else a template error, which is reported
            pages[job.path] = data

    def _check_links(
        self,
        state: _State,
        timeline: Timeline,
        pages: Mapping[str, bytes],
        exports: Iterable[str],
        lost: set[str] | None,
    ) -> list[Diagnostic]:
        """Check the links of the pages made again and of those that may link to pages
        ``lost`` (None: not known); of every page if the last check found problems."""
        if state.link_problems is None or state.link_problems:
            checked = set(pages)
        else:  # pages not rendered again link to pages that still exist, or to lost ones
            if lost is None:
                lost = set(state.pages).difference(pages)
            checked = (self.rendered - lost) | _linking_to(lost, pages)
        # The exports are files pages link to, not pages with links of their own.
        found = broken_links(
            _Only(pages, checked, extra=set(exports)),
            _Origins(timeline),
            site_root_path(state.config.base_url),
            self.workers,
            state.link_targets,
        )
        state.link_problems = found
        return found


@dataclass
class _Plan:
    """A build's pages before the pages a change affects are rendered: ``pages`` holds
    the others (and may hold those as they were), ``todo`` lists those, and ``lost`` the
    last build's pages no longer made (None: not known, when every page was rendered).
    ``problems`` are those of pages rendered elsewhere (by the workers)."""

    builder: IncrementalBuilder
    renderer: SiteRenderer
    pages: Map[str, bytes]
    todo: dict[str, PageJob]
    lost: set[str] | None
    problems: list[Diagnostic] = field(default_factory=list)

    def pending(self) -> dict[str, Callable[[], bytes | None]]:
        """How to render each page still to render."""
        render = self.builder.render_job
        return {
            path: functools.partial(render, self.renderer, job) for path, job in self.todo.items()
        }


def _result(pages: LazyPages, problems: list[Diagnostic], timeline: Timeline) -> BuildResult:
    return BuildResult(
        pages=pages, diagnostics=tuple(sorted(set(problems), key=sort_key)), timeline=timeline
    )


def _same_body(a: Event | Actor, b: Event | Actor) -> bool:
    return a.body == b.body and a.body_line == b.body_line and a.path == b.path


class _Changes:
    """Which pages a change between two timelines affects (see the module's docstring).

    ``linked`` says what linking changed; ``shown`` are the entries whose body's HTML
    changed. After an edit of a few events, only the pages of what they touch are looked
    at (``subjects()``); after linking from scratch, every page."""

    def __init__(
        self,
        old: Timeline,
        new: Timeline,
        config: Config,
        shown: Sequence[Event | Actor | None],
        linked: Changed,
    ) -> None:
        self.old = old
        self.new = new
        self.config = config
        self.linked = linked
        self.bodies = {e.path for e in shown if e is not None}
        self.profiles = {e.slug for e in shown if isinstance(e, Actor)}
        self.years_moved = list(old.years) != list(new.years)
        self.pages: set[str] = set()  # event pages to render again
        self.cards: set[str] = set()  # events whose card (on list pages) changed
        if linked.everything:
            old_events = {e.slug: e for e in old.events}
            new_events = {e.slug: e for e in new.events}
            moved = {s for s, e in new_events.items() if old_events.get(s) is not e}
            candidates: Iterable[str] = new_events.keys() | old_events.keys()
        else:
            moved = linked.events
            candidates = linked.events | linked.shown
        body_slugs = {e.slug for e in shown if isinstance(e, Event)}
        for slug in candidates:
            links, old_links = new.links.get(slug), old.links.get(slug)
            if links is None or old_links is None or slug in moved:
                self.pages.add(slug)
                self.cards.add(slug)
                continue
            if links is old_links:  # link() gives back what did not change
                if slug in body_slugs:
                    self.pages.add(slug)
                continue
            if slug in body_slugs or not _same_links(old_links, links):
                self.pages.add(slug)
            if any(
                _terms(getattr(old_links, name)) != _terms(getattr(links, name))
                for name in TAXONOMIES  # cards show and filter by all three
            ):
                self.cards.add(slug)
        # Where the changed cards show: their events' term pages, before and after.
        self.card_terms: set[tuple[str, str]] = set()
        for slug in self.cards:
            for shows in (old.links.get(slug), new.links.get(slug)):
                if shows is not None:
                    terms = (*shows.actors, *shows.tags, *shows.places)
                    self.card_terms.update((t.taxonomy, t.slug) for t in terms)

    def subjects(self) -> list[tuple[str, ...]] | None:
        """The subjects (see render.PageJob) whose pages may have changed, or None if
        every page must be looked at."""
        if self.linked.everything:
            return None
        old, new, linked = self.old, self.new, self.linked
        years = set(old.years) | set(new.years) if self.years_moved else self._card_years()
        terms = self.card_terms | linked.terms | {("actors", s) for s in self.profiles}
        terms |= {
            ("actors", slug)
            for slug, co_actors in new.co_actors.items()
            if old.co_actors.get(slug) is not co_actors
        }
        return [
            ("home",),
            *(("years", str(year)) for year in sorted(years)),
            *(("events", slug) for slug in sorted(self.pages | linked.events)),
            *(("terms", name) for name in TAXONOMIES),
            *sorted(terms),
            ("network",),
            ("404",),
        ]

    def _card_years(self) -> set[int]:
        """Years whose pages may show a changed card."""
        years = set(self.linked.years)
        unmoved = self.cards - self.linked.events  # same event, other term names
        years.update(self.new.by_slug[slug].year for slug in unmoved)
        return years

    def affects(self, job: PageJob) -> bool:
        kind, *rest = job.subject
        old, new = self.old, self.new
        if kind == "events":
            return rest[0] in self.pages
        if kind == "years":
            year = int(rest[0])
            events = old.years.get(year, ())
            return self.years_moved or self._page_differs(events, new.years[year], job.page)
        if kind == "home":
            shown = home_events(new, self.config)
            return (
                site_counts(old) != site_counts(new)
                or _year_counts(old) != _year_counts(new)
                or any(e.slug in self.cards for e in shown)
                or not same_items(home_events(old, self.config), shown)
            )
        if kind == "terms":
            return self._terms_differ(rest[0])
        if kind in TAXONOMIES:
            return self._term_differs(kind, rest[0], job.page)
        if kind == "network":
            return not self._same_network()
        return kind != "404"  # 404.html shows nothing from the content; unknown: render

    def _page_differs(self, before: Sequence[Event], after: Sequence[Event], page: int) -> bool:
        """Whether page ``page`` of a list of events shows other events, another count or
        number of pages, or a changed card."""
        if len(before) != len(after):
            return True
        size = self.config.page_size
        shown = after[(page - 1) * size : page * size]
        return not same_items(before[(page - 1) * size : page * size], shown) or not (
            self.cards.isdisjoint(e.slug for e in shown)
        )

    def _terms_differ(self, taxonomy: str) -> bool:
        """Whether the list of a taxonomy's terms (names, counts, files) changed."""
        before, after = self.old.taxonomy(taxonomy), self.new.taxonomy(taxonomy)
        if self.linked.everything:
            return not _same_terms(before, after) and _term_list(before) != _term_list(after)
        return any(
            _term_row(before.get(slug)) != _term_row(after.get(slug))
            for name, slug in self.linked.terms
            if name == taxonomy
        )

    def _same_network(self) -> bool:
        """The network is drawn from the actors (names, counts) and the actors of each
        event; only events with a changed card can name other actors than before."""
        old, new = self.old, self.new
        if self._terms_differ("actors"):
            return False
        return all(
            _actor_slugs(old.links.get(slug)) == _actor_slugs(new.links.get(slug))
            for slug in self.cards
        )

    def _term_differs(self, taxonomy: str, slug: str, page: int) -> bool:
        before = self.old.taxonomy(taxonomy).get(slug)
        after = self.new.taxonomy(taxonomy)[slug]
        if before is None or before.name != after.name or before.profile is not after.profile:
            return True
        if after.profile is not None and after.profile.path in self.bodies:
            return True
        if taxonomy == "actors" and _co_actors(self.old, slug) != _co_actors(self.new, slug):
            return True
        return self._page_differs(before.events, after.events, page)


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


def _term_row(term: Term | None) -> tuple[str, int, Actor | None] | None:
    """What a list of terms shows of one: its name, number of events and file."""
    return (term.name, len(term.events), term.profile) if term is not None else None


def _actor_slugs(links: EventLinks | None) -> list[str]:
    return [t.slug for t in links.actors] if links is not None else []


def _co_actors(timeline: Timeline, slug: str) -> list[tuple[str, str, int]]:
    return [(t.slug, t.name, n) for t, n in timeline.co_actors.get(slug, ())]


class LazyPages(Mapping[str, bytes]):
    """A build's pages, with the exports of every event (timeline.json, events.ics: about
    a second at 10,000 events) made the first time they are read, so the dev server tells
    the browser to reload as soon as the pages are ready. Pages still ``pending`` (see
    ``IncrementalBuilder.build``) are rendered when first read, or by ``settle()``."""

    def __init__(
        self,
        pages: Mapping[str, bytes],
        lazy: Mapping[str, Callable[[], bytes]],
        pending: Mapping[str, Callable[[], bytes | None]] | None = None,
    ):
        self.pages = pages
        self.lazy = lazy
        self.pending = pending or {}  # None from one of these: the page is not made
        self.made: dict[str, bytes | None] = {}
        # The server's threads may ask at once; a maker may read another page (reentrant).
        self.lock = threading.RLock()
        # The pages of an earlier build these were made from (while it is alive), and
        # the paths that may differ from them: see same_pages.
        self.base: weakref.ref[LazyPages] | None = None
        self.delta: set[str] = set()

    def since(self, base: LazyPages, delta: set[str]) -> None:
        """Say these pages are ``base``'s but for the paths in ``delta``."""
        self.base, self.delta = weakref.ref(base), delta

    def __getitem__(self, key: str) -> bytes:
        if key in self.pending:
            made = self._make(key, self.pending)
        elif key in self.pages:
            return self.pages[key]
        else:
            made = self._make(key, self.lazy)
        if made is None:  # a pending page whose template failed
            raise KeyError(key)
        return made

    def _make(self, key: str, makers: Mapping[str, Callable[[], bytes | None]]) -> bytes | None:
        with self.lock:
            if key not in self.made:
                self.made[key] = makers[key]()
            return self.made[key]

    def settle(self) -> dict[str, bytes | None]:
        """Render the pending pages not read yet, one at a time (a reader waiting for one
        goes in between); return every pending page, None where it failed. Once settled,
        the caller sets ``pages`` to hold them."""
        for key in self.pending:
            self._make(key, self.pending)
            time.sleep(0)  # let a waiting request take the lock before the next page
        return {key: self.made[key] for key in self.pending}

    def __contains__(self, key: object) -> bool:
        if key in self.pending:
            return self.made.get(cast(str, key), b"") is not None  # rendered, or not yet tried
        return key in self.pages or key in self.lazy

    def __iter__(self) -> Iterator[str]:
        yield from (k for k in self.pending if self.made.get(k, b"") is not None)
        yield from (k for k in self.pages if k not in self.pending)
        yield from (k for k in self.lazy if k not in self.pages and k not in self.pending)

    def __len__(self) -> int:
        pages, made = self.pages, self.made
        count = len(pages) + sum(1 for k in self.lazy if k not in pages and k not in self.pending)
        for key in self.pending:  # counted in pages, or not; here, or not (failed)
            count += (made.get(key, b"") is not None) - (key in pages)
        return count

    def same_pages(self, other: Mapping[str, bytes]) -> bool:
        """Whether ``other`` has the same pages, not counting what the lazy exports will
        hold: what the reader sees has not changed. When these pages were made from
        ``other``'s, step by step, only the paths that may differ are compared (comparing
        every page would touch each). Pages still to render count as changed."""
        if not isinstance(other, LazyPages):
            return False
        if self is not other and (self.pending.keys() - self.made.keys()):
            return False
        paths: set[str] = set()
        step: LazyPages | None = self
        while step is not other:
            if step is None or step.base is None:
                return self.pages == other.pages
            paths |= step.delta
            step = step.base()
        return all(self._page(p) == other._page(p) for p in paths)

    def _page(self, key: str) -> bytes | None:
        """A page (not an export), None if there is none."""
        return self._make(key, self.pending) if key in self.pending else self.pages.get(key)


def _compile_templates(env: jinja2.Environment) -> None:
    """Compile every template here, as the workers did for themselves, so that the first
    save after the first build does not wait for it. A template that does not compile
    was reported by the build that used it."""
    for name in env.list_templates():
        try:
            env.get_template(name)
        except jinja2.TemplateError:
            continue


def _linking_to(lost: set[str], pages: Mapping[str, bytes]) -> set[str]:
    """The pages that may link to a ``lost`` page: those holding its last path segment
    (its folder's name for an index.html, else its file name), as is or percent-encoded,
    which every link to it holds but a link that climbs to a folder above it, which is
    no longer there either."""
    needles = set()
    for path in lost:
        folder, name = posixpath.split(path)
        last = posixpath.basename(folder) if name == "index.html" and folder else name
        needles |= {last.encode(), quote(last).encode()}
    if not needles:
        return set()
    return {p for p, data in pages.items() if any(n in data for n in needles)}


class _Only(Mapping[str, bytes]):
    """All the pages (and the ``extra`` files, with no links) for lookups, but only the
    paths in ``only`` when iterated: lets the link check look at some pages alone."""

    def __init__(self, pages: Mapping[str, bytes], keys: set[str], extra: set[str]) -> None:
        self.pages = pages
        self.only = sorted(keys)
        self.extra = extra

    def __getitem__(self, key: str) -> bytes:
        return self.pages[key] if key in self.pages or key not in self.extra else b""

    def __contains__(self, key: object) -> bool:
        return key in self.pages or key in self.extra

    def __iter__(self) -> Iterator[str]:
        return iter(self.only)

    def __len__(self) -> int:
        return len(self.only)


class _Origins(Mapping[str, Event | Actor]):
    """Event and actor page -> its entry, for link problems' messages: made when first
    read, which is only when a link is broken."""

    def __init__(self, timeline: Timeline) -> None:
        self.timeline = timeline

    @functools.cached_property
    def origins(self) -> dict[str, Event | Actor]:
        return page_origins(self.timeline)

    def __getitem__(self, key: str) -> Event | Actor:
        return self.origins[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.origins)

    def __len__(self) -> int:
        return len(self.origins)


def _same_theme(state: _State, config: Config, sources: Sources) -> bool:
    old = state.sources
    return (
        state.config == config
        and old.themes == sources.themes
        and old.site_templates == sources.site_templates
        and old.site_static == sources.site_static
    )


def _year_counts(t: Timeline) -> list[tuple[int, int]]:
    return [(year, len(events)) for year, events in t.years.items()]
