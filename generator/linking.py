"""Link events and actors: resolve names to actors, build the tag and place taxonomies,
order events in time and find each event's neighbours and related events."""

from __future__ import annotations

import bisect
import difflib
import heapq
import operator
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Generic, TypeVar

from generator import messages as M
from generator.diagnostics import Diagnostic, Severity, error
from generator.model import Actor, Event, EventLinks, Term, Timeline
from generator.slugs import slugify

RELATED_LIMIT = 5
CO_ACTOR_LIMIT = 10
# Related events come from each shared actor's events nearest in time, so an actor that
# appears in thousands of events costs a bounded amount per event, not all of them.
RELATED_WINDOW = 30


class LinkMemo:
    """Results of a previous ``link()`` that the next one may reuse, for the dev server.

    Related events and co-actors are most of linking's time. Each is kept with exactly
    what it was computed from (the very same objects, compared by identity, since equal
    entries may still differ in fields that do not take part in ``==``): an event and its
    actors' terms, an actor's term and the actor files. A reused result is always the one
    ``link()`` would compute: the memo changes speed, never output.

    Terms and event links equal to the previous ones are given back as the previous
    objects, so what did not change is the very same object from one build to the next
    and the dev server finds what to render again by identity.
    """

    def __init__(self) -> None:
        self.related: dict[str, _Memo[tuple[tuple[Event, int], ...]]] = {}
        self.co_actors: dict[str, _Memo[tuple[Counter[str], list[str]]]] = {}
        self.terms: dict[tuple[str, str], Term] = {}
        self.links: dict[str, EventLinks] = {}
        self.profiles: tuple[Actor, ...] = ()
        self.actor_names: list[tuple[str, str]] = []

    def term(self, new: Term) -> Term:
        old = self.terms.get((new.taxonomy, new.slug))
        if (
            old is not None
            and old.name == new.name
            and old.profile is new.profile
            and same_items(old.events, new.events)
        ):
            return old
        return new

    def event_links(self, slug: str, new: EventLinks) -> EventLinks:
        old = self.links.get(slug)
        if (
            old is not None
            and old.previous is new.previous
            and old.next is new.next
            and all(
                same_items(getattr(old, name), getattr(new, name))
                for name in ("actors", "tags", "places", "related")
            )
        ):
            return old
        return new


def same_items(a: Sequence[object], b: Sequence[object]) -> bool:
    """Whether ``a`` and ``b`` hold the very same objects in the same order."""
    return len(a) == len(b) and all(map(operator.is_, a, b))


T = TypeVar("T")


@dataclass(frozen=True)
class _Memo(Generic[T]):
    inputs: tuple[object, ...]  # what ``result`` was computed from, kept to compare
    result: T


def link(
    events: Iterable[Event], actors: Iterable[Actor], memo: LinkMemo | None = None
) -> tuple[Timeline, list[Diagnostic]]:
    memo = memo or LinkMemo()
    ordered = tuple(sorted(events, key=lambda e: e.sort_key))
    problems = _duplicate_slugs(ordered, "event")
    profiles = tuple(actors)
    problems += _duplicate_slugs(profiles, "actor")
    index, index_problems = _actor_index(profiles)
    problems += index_problems

    actor_refs: dict[str, tuple[str, ...]] = {}
    unknown: dict[str, Event] = {}
    for event in ordered:
        slugs = []
        for name in event.actors:
            slug = index.get(name.casefold()) or index.get(slugify(name))
            if slug is None:
                slug = slugify(name)
                unknown.setdefault(slug, event)
                index[name.casefold()] = slug
            if slug not in slugs:
                slugs.append(slug)
        actor_refs[event.slug] = tuple(slugs)
    problems += _unknown_actor_notes(unknown, ordered, profiles, actor_refs)

    names = {a.slug: a.name for a in profiles}
    by_slug = {a.slug: a for a in profiles}
    actor_terms = _terms(memo, "actors", ordered, actor_refs, names, by_slug)
    tag_refs, tag_names = _refs(ordered, "tags")
    place_refs, place_names = _refs(ordered, "places")
    tag_terms = _terms(memo, "tags", ordered, tag_refs, tag_names)
    place_terms = _terms(memo, "places", ordered, place_refs, place_names)
    memo.terms = {
        (t.taxonomy, t.slug): t
        for terms in (actor_terms, tag_terms, place_terms)
        for t in terms.values()
    }

    related = _all_related(ordered, actor_refs, actor_terms, memo)
    links: dict[str, EventLinks] = {}
    for i, event in enumerate(ordered):
        links[event.slug] = memo.event_links(
            event.slug,
            EventLinks(
                actors=tuple(actor_terms[s] for s in actor_refs[event.slug]),
                tags=tuple(tag_terms[s] for s in tag_refs[event.slug]),
                places=tuple(place_terms[s] for s in place_refs[event.slug]),
                previous=ordered[i - 1] if i > 0 else None,
                next=ordered[i + 1] if i + 1 < len(ordered) else None,
                related=related[i],
            ),
        )
    memo.links = links
    years: dict[int, list[Event]] = defaultdict(list)
    for event in ordered:
        years[event.year].append(event)
    timeline = Timeline(
        events=ordered,
        actors=MappingProxyType(actor_terms),
        tags=MappingProxyType(tag_terms),
        places=MappingProxyType(place_terms),
        links=MappingProxyType(links),
        co_actors=MappingProxyType(_co_actors(actor_terms, actor_refs, profiles, memo)),
        years=MappingProxyType({y: tuple(years[y]) for y in sorted(years)}),
    )
    return timeline, problems


