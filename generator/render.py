"""Render the linked timeline through the theme's Jinja templates into pages.

One Environment per build. Templates are looked up in the site's own templates/ first,
then in the chosen theme and the themes it extends, the built-in default last; a template
can name a theme's version explicitly (``{% extends "default/base.html" %}``).
"""

from __future__ import annotations

import posixpath
import secrets
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property, partial
from types import MethodType
from typing import Any
from urllib.parse import urlsplit

import jinja2
from jinja2 import nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape

from generator import __version__
from generator import messages as M
from generator.config import Config
from generator.dates import MONTHS, PartialDate, Precision, display_range, year_label
from generator.diagnostics import Diagnostic, error, warning
from generator.linkcheck import LinkCheck
from generator.markup import from_site_root
from generator.model import Actor, Event, EventLinks, Link, Term, Timeline
from generator.network import build_network
from generator.output import Batch, BuiltPages, PageSink
from generator.pagecache import (
    Fingerprints,
    Notes,
    PageReuse,
    notes_of,
    places_of,
    site_fingerprint,
)
from generator.parallel import even_chunks, map_chunks
from generator.sources import Sources
from generator.timelimit import TimeLimitExceeded, within

TAXONOMIES = ("actors", "tags", "places")
Card = tuple[str, tuple[str, int], Markup]  # event slug, (root, heading level), HTML
RECENT_ON_OVERVIEW = 30
# Seconds one page may take. The slowest of a 10,000-event site takes 0.05 s here; a
# site's own template can loop for hours ({% for %} in {% for %} over range(100000)), on
# every page that uses it: past the limit, the page is reported and no other rendered.
PAGE_SECONDS = 30.0
# A card made ahead of the pages (see _cards_ahead) takes about a tenth of a millisecond;
# one that takes a second is left to the page that shows it, under the page's limit.
CARD_AHEAD_SECONDS = 1.0
MAX_REPEAT = 10_000_000  # the longest text or list a template's "*" may make
MAX_POWER_BITS = 100_000  # the largest number a template's "**" may make
FILTER_CHOICES = 12
# A build's workers keep the cards they render up to this many characters in all, then
# start again. The default theme's take about 1,150 characters an event, kept once per
# event: 100,000 events fit. A limit of 25,000 events, as it was, made the actor, tag and
# place pages of 100,000 events render most cards two or three times, since they show
# the events in no order of theirs (cards were 14.7 % of a build's CPU samples, 6.5 % now).
MAX_CARD_CHARS = 200_000_000


class _MappingLoader(jinja2.BaseLoader):
    """Templates held in memory: name -> (source, file path shown in errors)."""

    def __init__(self, templates: Mapping[str, tuple[str, str]]) -> None:
        self.templates = templates

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        if template not in self.templates:
            raise jinja2.TemplateNotFound(template)
        source, filename = self.templates[template]
        return source, filename, lambda: True

    def list_templates(self) -> list[str]:
        return sorted(self.templates)


