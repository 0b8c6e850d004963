"""Link events and actors: resolve names to actors, build the tag and place taxonomies,
order events in time and find each event's neighbours and related events."""

from __future__ import annotations

import bisect
import difflib
import heapq
import itertools
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
    entries may still differ in fields that do not take part in ``==``), so a reused
    result is always the one ``link()`` would compute: the memo changes speed, never output.

    Terms and event links equal to the previous ones are given back as the previous
    objects, so what did not change is the very same object from one build to the next
    and the dev server finds what to render again by identity.
    """

    def __init__(self) -> None:
        self.related: dict[str, _Memo[tuple[tuple[Event, int], ...]]] = {}
        self.co_actors: dict[str, _Memo[Counter[str]]] = {}
        self.terms: dict[tuple[str, str], Term] = {}
        self.links: dict[str, EventLinks] = {}

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
    inputs: tuple[object, ...]
    result: T


def _remembered(
    memo: Mapping[str, _Memo[T]], name: str, inputs: Sequence[Sequence[object]]
) -> tuple[tuple[object, ...], _Memo[T] | None]:
    """``inputs`` in one tuple, and the memo of ``name`` if it had the very same ones."""
    flat = tuple(itertools.chain.from_iterable(inputs))
    previous = memo.get(name)
    if previous is None or len(previous.inputs) != len(flat):
        return flat, None
    return flat, previous if all(map(operator.is_, previous.inputs, flat)) else None


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
    members = {s: [order[e.slug] for e in t.events] for s, t in actors.items()}
    starts = [e.start for e in ordered]
    kept: dict[str, _Memo[tuple[tuple[Event, int], ...]]] = {}
    result = []
    for i, event in enumerate(ordered):
        windows: list[list[int]] = []  # the indices of each actor's events near this one
        inputs: list[Sequence[Event]] = [(event,)]  # and the events themselves
        for slug in refs[event.slug]:
            indices = members[slug]
            at = bisect.bisect_left(indices, i)
            lo, hi = max(0, at - RELATED_WINDOW), at + RELATED_WINDOW + 1
            windows.append(indices[lo:hi])
            inputs.append(actors[slug].events[lo:hi])
        # The result depends only on the event and the events in its windows.
        flat, previous = _remembered(memo.related, event.slug, inputs)
        if previous is not None:
            related = previous.result
        else:
            shared: Counter[int] = Counter()
            for window in windows:
                shared.update(window)
            del shared[i]
            start = starts[i]
            ranked = heapq.nsmallest(
                RELATED_LIMIT, [(-n, abs(starts[j] - start), j) for j, n in shared.items()]
            )
            related = tuple((ordered[j], -n) for n, _, j in ranked)
        kept[event.slug] = _Memo(flat, related)
        result.append(related)
    memo.related = kept
    return result


def _co_actors(
    actors: Mapping[str, Term],
    refs: Mapping[str, tuple[str, ...]],
    profiles: Sequence[Actor],
    memo: LinkMemo,
) -> dict[str, tuple[tuple[Term, int], ...]]:
    # How often an actor meets each other depends on its events and on how their names
    # resolve to actors (the actor files): the memo's key. Ties go by name, and a name can
    # change elsewhere (the first spelling of an actor without a file), so ranking is redone.
    kept: dict[str, _Memo[Counter[str]]] = {}
    result = {}
    for slug, term in actors.items():
        inputs = (term.events, profiles)
        flat, known = _remembered(memo.co_actors, slug, inputs)
        if known is not None:
            counts = known.result
        else:
            counts = Counter()
            for event in term.events:
                counts.update(s for s in refs[event.slug] if s != slug)
        kept[slug] = _Memo(flat, counts)
        ranked = heapq.nsmallest(
            CO_ACTOR_LIMIT, counts, key=lambda s: (-counts[s], actors[s].name.casefold(), s)
        )
        result[slug] = tuple((actors[s], counts[s]) for s in ranked)
    memo.co_actors = kept
    return result


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