def _actor_index(actors: Sequence[Actor]) -> tuple[dict[str, str], list[Diagnostic]]:
    """Lookup from casefolded name, alias or slug to actor slug; a name claimed by two
    actors is an error, since events naming it would be linked at random."""
    index: dict[str, str] = {}
    owner: dict[str, Actor] = {}
    problems = []
    for actor in sorted(actors, key=lambda a: a.path):
        for name in (actor.slug, actor.name, *actor.aliases):
            key = name.casefold()
            other = owner.get(key)
            if other is not None and other.slug != actor.slug:
                line = actor.lines.get("aliases", actor.lines.get("name", 1))
                problems.append(
                    error(
                        actor.path,
                        line,
                        M.ALIAS_TAKEN(name=name, other=other.path),
                    )
                )
                continue
            index[key] = actor.slug
            owner[key] = actor
    return index, problems


def _unknown_actor_notes(
    unknown: Mapping[str, Event],
    events: Sequence[Event],
    actors: Sequence[Actor],
    refs: Mapping[str, tuple[str, ...]],
) -> list[Diagnostic]:
    """Reported by `timeline check --strict` only: such actors still get a page."""
    known = [n for a in actors for n in (a.name, *a.aliases)]
    notes = []
    for slug, event in sorted(unknown.items()):
        name = next(n for n in event.actors if slugify(n) == slug)
        count = sum(slug in refs[e.slug] for e in events)
        hint = difflib.get_close_matches(name, known, n=1, cutoff=0.8)
        fix = f"did you mean '{hint[0]}'?" if hint else f"add content/actors/{slug}.md"
        line = event.lines.get("actors", 1)
        notes.append(
            Diagnostic(
                event.path,
                line,
                M.ACTOR_NO_FILE(name=name, count=count, fix=fix),
                Severity.LINT,
            )
        )
    return notes


def _refs(events: Sequence[Event], field: str) -> tuple[dict[str, tuple[str, ...]], dict[str, str]]:
    """Slugs named by each event in a plain taxonomy, and the first spelling of each."""
    refs: dict[str, tuple[str, ...]] = {}
    names: dict[str, str] = {}
    for event in events:
        slugs: list[str] = []
        for name in getattr(event, field):
            slug = slugify(name)
            names.setdefault(slug, name)
            if slug not in slugs:
                slugs.append(slug)
        refs[event.slug] = tuple(slugs)
    return refs, names


def _terms(
    memo: LinkMemo,
    taxonomy: str,
    events: Sequence[Event],
    refs: Mapping[str, tuple[str, ...]],
    names: Mapping[str, str],
    profiles: Mapping[str, Actor] | None = None,
) -> dict[str, Term]:
    members: dict[str, list[Event]] = defaultdict(list)
    for event in events:
        for slug in refs[event.slug]:
            members[slug].append(event)
    first_names: dict[str, str] = dict(names)
    for event in events:  # actors without a file take the first spelling used
        spellings: tuple[str, ...] = getattr(event, taxonomy)
        for name in spellings:
            first_names.setdefault(slugify(name), name)
    profiles = profiles or {}

    def name_of(slug: str) -> str:
        return first_names.get(slug) or slug

    slugs = sorted(set(members) | set(profiles), key=lambda s: (name_of(s).casefold(), s))
    return {
        slug: memo.term(
            Term(taxonomy, slug, name_of(slug), tuple(members[slug]), profiles.get(slug))
        )
        for slug in slugs
    }