def make_environment(sources: Sources) -> jinja2.Environment:
    layers = [_MappingLoader(sources.site_templates)]
    layers += [_MappingLoader(theme.templates) for theme in sources.themes]
    prefixed = jinja2.PrefixLoader(
        {theme.name: _MappingLoader(theme.templates) for theme in sources.themes}
    )
    # Sandboxed: a site's templates can show anything they are given, but not reach
    # Python's internals ({{ cycler.__init__.__globals__.os }}) to run commands on the
    # machine that builds the site, which may be building someone else's.
    env = _Sandbox(
        loader=jinja2.ChoiceLoader([*layers, prefixed]),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["when"] = lambda e: display_range(e.date, e.end, e.circa)
    env.filters["iso"] = _html_datetime
    env.filters["duration"] = duration
    env.filters["href"] = _href
    env.globals["url"] = _url
    env.globals["group_by_month"] = group_by_month
    env.globals["year_label"] = year_label
    env.globals["generator"] = f"timeline {__version__}"
    return env


class _Sandbox(SandboxedEnvironment):
    """Jinja's sandbox, with its verdicts on what templates use most reached in one step:
    on an instance of the model's frozen dataclasses (``_MODEL``), an attribute is safe
    unless its name starts with "_", as the sandbox itself rules (none of their values is
    a string's ``format`` method, which it would wrap); our own functions are safe to
    call. The sandbox's own checks were a fifth of the template time of a 10,000-event
    site, and its calls of our functions (through Context.call) another tenth."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) in _MODEL and not attribute.startswith("_"):
            try:
                return getattr(obj, attribute)
            except AttributeError:
                pass  # the sandbox says what is missing
        return super().getattr(obj, attribute)

    # A template's "*" and "**" are checked before they run: one expression could
    # otherwise ask for gigabytes ("x" * 10**10) or a number no time limit stops
    # computing (10**10**10 is a single call into C).
    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "*" and _repeat_length(left, right) > MAX_REPEAT:
            raise SecurityError(f"a repeat longer than {MAX_REPEAT:,} is not allowed")
        if operator == "**" and _power_bits(left, right) > MAX_POWER_BITS:
            raise SecurityError(f"a power over {MAX_POWER_BITS:,} bits is not allowed")
        return super().call_binop(context, operator, left, right)

    # Underscored as in Jinja, so that no keyword a template passes can clash with them.
    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        # Ours, and nearly every call templates make, called as Context.call would
        # without its checks: in a block or a loop, the template hands over the variables
        # set there, which come first (the block's, then the loop's); of the context,
        # url() and card() read only the root.
        if __obj is _url or _is_card(__obj):
            block, loop = kwargs.pop("_block_vars", None), kwargs.pop("_loop_vars", None)
            if block and "root" in block:
                root = block["root"]
            elif loop and "root" in loop:
                root = loop["root"]
            else:
                root = __context["root"]
            if __obj is _url:
                return _link(root, *args, **kwargs)
            return __obj.__self__.card_at(root, *args, **kwargs)
        if any(__obj is plain for plain in _PLAIN_GLOBALS):
            kwargs.pop("_block_vars", None)
            kwargs.pop("_loop_vars", None)
            return __obj(*args, **kwargs)
        return super().call(__context, __obj, *args, **kwargs)


def _repeat_length(left: Any, right: Any) -> int:
    """How long ``left * right`` is when it repeats a text or list; else 0."""
    for items, times in ((left, right), (right, left)):
        if isinstance(items, str | bytes | list | tuple) and isinstance(times, int):
            return len(items) * times
    return 0


def _power_bits(left: Any, right: Any) -> int:
    """About how many bits ``left ** right`` has, for whole numbers; else 0."""
    if isinstance(left, int) and isinstance(right, int) and right > 0:
        return right * abs(left).bit_length()
    return 0


@jinja2.pass_context
def _url(context: jinja2.runtime.Context, target: str = "") -> str:
    """A link from the page being rendered to ``target`` (a site path such as "events/x/"
    or "static/style.css"), relative so the site works under any sub-path and from disk."""
    return _link(context["root"], target)


def _link(root: object, target: str = "") -> str:
    link = str(root) + target
    return link + "index.html" if link == "" or link.endswith("/") else link


@jinja2.pass_context
def _href(context: jinja2.runtime.Context, link: str) -> str:
    """A URL an author wrote (a source, an actor's link), read as in a body: one from the
    site's root ("/docs/report.pdf") made relative to the page being rendered, any other
    as written."""
    return from_site_root(link, str(context["root"])) or link


def _html_datetime(event: Event) -> str:
    """The value of a <time datetime> attribute; HTML has no form for BC years."""
    return "" if event.date.is_bce else event.date.iso()


@dataclass(frozen=True)
class MonthGroup:
    label: str  # "October", or "" for events dated to the year only
    events: tuple[Event, ...]


@dataclass(frozen=True)
class YearGroup:
    year: int
    label: str
    months: tuple[MonthGroup, ...]


def year_slug(year: int) -> str:
    return f"-{-year:04d}" if year < 0 else f"{year:04d}"


def group_by_month(events: Sequence[Event]) -> list[YearGroup]:
    """Events (in time order) by start year, then month; year-only dates lead their year."""
    years: list[YearGroup] = []
    buckets: dict[int, dict[int, list[Event]]] = {}
    for event in events:
        month = event.date.month if event.date.precision >= Precision.MONTH else 0
        buckets.setdefault(event.year, {}).setdefault(month, []).append(event)
    for year, months in buckets.items():
        groups = tuple(
            MonthGroup(MONTHS[m - 1] if m else "", tuple(items)) for m, items in months.items()
        )
        years.append(YearGroup(year, year_label(year), groups))
    return years


# The plain functions among the globals, called without the sandbox's checks.
_PLAIN_GLOBALS = (year_slug, year_label, group_by_month)


def _is_card(obj: object) -> bool:
    return type(obj) is MethodType and obj.__func__ is SiteRenderer.card


def duration(event: Event) -> str:
    """How long a range lasts, in the unit of its precision: "3 days", "7 months", "2 years";
    "" for an event that is not a range."""
    if event.end is None or event.end == event.date:
        return ""
    if event.end.precision >= Precision.DAY and event.date.precision >= Precision.DAY:
        days = max(1, round((event.stop - event.start) / 86400))
        return M.plural(days, "day")
    months = (event.end.year - event.date.year) * 12 + event.end.month - event.date.month + 1
    if event.date.precision is Precision.YEAR or event.end.precision is Precision.YEAR:
        return M.plural(event.end.year - event.date.year + 1, "year")
    return M.plural(months, "month")


@dataclass(frozen=True)
class Pager:
    """Page ``number`` of ``count`` of a list of events at ``base`` (a site path such as
    "actors/x/"); page 1 is ``base`` itself, page n is ``base``page/n/."""

    base: str
    number: int
    count: int

    def url(self, number: int) -> str:
        return self.base if number == 1 else f"{self.base}page/{number}/"

    @property
    def path(self) -> str:
        return self.url(self.number) + "index.html"


# What templates are given most: see _Sandbox.
_MODEL = frozenset(
    {Link, Event, Actor, Term, EventLinks, PartialDate, MonthGroup, YearGroup, Pager}
)


def paginate(events: Sequence[Event], size: int) -> list[Sequence[Event]]:
    """``events`` in pages of ``size``; an empty list is one empty page."""
    return [events[i : i + size] for i in range(0, len(events), size)] or [events]


@dataclass(frozen=True)
class PageJob:
    """One page to render. ``subject`` names what the page shows, e.g. ("events", slug),
    so an incremental rebuild can pick the pages a change affects; ``context`` is built
    only when the page is rendered."""

    path: str
    template: str
    subject: tuple[str, ...]
    context: Callable[[], dict[str, Any]]
    page: int = 1  # which page of a list of events in pages


class SiteRenderer:
    """Renders the pages of one timeline; ``jobs()`` lists them, ``render(job)`` renders
    one. ``env`` may be reused between builds of the same theme and config."""

    def __init__(
        self,
        config: Config,
        sources: Sources,
        timeline: Timeline,
        bodies: Mapping[str, str],
        env: jinja2.Environment | None = None,
    ) -> None:
        self.config = config
        self.timeline = timeline
        self.bodies = bodies
        self.env = env or make_environment(sources)
        self.env.globals["site"] = {
            "title": config.title,
            "description": config.description,
            "language": config.language,
            "base_url": config.base_url,
            "events": len(timeline.events),
            "actors": len(timeline.actors),
            "tags": len(timeline.tags),
            "places": len(timeline.places),
            "search": config.search,
        }
        self.env.globals["theme"] = dict(config.theme_options)
        self.env.globals["year_slug"] = year_slug
        self.env.globals["timeline_links"] = timeline.links
        self.env.globals["card"] = self.card
        self.cards: dict[str, dict[tuple[str, int], Markup]] = {}  # by event slug
        self.level_free: dict[str, dict[tuple[object, ...], str]] = {}  # see _card_html
        self.card_chars = 0  # held in the two above
        self.made: list[Card] | None = None  # cards rendered, when they are wanted back
        self.problems: dict[tuple[str, int, str], Diagnostic] = {}
        self.pages: dict[str, bytes] = {}
        self.out_of_time = False  # a page ran past PAGE_SECONDS: render no more

    @jinja2.pass_context
    def card(self, context: jinja2.runtime.Context, event: Event, heading: int = 4) -> Markup:
        """partials/card.html for ``event``: an event's card shows on its year's page, its
        actors', tags' and place's pages and the home page, so each card is rendered once
        per folder depth and heading level (or once, see ``_card_html``), then reused."""
        return self.card_at(context["root"], event, heading)

    def card_at(self, root: str, event: Event, heading: int = 4) -> Markup:
        cards = self.cards.get(event.slug)
        found = cards.get((root, heading)) if cards else None
        if found is None:
            found = Markup(self._card_html(event, root, heading))
            # Each copy is kept only when wanted back; else, made in a moment from the one
            # rendered, it would be most of a render worker's memory.
            if self.made is not None or not self.card_slots:
                self.cards.setdefault(event.slug, {})[(root, heading)] = found
                self.card_chars += len(found)
            if self.made is not None:
                self.made.append((event.slug, (root, heading), found))
        return found

    def _card_html(self, event: Event, root: str, heading: int) -> str:
        values = {"root": root, "heading": heading}
        slots = self.card_slots
        if not slots:
            template = self.env.get_template("partials/card.html")
            return template.render(event=event, links=self.timeline.links[event.slug], **values)
        # An event's card shows on pages at two folder depths and three heading levels:
        # rendered once with stand-ins, each copy is a replacement (a fifth of a
        # 10,000-event site's template time went to rendering the copies).
        text = self._level_free_card(event, values)
        for name, stand_in in slots.items():
            text = text.replace(stand_in, str(escape(values[name])))
        return text

    def _level_free_card(self, event: Event, values: dict[str, object]) -> str:
        """The card of ``event`` with stand-ins for the ``card_slots``, rendered once for
        each value of the variables that have none."""
        slots = self.card_slots
        made = self.level_free.setdefault(event.slug, {})
        key = tuple(value for name, value in values.items() if name not in slots)
        text = made.get(key)
        if text is None:
            template = self.env.get_template("partials/card.html")
            links = self.timeline.links[event.slug]
            text = template.render(event=event, links=links, **(values | slots))
            made[key] = text
            self.card_chars += len(text)
        return text

    def card_ahead(self, event: Event) -> str | None:
        """The card of ``event`` with stand-ins for both ``root`` and ``heading`` (kept
        under the key ``()``), made now; None when it fails or takes more than
        ``CARD_AHEAD_SECONDS``: the page that shows it renders it again and reports it."""
        values: dict[str, object] = {"root": "", "heading": 0}  # both stood in for
        try:
            return within(CARD_AHEAD_SECONDS, lambda: self._level_free_card(event, values))
        except Exception:
            return None

    @cached_property
    def card_slots(self) -> dict[str, str]:
        """Stand-ins for ``root`` and ``heading`` in a card rendered once for every page,
        for those that partials/card.html only prints (the default theme's prints the
        level and uses the root only through ``url()``, whose links start with it). Random
        words, so no content holds them; the root's ends in "/" as a root does. A
        variable the template does anything else with (tests it, computes with it, hands
        it to another template) has none: each of its values is rendered."""
        try:
            assert self.env.loader is not None
            source, _, _ = self.env.loader.get_source(self.env, "partials/card.html")
            tree = self.env.parse(source)
        except jinja2.TemplateError:
            return {}  # reported where a card is rendered
        word = f"timeline-{secrets.token_hex(8)}"
        slots = {"root": f"{word}-root/", "heading": f"{word}-level"}
        via = {"root": ("url",)}  # url() starts each link with the root
        return {
            name: slot
            for name, slot in slots.items()
            if only_printed(tree, name, via.get(name, ()))
        }

    def context(self, job: PageJob) -> dict[str, Any]:
        """Everything ``job``'s template receives besides the globals."""
        context = job.context()
        context.setdefault("root", "../" * job.path.count("/"))
        context["page_path"] = job.path
        return context

    def render(self, job: PageJob, context: dict[str, Any] | None = None) -> None:
        if self.out_of_time:
            return  # the build fails already: the pages left would take as long
        if context is None:
            context = self.context(job)
        template = job.template
        try:
            text = within(PAGE_SECONDS, lambda: self.env.get_template(template).render(**context))
        except TimeLimitExceeded as exc:
            self.out_of_time = True
            filename, line = _template_frame(exc.__cause__ or exc)
            message = M.TEMPLATE_TOO_SLOW(page=job.path, seconds=PAGE_SECONDS)
            self._report(filename or template, line, message)
            return
        except jinja2.TemplateSyntaxError as exc:
            self._report(
                exc.filename or template, exc.lineno, M.TEMPLATE_SYNTAX(problem=exc.message)
            )
            return
        except jinja2.TemplateNotFound as exc:
            self._report(
                template,
                0,
                M.TEMPLATE_NOT_FOUND(name=exc.name),
            )
            return
        except Exception as exc:  # a template's bug, reported where it is
            filename, line = _template_frame(exc)
            self._report(filename or template, line, M.TEMPLATE_ERROR(problem=_describe(exc)))
            return
        self.pages[job.path] = text.encode("utf-8")

    def _report(self, filename: str, line: int, message: str) -> None:
        key = (filename, line, message)
        self.problems.setdefault(key, error(filename, line, message))

    def body(self, path: str) -> Markup:
        return Markup(self.bodies.get(path, ""))  # already rendered and sanitised

    def jobs(self) -> Iterator[PageJob]:
        t = self.timeline
        yield from self.jobs_of(("home",))
        for year in t.years:
            yield from self.jobs_of(("years", str(year)))
        for event in t.events:
            yield from self.jobs_of(("events", event.slug))
        for name in TAXONOMIES:
            yield from self.jobs_of(("terms", name))
            for slug in t.taxonomy(name):
                yield from self.jobs_of((name, slug))
        yield from self.jobs_of(("network",))
        yield from self.jobs_of(("404",))

    def jobs_of(self, subject: tuple[str, ...]) -> list[PageJob]:
        """The pages that show ``subject``, e.g. ("years", "2023") or ("tags", slug); none
        if the timeline does not hold it."""
        t = self.timeline
        kind, key = subject[0], subject[-1]
        if kind == "home":
            return [PageJob("index.html", "index.html", subject, self.home)]
        if kind == "years" and int(key) in t.years:
            years, i = self.years, self.years.index(int(key))
            return [
                PageJob(
                    pager.path,
                    "year.html",
                    subject,
                    partial(self.year, years, i, events, pager),
                    pager.number,
                )
                for events, pager in self._pages(t.years[years[i]], f"years/{year_slug(years[i])}/")
            ]
        if kind == "events" and key in t.by_slug:
            event = t.by_slug[key]
            return [
                PageJob(
                    f"events/{key}/index.html", "event.html", subject, partial(self.event, event)
                )
            ]
        if kind == "terms":
            terms = list(t.taxonomy(key).values())
            return [
                PageJob(
                    f"{key}/index.html",
                    "terms.html",
                    subject,
                    partial(dict, taxonomy=key, terms=terms),
                )
            ]
        if kind in TAXONOMIES and key in t.taxonomy(kind):
            term = t.taxonomy(kind)[key]
            template = "actor.html" if kind == "actors" else "term.html"
            return [
                PageJob(
                    pager.path,
                    template,
                    subject,
                    partial(self.term, term, events, pager),
                    pager.number,
                )
                for events, pager in self._pages(term.events, term.url)
            ]
        if kind == "network":
            return [
                PageJob(
                    "network/index.html",
                    "network.html",
                    subject,
                    lambda: dict(network=build_network(t)),
                )
            ]
        if kind == "404":
            root = site_root_path(self.config.base_url)
            return [PageJob("404.html", "404.html", subject, partial(dict, root=root))]
        return []

    def _pages(self, events: Sequence[Event], base: str) -> list[tuple[Sequence[Event], Pager]]:
        chunks = paginate(events, self.config.page_size)
        return [(chunk, Pager(base, n, len(chunks))) for n, chunk in enumerate(chunks, 1)]

    @cached_property
    def years(self) -> list[int]:
        """The years with events: a year's pages link to the years before and after."""
        return list(self.timeline.years)

    def home(self) -> dict[str, Any]:
        t = self.timeline
        overview = len(t.events) > self.config.home_limit
        shown = home_events(t, self.config)
        return dict(
            overview=overview,
            groups=group_by_month(shown),
            years=[(y, year_label(y), year_slug(y), len(e)) for y, e in t.years.items()],
            filters=self.filters(shown),
            complete=not overview,
        )

    def year(
        self, years: Sequence[int], i: int, events: Sequence[Event], pager: Pager
    ) -> dict[str, Any]:
        year = years[i]
        return dict(
            year=year,
            label=year_label(year),
            groups=group_by_month(events),
            previous_year=years[i - 1] if i else None,
            next_year=years[i + 1] if i + 1 < len(years) else None,
            filters=self.filters(events),
            complete=pager.count == 1,
            pager=pager,
            total=len(self.timeline.years[year]),
        )

    def event(self, event: Event) -> dict[str, Any]:
        return dict(event=event, links=self.timeline.links[event.slug], body=self.body(event.path))

    def term(self, term: Term, events: Sequence[Event], pager: Pager) -> dict[str, Any]:
        profile = term.profile
        actors = term.taxonomy == "actors"
        return dict(
            taxonomy=term.taxonomy,
            term=term,
            groups=group_by_month(events),
            pager=pager,
            co_actors=self.timeline.co_actors.get(term.slug, ()) if actors else (),
            body=self.body(profile.path) if profile else Markup(""),
        )

    def filters(self, events: Sequence[Event]) -> dict[str, list[tuple[Term, int]]]:
        """The most named actors, tags and places among ``events``, for the filter bar."""
        result = {}
        for name in TAXONOMIES:
            counts: dict[str, int] = {}
            for event in events:
                for term in getattr(self.timeline.links[event.slug], name):
                    counts[term.slug] = counts.get(term.slug, 0) + 1
            ranked = sorted(counts, key=lambda s: (-counts[s], s))[:FILTER_CHOICES]
            terms = self.timeline.taxonomy(name)
            result[name] = [(terms[s], counts[s]) for s in ranked]
        return result


def home_events(timeline: Timeline, config: Config) -> Sequence[Event]:
    """The events the home page lists: all of them, or the latest on a large site."""
    if len(timeline.events) > config.home_limit:
        return timeline.events[-RECENT_ON_OVERVIEW:]
    return timeline.events


def render_site(
    config: Config,
    sources: Sources,
    timeline: Timeline,
    bodies: Mapping[str, str],
    sink: PageSink,
    workers: int = 1,
    reuse: PageReuse | None = None,
    keys: Mapping[str, str] | None = None,
    cards: dict[str, dict[tuple[str, int], Markup]] | None = None,
) -> tuple[BuiltPages, list[Diagnostic]]:
    """Every page of the site and its static files, handed to ``sink`` by the process
    that made them, with the template errors found. With ``reuse``, the pages whose
    fingerprint is that of the previous build are kept from ``sink``'s previous output,
    and every page's fingerprint is put in ``reuse.fresh``; ``keys`` are the content
    files' keys (``build.entry_keys``), which the fingerprints hash for the entries read
    from them. The cards rendered go into ``cards`` if it is given (for the dev server's
    later builds)."""
    renderer = SiteRenderer(config, sources, timeline, bodies)
    renderer.made = [] if cards is not None else None
    jobs = list(renderer.jobs())
    static: dict[str, bytes] = {}
    for path, data in static_files(sources):
        static.setdefault(path, data)
    # A link to a page that fails to render is not reported: that failure is.
    expected = {job.path for job in jobs} | static.keys()
    pages = BuiltPages(sink, LinkCheck(expected, site_root_path(config.base_url)))
    keeper = None
    if reuse is not None:
        site = site_fingerprint(config, sources, timeline)
        if site is not None:
            fingerprints = Fingerprints(site, timeline, keys or {})
            fingerprints.hash_events(timeline.events)
            keeper = (fingerprints, reuse.usable(expected))
    kinds = [job.subject[0] for job in jobs]
    if keeper is None or not keeper[1]:  # every page is rendered: so is every card
        _cards_ahead(renderer, kinds, workers)
    problems: dict[tuple[str, int, str], Diagnostic] = {}
    sink.prepare()  # the workers write into it
    for batch, found, fresh, made in map_chunks(
        _render_chunk,
        (renderer, jobs, pages, keeper),
        range(len(jobs)),
        workers,
        partial(_plan, kinds),
    ):
        # The workers have the cards made ahead (see _cards_ahead) by now, and this
        # process renders no page: let them go (120 MB at 100,000 events).
        renderer.level_free.clear()
        pages.merge(batch)
        problems |= found
        if reuse is not None:
            reuse.fresh |= fresh
        if cards is not None:
            for slug, key, card in made:
                cards.setdefault(slug, {})[key] = card
    pages.order(job.path for job in jobs)
    if reuse is not None:
        reuse.expected = frozenset(expected)
    hidden = [path for path in sources.site_static if path in pages]
    for path, data in static.items():
        if path not in pages:
            pages.add(path, data)
    return pages, [*problems.values(), *hidden_static(config, hidden)]


def hidden_static(config: Config, paths: Iterable[str]) -> list[Diagnostic]:
    """Warnings for the site's static files at ``paths``, where the build makes a file of
    its own (a page, an export, the search index): theirs is not copied."""
    return [warning(f"{config.static_dir}/{path}", 0, M.STATIC_HIDDEN(path=path)) for path in paths]


Keeper = tuple[Fingerprints, Mapping[str, tuple[str, Notes]]]  # and the pages to keep


def _plan(kinds: Sequence[str], indices: Sequence[int], workers: int) -> list[Sequence[int]]:
    """Chunks of the jobs (``kinds[i]`` is the kind of subject of job ``i``) for the
    workers. The pages of one kind of list (years, actors, tags, places) show every event's
    card with the same heading, and each worker renders a card once per heading: so each
    kind's pages go in one chunk, the largest first, for the workers to start with, and
    the many small pages (one an event) follow in small chunks that even out the load. In
    even chunks, the list pages all fell in the last one, which one worker rendered while
    the other had finished."""
    lists: dict[str, list[int]] = {}
    others: list[int] = []
    for i in indices:
        kind = kinds[i]
        if _is_list(kind):
            lists.setdefault(kind, []).append(i)
        else:
            others.append(i)
    return [*sorted(lists.values(), key=len, reverse=True), *even_chunks(others, workers)]


def _is_list(kind: str) -> bool:
    """Whether pages of this kind of subject list events as cards (years, actors, tags,
    places)."""
    return kind == "years" or kind in TAXONOMIES


def _cards_ahead(renderer: SiteRenderer, kinds: Sequence[str], workers: int) -> None:
    """Make every event's card before the pages, on every core, when the pages' workers
    would each make them all: the list pages show every event's card, and each worker
    rendering a kind of list made each card once more (a tenth of the CPU time of the
    pages at 10,000 events, on two workers). Only for a card template that prints its root
    and heading as they are (see ``card_slots``): its one copy serves every page."""
    if workers <= 1 or set(renderer.card_slots) != {"root", "heading"}:
        return
    if not any(_is_list(kind) for kind in kinds):
        return
    events = renderer.timeline.events
    for made in map_chunks(_card_chunk, renderer, range(len(events)), workers):
        if made is None:
            break  # leaving the loop stops the workers still making cards
        for slug, card in made:
            if renderer.level_free.setdefault(slug, {}).setdefault((), card) is card:
                renderer.card_chars += len(card)


def _card_chunk(renderer: SiteRenderer, indices: Sequence[int]) -> list[tuple[str, str]] | None:
    """The cards of the events at ``indices``; None as soon as one fails or is slow: no
    more cards are made ahead, and the pages that show it report it."""
    events = renderer.timeline.events
    made = []
    for i in indices:
        card = renderer.card_ahead(events[i])
        if card is None:
            return None
        made.append((events[i].slug, card))
    return made


def _render_chunk(
    state: tuple[SiteRenderer, list[PageJob], BuiltPages, Keeper | None], indices: Sequence[int]
) -> tuple[Batch, dict[tuple[str, int, str], Diagnostic], dict[str, tuple[str, Notes]], list[Card]]:
    renderer, jobs, pages, keeper = state
    part = pages.fresh()
    renderer.pages, renderer.problems = {}, {}
    made = renderer.made = [] if renderer.made is not None else None
    fresh: dict[str, tuple[str, Notes]] = {}
    for i in indices:
        job = jobs[i]
        context = renderer.context(job)
        fingerprint = keeper[0].page(job.path, job.template, context) if keeper else None
        old = keeper[1].get(job.path) if keeper else None
        if fingerprint is not None and old is not None and old[0] == fingerprint:
            part.keep(job.path, places_of(job.path, old[1]))
            fresh[job.path] = old
            continue
        renderer.render(job, context)
        data = renderer.pages.pop(job.path, None)  # written now, not held for the chunk
        if data is not None:
            places = part.add(job.path, data)
            if fingerprint is not None:
                fresh[job.path] = (fingerprint, notes_of(places))
        if renderer.card_chars > MAX_CARD_CHARS:
            renderer.cards.clear()
            renderer.level_free.clear()
            renderer.card_chars = 0
    return part.batch(), renderer.problems, fresh, made or []


# Blocks whose output the template can change or reuse before it reaches the page.
_CAPTURING = (nodes.FilterBlock, nodes.AssignBlock, nodes.Macro, nodes.CallBlock, nodes.Block)


def only_printed(tree: nodes.Template, name: str, via: tuple[str, ...] = ()) -> bool:
    """Whether the template ``tree`` uses the variable ``name`` only to print it, as it
    is or with a constant default (``{{ name }}``, ``{{ name | default(4) }}``), and
    includes, imports and extends no other template (which would see it too). ``via``
    names functions that read ``name`` from the context (``url`` reads ``root``): a call
    of one counts as a use, and as printed only when what it returns is printed as it is.
    A use inside a block whose output can be filtered, captured or called (``filter``,
    ``set`` blocks, macros, ``call``, ``block``) is never only printed."""
    if any(tree.find_all((nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport))):
        return False
    watched = {name, *via}
    if any(
        node.name in watched
        for block in tree.find_all(_CAPTURING)
        for node in block.find_all(nodes.Name)
    ):
        return False
    printed: set[int] = set()
    for output in tree.find_all(nodes.Output):
        for shown in output.nodes:
            shown = _without_constant_default(shown)
            if isinstance(shown, nodes.Call) and isinstance(shown.node, nodes.Name):
                shown = shown.node if shown.node.name in via else shown
            if isinstance(shown, nodes.Name) and shown.name in watched:
                printed.add(id(shown))
    return all(id(node) in printed for node in tree.find_all(nodes.Name) if node.name in watched)


def _without_constant_default(node: nodes.Expr) -> nodes.Expr:
    """``x`` for ``x | default(constant)``, else ``node`` itself."""
    if (
        isinstance(node, nodes.Filter)
        and node.name == "default"
        and all(isinstance(arg, nodes.Const) for arg in node.args)
        and not node.kwargs
        and node.dyn_args is None
        and node.dyn_kwargs is None
        and node.node is not None
    ):
        return node.node
    return node


def static_files(sources: Sources) -> Iterator[tuple[str, bytes]]:
    """The site's static/ at the output root, then each theme's static/ under static/;
    a file earlier in the theme chain wins over the same file later."""
    yield from sources.site_static.items()
    for theme in sources.themes:
        for name, data in theme.static.items():
            yield f"static/{name}", data


def site_root_path(base_url: str) -> str:
    """404.html is served at any depth, so it links from the site's root path."""
    path = urlsplit(base_url).path if base_url else "/"
    return posixpath.join(path or "/", "")


def _template_frame(exc: BaseException) -> tuple[str, int]:
    """The innermost template file and line in a traceback: one Jinja rewrote (its
    frames are the templates'), or one it left alone (the compiled code's frames, whose
    lines Jinja maps to the template's, as its rewriting does)."""
    found = ("", 0)
    for frame, line in traceback.walk_tb(exc.__traceback__):
        filename = frame.f_code.co_filename
        compiled = frame.f_globals.get("__jinja_template__")
        if isinstance(compiled, jinja2.Template) and compiled.filename:
            found = (compiled.filename, compiled.get_corresponding_lineno(line))
        elif filename.endswith((".html", ".xml", ".txt", ".json", ".j2")):
            found = (filename, line)
    return found


def _describe(exc: BaseException) -> str:
    if isinstance(exc, jinja2.UndefinedError):
        return f"{exc.message}; check the variable's name"
    return f"{type(exc).__name__}: {exc}"
