"""Link events and actors: resolve names to actors, build the tag and place taxonomies,
order events in time and find each event's neighbours and related events."""

from __future__ import annotations

import difflib
import heapq
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType

from generator import messages as M
from generator.diagnostics import Diagnostic, Severity, error
from generator.model import Actor, Event, EventLinks, Term, Timeline
from generator.slugs import slugify

RELATED_LIMIT = 5
CO_ACTOR_LIMIT = 10
# Related events come from each shared actor's events nearest in time, so an actor that
# appears in thousands of events costs a bounded amount per event, not all of them.
RELATED_WINDOW = 30


def link(events: Iterable[Event], actors: Iterable[Actor]) -> tuple[Timeline, list[Diagnostic]]:
    ordered = tuple(sorted(events, key=lambda e: e.sort_key))
    problems = _duplicate_slugs(ordered, "event")
    profiles = list(actors)
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
    actor_terms = _terms("actors", ordered, actor_refs, names, by_slug)
    tag_terms = _terms("tags", ordered, *_refs(ordered, "tags"))
    place_terms = _terms("places", ordered, *_refs(ordered, "places"))
    tag_refs = _refs(ordered, "tags")[0]
    place_refs = _refs(ordered, "places")[0]

    positions = {
        slug: {e.slug: i for i, e in enumerate(term.events)} for slug, term in actor_terms.items()
    }
    order = {e.slug: i for i, e in enumerate(ordered)}
    links: dict[str, EventLinks] = {}
    for i, event in enumerate(ordered):
        links[event.slug] = EventLinks(
            actors=tuple(actor_terms[s] for s in actor_refs[event.slug]),
            tags=tuple(tag_terms[s] for s in tag_refs[event.slug]),
            places=tuple(place_terms[s] for s in place_refs[event.slug]),
            previous=ordered[i - 1] if i > 0 else None,
            next=ordered[i + 1] if i + 1 < len(ordered) else None,
            related=_related(event, actor_refs, actor_terms, positions, order),
        )
    years: dict[int, list[Event]] = defaultdict(list)
    for event in ordered:
        years[event.year].append(event)
    timeline = Timeline(
        events=ordered,
        actors=MappingProxyType(actor_terms),
        tags=MappingProxyType(tag_terms),
        places=MappingProxyType(place_terms),
        links=MappingProxyType(links),
        co_actors=MappingProxyType(_co_actors(actor_terms, actor_refs)),
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
        slug: Term(taxonomy, slug, name_of(slug), tuple(members[slug]), profiles.get(slug))
        for slug in slugs
    }


def _related(
    event: Event,
    refs: Mapping[str, tuple[str, ...]],
    actors: Mapping[str, Term],
    positions: Mapping[str, Mapping[str, int]],
    order: Mapping[str, int],
) -> tuple[tuple[Event, int], ...]:
    shared: Counter[str] = Counter()
    found: dict[str, Event] = {}
    for slug in refs[event.slug]:
        members = actors[slug].events
        at = positions[slug][event.slug]
        for other in members[max(0, at - RELATED_WINDOW) : at + RELATED_WINDOW + 1]:
            if other.slug != event.slug:
                shared[other.slug] += 1
                found[other.slug] = other
    # Most shared actors first, then nearest in time, then time order: (the index in the
    # sorted events stands for the full sort key, which is slow to build 10**6 times).
    ranked = heapq.nsmallest(
        RELATED_LIMIT,
        ((-n, abs(found[s].start - event.start), order[s], s) for s, n in shared.items()),
    )
    return tuple((found[s], -n) for n, _, _, s in ranked)


def _co_actors(
    actors: Mapping[str, Term], refs: Mapping[str, tuple[str, ...]]
) -> dict[str, tuple[tuple[Term, int], ...]]:
    result = {}
    for slug, term in actors.items():
        counts: Counter[str] = Counter()
        for event in term.events:
            counts.update(s for s in refs[event.slug] if s != slug)
        ranked = sorted(counts, key=lambda s: (-counts[s], actors[s].name.casefold(), s))
        result[slug] = tuple((actors[s], counts[s]) for s in ranked[:CO_ACTOR_LIMIT])
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