def _all_related(
    ordered: Sequence[Event],
    refs: Mapping[str, tuple[str, ...]],
    actors: Mapping[str, Term],
    memo: LinkMemo,
) -> list[tuple[tuple[Event, int], ...]]:
    """Each event's related events, by its index in ``ordered``: the events of its actors'
    windows sharing the most actors with it, then the nearest in time, then in time order.
    Events are handled as indices into ``ordered`` (whose order stands for the full sort
    key, slow to compare 10**6 times), each actor's events as a sorted list of indices."""
    order = {e.slug: i for i, e in enumerate(ordered)}
    members: dict[str, list[int]] = {}  # made when first needed: most results are reused
    kept: dict[str, _Memo[tuple[tuple[Event, int], ...]]] = {}
    result = []
    for i, event in enumerate(ordered):
        # The very same event and actor terms (the same events in the same order) give
        # the same windows, so the same related events.
        inputs = (event, *(actors[s] for s in refs[event.slug]))
        previous = memo.related.get(event.slug)
        if previous is not None and same_items(previous.inputs, inputs):
            related = previous.result
        else:
            shared: Counter[int] = Counter()
            for slug in refs[event.slug]:
                if slug not in members:
                    members[slug] = [order[e.slug] for e in actors[slug].events]
                indices = members[slug]
                at = bisect.bisect_left(indices, i)
                shared.update(indices[max(0, at - RELATED_WINDOW) : at + RELATED_WINDOW + 1])
            del shared[i]
            start = event.start
            ranked = heapq.nsmallest(
                RELATED_LIMIT,
                [(-n, abs(ordered[j].start - start), j) for j, n in shared.items()],
            )
            related = tuple((ordered[j], -n) for n, _, j in ranked)
        kept[event.slug] = _Memo(inputs, related)
        result.append(related)
    memo.related = kept
    return result


def _co_actors(
    actors: Mapping[str, Term],
    refs: Mapping[str, tuple[str, ...]],
    profiles: tuple[Actor, ...],
    memo: LinkMemo,
) -> dict[str, tuple[tuple[Term, int], ...]]:
    # How often an actor meets each other depends on its events and on how their names
    # resolve to actors (the actor files); the ranking also on the actors' names (ties).
    same_files = same_items(memo.profiles, profiles)
    names = [(slug, term.name) for slug, term in actors.items()]
    same_names = same_files and names == memo.actor_names
    kept: dict[str, _Memo[tuple[Counter[str], list[str]]]] = {}
    result = {}
    for slug, term in actors.items():
        previous = memo.co_actors.get(slug)
        if same_files and previous is not None and previous.inputs[0] is term:
            counts, ranked = previous.result
            if not same_names:
                ranked = _rank_co_actors(counts, actors)
        else:
            counts = Counter()
            for event in term.events:
                counts.update(s for s in refs[event.slug] if s != slug)
            ranked = _rank_co_actors(counts, actors)
        kept[slug] = _Memo((term,), (counts, ranked))
        result[slug] = tuple((actors[s], counts[s]) for s in ranked)
    memo.co_actors = kept
    memo.profiles = profiles
    memo.actor_names = names
    return result


def _rank_co_actors(counts: Counter[str], actors: Mapping[str, Term]) -> list[str]:
    """Most shared events first, then by name."""
    return heapq.nsmallest(
        CO_ACTOR_LIMIT, counts, key=lambda s: (-counts[s], actors[s].name.casefold(), s)
    )


def _duplicate_slugs(items: Sequence[Event | Actor], kind: str) -> list[Diagnostic]:
    seen: dict[str, str] = {}
    problems = []
    for item in sorted(items, key=lambda i: i.path):
        if item.slug in seen:
            line = item.lines.get("slug", 1)
            problems.append(
                error(
                    item.path,
                    line,
                    M.SLUG_TAKEN(kind=kind, slug=item.slug, other=seen[item.slug]),
                )
            )
        else:
            seen[item.slug] = item.path
    return problems
