"""Link events and actors: resolve names to actors, build the tag and place taxonomies,
order events in time and find each event's neighbours and related events.

Linking keeps what it computed in a ``LinkMemo`` and the next ``link()`` with the same
memo starts from there: it finds the events that are new or gone (by identity, since
equal events may still differ in fields outside ``==``) and updates only what they touch.
A build links once into an empty memo, which is the same work; the dev server keeps its
memo, so a save costs about as much as the edited events' actors, tags and places, not as
much as the whole timeline. A changed actor file starts from an empty memo, since every
name may resolve differently. tests/test_linking.py checks that the result never depends
on the memo.
"""

from __future__ import annotations

import bisect
import difflib
import heapq
import operator
from array import array
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar

from immutables import Map

from generator import messages as M
from generator.diagnostics import Diagnostic, Severity, error
from generator.model import Actor, Event, EventLinks, Term, Timeline
from generator.slugs import slugify

if TYPE_CHECKING:
    from immutables._protocols import MapMutation

RELATED_LIMIT = 5
CO_ACTOR_LIMIT = 10
# Related events come from each shared actor's events nearest in time, so an actor that
# appears in thousands of events costs a bounded amount per event, not all of them.
RELATED_WINDOW = 30
TAXONOMIES = ("actors", "tags", "places")
# Past this share of the events changed, starting from an empty memo is as quick.
FRESH_SHARE = 8

SORT = operator.attrgetter("sort_key")
SLUG = operator.attrgetter("slug")
Key = TypeVar("Key")  # an event as ranked: its id, or its place in time order


def same_items(a: Sequence[object], b: Sequence[object]) -> bool:
    """Whether ``a`` and ``b`` hold the very same objects in the same order."""
    return len(a) == len(b) and all(map(operator.is_, a, b))


@dataclass
class Changed:
    """What the last ``link()`` changed: slugs of events added or removed (an edited event
    is both), terms made again or dropped as (taxonomy, slug), and years whose events
    changed. ``everything`` when it started from an empty memo (nothing is the previous
    object then)."""

    everything: bool = True
    events: set[str] = field(default_factory=set)
    # Events whose neighbours, related events or term names changed. The other events of
    # the terms made again have new links too, which only point to the new terms.
    shown: set[str] = field(default_factory=set)
    renamed: set[tuple[str, str]] = field(default_factory=set)  # terms with another name
    terms: set[tuple[str, str]] = field(default_factory=set)
    years: set[int] = field(default_factory=set)


class LinkMemo:
    """The state of the last ``link()``, for the next one to start from (see the module's
    docstring). Unchanged terms, event links and co-actor lists are given back as the
    previous objects, so later stages can find what changed by identity."""

    def __init__(self) -> None:
        self.state: _State | None = None
        self.changed = Changed()

    def refresh(self, timeline: Timeline) -> Timeline:
        """``timeline`` (the last ``link(..., defer=True)``'s) with the links it left to
        give their new terms; the same object when none were left."""
        state = self.state
        if state is None or not state.stale:
            return timeline
        state.refresh()
        return state.timeline()


def link(
    events: Iterable[Event],
    actors: Iterable[Actor],
    memo: LinkMemo | None = None,
    changes: tuple[Sequence[Event], Sequence[Event]] | None = None,
    defer: bool = False,
) -> tuple[Timeline, list[Diagnostic]]:
    """``changes``: the events added and removed since the last link with ``memo``, when
    the caller knows them (the dev server), which spares a pass over every event.

    ``defer``: the events that only share a term with the changes keep their last links
    until ``memo.refresh()``, which gives them the new terms. Those hold the same names,
    slugs and profiles (a renamed term's events are linked at once), so pages rendered
    from the timeline before its refresh are the same; at 10,000 events they were three
    quarters of an edit's linking (a tag holds about 500 events)."""
    profiles = tuple(actors)
    memo = memo if memo is not None else LinkMemo()
    state = memo.state
    if state is not None and changes is not None and same_items(state.profiles, profiles):
        added, removed = changes
        if state.fits(added, removed):
            memo.changed = state.apply(list(added), list(removed), defer)
            return state.timeline(), [*state.index_problems, *state.unknown_actor_notes()]
    events = tuple(events)
    duplicates = len(set(map(SLUG, events))) < len(events)
    if state is None or duplicates or not same_items(state.profiles, profiles):
        state = _State(profiles)
    added, removed = state.difference(events)
    if state.ids and len(added) + len(removed) > max(64, len(events) // FRESH_SHARE):
        state = _State(profiles)
        added, removed = list(events), []
    memo.changed = state.apply(added, removed, defer)
    # Slugs are the keys of everything the state holds: with two events of one slug it
    # cannot be updated, so the next link starts afresh (and this build fails anyway).
    memo.state = None if duplicates else state
    problems = [*state.index_problems, *state.unknown_actor_notes()]
    if duplicates:
        problems += _duplicate_slugs(events, "event")
    return state.timeline(), problems


@dataclass
class _Update:
    """The events one ``apply()`` adds and removes, each sorted, and what they name."""

    added: list[Event]
    removed: list[Event]
    gone: set[int]  # ids of the removed events
    everything: bool  # linking from an empty memo: every event is added

    @property
    def events(self) -> tuple[Event, ...]:
        return (*self.added, *self.removed)


class _State:
    """Everything linked so far, updated in place by ``apply()``. What a Timeline holds
    is copied before it is changed, so the Timelines already given out never change."""

    def __init__(self, profiles: tuple[Actor, ...]) -> None:
        self.profiles = profiles
        self.files = {a.slug: a for a in profiles}
        self.index, self.index_problems = _actor_index(profiles)
        self.index_problems += _duplicate_slugs(profiles, "actor")
        self.resolved: dict[str, str] = {}  # actor name as written -> slug
        self.hints: dict[str, str] = {}  # unknown actor name -> what to do
        self.ids: dict[int, Event] = {}  # the linked events by id (kept alive here)
        # The same by slug, and each event's links: persistent maps, so that the Timelines
        # already given out keep theirs while an edit changes a few entries, and an edit
        # costs what it changes, not a copy that touches every event.
        self.events: Map[str, Event] = Map()
        self.refs: dict[int, dict[str, tuple[str, ...]]] = {}  # by event id, taxonomy
        self.ordered: list[Event] = []
        self.terms: dict[str, dict[str, Term]] = {name: {} for name in TAXONOMIES}
        self.links: Map[str, EventLinks] = Map()
        self.related: dict[str, tuple[tuple[Event, int], ...]] = {}  # held here alone
        self.counts: dict[str, Counter[str]] = {}  # co-appearances by actor slug
        self.ranked: dict[str, list[str]] = {}
        self.co_actors: dict[str, tuple[tuple[Term, int], ...]] = {}
        self.years: dict[int, tuple[Event, ...]] = {}
        self.stale: dict[str, Event] = {}  # events whose links wait for their new terms

    def fits(self, added: Sequence[Event], removed: Sequence[Event]) -> bool:
        """Whether these few changes keep every slug to one event (else link afresh)."""
        if len(added) + len(removed) > max(64, len(self.ids) // FRESH_SHARE):
            return False
        slugs = {e.slug for e in added}
        freed = {e.slug for e in removed}
        return (
            len(slugs) == len(added)
            and all(id(e) in self.ids for e in removed)
            and not any(id(e) in self.ids for e in added)
            and all(slug in freed or slug not in self.events for slug in slugs)
        )

    def difference(self, events: Sequence[Event]) -> tuple[list[Event], list[Event]]:
        """The events not linked yet, and the linked events no longer there."""
        ids = {id(e): e for e in events}
        added = [ids[i] for i in ids.keys() - self.ids.keys()]
        removed = [self.ids[i] for i in self.ids.keys() - ids.keys()]
        return added, removed

    def timeline(self) -> Timeline:
        return Timeline(
            events=tuple(self.ordered),
            actors=MappingProxyType(self.terms["actors"]),
            tags=MappingProxyType(self.terms["tags"]),
            places=MappingProxyType(self.terms["places"]),
            links=self.links,
            co_actors=MappingProxyType(self.co_actors),
            years=MappingProxyType(self.years),
            by_slug=self.events,
        )

    def apply(self, added: list[Event], removed: list[Event], defer: bool = False) -> Changed:
        """Link the changes; with ``defer``, the events that only share a term with them
        keep their links until ``refresh`` (see ``link``)."""
        self.refresh()  # links left stale by the last apply, before this one moves on
        update = _Update(
            sorted(added, key=SORT),
            sorted(removed, key=SORT),
            set(map(id, removed)),
            everything=not self.ids,
        )
        changed = Changed(
            update.everything,
            events={e.slug for e in update.events},
            years={e.year for e in update.events},
        )
        events = self.events.mutate()
        for event in update.removed:
            del self.ids[id(event)]
            if events.get(event.slug) is event:
                del events[event.slug]
        for event in update.added:
            self.ids[id(event)] = event
            events[event.slug] = event
            self.refs[id(event)] = self._refs(event)
        self.events = events.finish()
        places = {id(e): _position(self.ordered, e) for e in update.removed}
        self._order(update)
        renamed = {name: self._update_terms(name, update, changed) for name in TAXONOMIES}
        if update.everything:
            self._all_related()
        else:
            swaps = self._swaps(update, places)
            near = self._near(update)
            if swaps is None:
                changed.shown = self._update_related(self._events(near))
            else:
                changed.shown = self._swap_related(near, swaps)
        self._update_links(update, changed)
        self._update_co_actors(update, changed, renamed["actors"])
        self._update_years(update)
        for event in update.removed:
            del self.refs[id(event)]
        if not defer:
            self.refresh()
        return changed

    def _refs(self, event: Event) -> dict[str, tuple[str, ...]]:
        return {
            "actors": _unique(map(self._resolve, event.actors)),
            "tags": _unique(map(slugify, event.tags)),
            "places": _unique(map(slugify, event.places)),
        }

    def _resolve(self, name: str) -> str:
        """The slug an actor's name as written stands for: an actor file's slug, name or
        alias (ignoring case), else the name's own slug (an actor without a file)."""
        slug = self.resolved.get(name)
        if slug is None:
            index = self.index
            slug = index.get(name.casefold()) or index.get(slugify(name)) or slugify(name)
            self.resolved[name] = slug
        return slug

    def _named(self, update: _Update, taxonomy: str) -> set[str]:
        """Terms of ``taxonomy`` named by an added or removed event."""
        return {s for e in update.events for s in self.refs[id(e)][taxonomy]}

    def _order(self, update: _Update) -> None:
        ordered = self.ordered
        for event in update.removed:
            del ordered[_position(ordered, event)]
        _add_sorted(ordered, update.added)

    def _update_terms(self, taxonomy: str, update: _Update, changed: Changed) -> bool:
        """Make the terms that added and removed events name again. A term's name is its
        actor file's, else its first event's spelling. Whether names or terms changed."""
        terms = self.terms[taxonomy] = dict(self.terms[taxonomy])
        files = self.files if taxonomy == "actors" else {}
        named = self._named(update, taxonomy) | (files.keys() if update.everything else set())
        members: dict[str, list[Event]] = defaultdict(list)
        for event in update.added:
            for slug in self.refs[id(event)][taxonomy]:
                members[slug].append(event)
        renamed = False
        for slug in named:
            old = terms.get(slug)
            events = [e for e in old.events if id(e) not in update.gone] if old else []
            _add_sorted(events, members[slug])
            profile = files.get(slug)
            changed.terms.add((taxonomy, slug))
            if not events and profile is None:
                del terms[slug]
                renamed = True
                continue
            name = profile.name if profile else self._spelling(events[0], taxonomy, slug)
            terms[slug] = Term(taxonomy, slug, name, tuple(events), profile)
            if old is not None and old.name != name:
                changed.renamed.add((taxonomy, slug))
            renamed = renamed or old is None or old.name != name
        if renamed:
            self.terms[taxonomy] = dict(
                sorted(terms.items(), key=lambda item: (item[1].name.casefold(), item[0]))
            )
        return renamed

    def _spelling(self, event: Event, taxonomy: str, slug: str) -> str:
        """How ``event`` spells the term ``slug`` (the first of its names for it)."""
        names: tuple[str, ...] = getattr(event, taxonomy)
        resolve = self._resolve if taxonomy == "actors" else slugify
        return next(n for n in names if resolve(n) == slug)

    def _update_related(self, events: Iterable[Event]) -> set[str]:
        """Find the related events of ``events`` again; return their slugs."""
        related = self.related
        done = set()
        for event in events:
            related[event.slug] = self._related(event)
            done.add(event.slug)
        return done

    def _swaps(self, update: _Update, places: Mapping[int, int]) -> dict[int, Event] | None:
        """When every edited event kept its slug, start, actors and place in time order
        (a new title or body, say), the removed ones by id -> their new versions: then
        related events change only by that substitution. Else None."""
        if len(update.added) != len(update.removed):
            return None
        removed = {e.slug: e for e in update.removed}
        swaps = {}
        for event in update.added:
            old = removed.get(event.slug)
            if (
                old is None
                or old.start != event.start
                or self.refs[id(old)]["actors"] != self.refs[id(event)]["actors"]
                or places[id(old)] != _position(self.ordered, event)
            ):
                return None
            swaps[id(old)] = event
        return swaps

    def _swap_related(self, near: set[str], swaps: Mapping[int, Event]) -> set[str]:
        """Put the new versions in the related events of ``near`` (the only events whose
        related events can hold the old ones); return the slugs changed."""
        related = self.related
        done = set()
        for slug in near:
            old = related.get(slug, ())
            if any(id(e) in swaps for e, _ in old):
                related[slug] = tuple((swaps.get(id(e), e), n) for e, n in old)
                done.add(slug)
        return done

    def _near(self, update: _Update) -> set[str]:
        """Events whose related events may differ: the added ones and those near where an
        event came or went in the list of an actor it names (their windows moved)."""
        near = {e.slug for e in update.added}
        actors = self.terms["actors"]
        reach = RELATED_WINDOW + 1
        for event in update.events:
            for slug in self.refs[id(event)]["actors"]:
                members = actors[slug].events if slug in actors else ()
                at = bisect.bisect_left(members, event.sort_key, key=SORT)
                near.update(map(SLUG, members[max(0, at - reach) : at + reach + 1]))
        return near

    def _events(self, slugs: Iterable[str]) -> Iterator[Event]:
        return (self.events[s] for s in slugs if s in self.events)

    def _related(self, event: Event) -> tuple[tuple[Event, int], ...]:
        """The events of its actors' windows sharing the most actors with it, then the
        nearest in time, then in time order."""
        actors, ids = self.terms["actors"], self.ids
        windows = []
        for slug in self.refs[id(event)]["actors"]:
            members = actors[slug].events
            at = bisect.bisect_left(members, event.sort_key, key=SORT)  # the event itself
            low = max(0, at - RELATED_WINDOW)
            windows.append((list(map(id, members[low : at + RELATED_WINDOW + 1])), at - low))
        ranked = _rank_related(
            id(event), windows, lambda i: ids[i].start, lambda i: ids[i].sort_key
        )
        return tuple((ids[i], n) for i, n in ranked)

    def _all_related(self) -> None:
        """Every event's related events, as ``_related`` finds them, by place in time
        order: a linked event's place ranks it as its sort key would, and reading places
        and starts from compact arrays is much quicker than reading them from events
        spread over the heap (at 100,000 events, most such reads miss the processor's
        caches)."""
        ordered = self.ordered
        place = {id(e): i for i, e in enumerate(ordered)}
        starts = array("q", [e.start for e in ordered])  # 64 bits: see dates.MAX_YEAR
        windows: list[list[tuple[array[int], int]]] = [[] for _ in ordered]
        for term in self.terms["actors"].values():
            places = array("q", [place[id(e)] for e in term.events])
            for at, i in enumerate(places):
                windows[i].append((places, at))
        related = self.related
        for i, event in enumerate(ordered):
            ranked = _rank_related(i, windows[i], starts.__getitem__, operator.pos)
            related[event.slug] = tuple((ordered[j], n) for j, n in ranked)

    def _update_links(self, update: _Update, changed: Changed) -> None:
        """New links for the events whose neighbours, related events or terms changed."""
        links = self.links.mutate()
        for event in update.removed:
            if event.slug not in self.events:
                del links[event.slug]
                del self.related[event.slug]
        if update.everything:
            for i, event in enumerate(self.ordered):
                links[event.slug] = self._links(event, i)
        else:
            self._relink(update, changed, links)
        self.links = links.finish()

    def _relink(
        self, update: _Update, changed: Changed, links: MapMutation[str, EventLinks]
    ) -> None:
        """After a few changes: new links for the events next to them, those whose related
        events changed, and those of the terms they touched."""
        shown = changed.shown
        shown |= self._neighbours(update) | {e.slug for e in update.added}
        members: dict[int, Event] = {}  # of the terms made again, by id
        for taxonomy, slug in changed.terms:
            term = self.terms[taxonomy].get(slug)
            if term is None:
                continue
            if (taxonomy, slug) in changed.renamed:
                shown.update(map(SLUG, term.events))
            else:
                members.update((id(e), e) for e in term.events)
        for event in self._events(shown):
            links[event.slug] = self._links(event, _position(self.ordered, event))
        for event in members.values():
            if event.slug in shown:
                continue
            if event.slug in links:  # the same neighbours and related events: see refresh
                self.stale[event.slug] = event
            else:
                links[event.slug] = self._links(event, _position(self.ordered, event))

    def refresh(self) -> None:
        """Give the events left stale by ``_relink`` their new terms."""
        if not self.stale:
            return
        links = self.links.mutate()
        for slug, event in self.stale.items():  # still linked: apply() refreshes first
            old = links[slug]
            actors, tags, places = self._terms_of(event)
            links[slug] = EventLinks(actors, places, tags, old.previous, old.next, old.related)
        self.stale = {}
        self.links = links.finish()

    def _neighbours(self, update: _Update) -> set[str]:
        """Events next to where an event came or went."""
        ordered = self.ordered
        near: set[str] = set()
        for event in update.events:
            at = bisect.bisect_left(ordered, event.sort_key, key=SORT)
            near.update(map(SLUG, ordered[max(0, at - 1) : at + 2]))
        return near

    def _links(self, event: Event, at: int) -> EventLinks:
        ordered = self.ordered
        actors, tags, places = self._terms_of(event)
        return EventLinks(
            actors=actors,
            tags=tags,
            places=places,
            previous=ordered[at - 1] if at > 0 else None,
            next=ordered[at + 1] if at + 1 < len(ordered) else None,
            related=self.related[event.slug],
        )

    def _terms_of(self, event: Event) -> tuple[tuple[Term, ...], ...]:
        """The actors, tags and places ``event`` names."""
        refs, terms = self.refs[id(event)], self.terms
        # Spelled out, with no generator: this runs for thousands of events per edit.
        return (
            tuple(map(terms["actors"].__getitem__, refs["actors"])),
            tuple(map(terms["tags"].__getitem__, refs["tags"])),
            tuple(map(terms["places"].__getitem__, refs["places"])),
        )

    def _update_co_actors(self, update: _Update, changed: Changed, renamed: bool) -> None:
        """How often each actor meets each other, most first, then by name."""
        counts = self.counts
        for sign, events in ((-1, update.removed), (1, update.added)):
            for event in events:
                slugs = self.refs[id(event)]["actors"]
                for slug in slugs:
                    met = counts.setdefault(slug, Counter())
                    for other in slugs:
                        if other != slug:
                            met[other] += sign
                            if not met[other]:
                                del met[other]
        actors = self.terms["actors"]
        touched = {slug for taxonomy, slug in changed.terms if taxonomy == "actors"}
        ranked = self.ranked
        result = self.co_actors = dict(self.co_actors)
        for slug in touched - actors.keys():
            counts.pop(slug, None)
            ranked.pop(slug, None)
            result.pop(slug, None)
        for slug in actors:
            if renamed or slug in touched:
                ranked[slug] = _rank_co_actors(counts.get(slug, Counter()), actors)
            elif not any(s in touched for s in ranked[slug]):
                continue  # the same actors, counts and terms as before
            met = counts.get(slug, Counter())
            result[slug] = tuple((actors[s], met[s]) for s in ranked[slug])

    def _update_years(self, update: _Update) -> None:
        years = dict(self.years)
        added: dict[int, list[Event]] = defaultdict(list)
        for event in update.added:
            added[event.year].append(event)
        for year in {e.year for e in update.events}:
            events = [e for e in years.get(year, ()) if id(e) not in update.gone]
            _add_sorted(events, added[year])
            if events:
                years[year] = tuple(events)
            else:
                del years[year]
        if update.everything or years.keys() != self.years.keys():
            years = dict(sorted(years.items()))
        self.years = years

    def unknown_actor_notes(self) -> list[Diagnostic]:
        """Reported by `timeline check --strict` only: such actors still get a page."""
        notes = []
        for slug, term in sorted(self.terms["actors"].items()):
            if term.profile is not None:
                continue
            first = term.events[0]
            name = self._spelling(first, "actors", slug)
            message = M.ACTOR_NO_FILE(
                name=name, events=M.plural(len(term.events), "event"), fix=self._hint(name)
            )
            notes.append(
                Diagnostic(first.path, first.lines.get("actors", 1), message, Severity.LINT)
            )
        return notes

    def _hint(self, name: str) -> str:
        if name not in self.hints:
            known = [n for a in self.profiles for n in (a.name, *a.aliases)]
            close = difflib.get_close_matches(name, known, n=1, cutoff=0.8)
            fix = (
                f"did you mean '{close[0]}'?" if close else f"add content/actors/{slugify(name)}.md"
            )
            self.hints[name] = fix
        return self.hints[name]


def _rank_related(
    own: Key,
    windows: Iterable[tuple[Sequence[Key], int]],
    start: Callable[[Key], int],
    order: Callable[[Key], Any],
) -> list[tuple[Key, int]]:
    """The related events of ``own`` (as keys) with the actors they share: ``windows``
    holds each of its actors' events (keys in time order) with its own place there;
    ``start`` and ``order`` give a key's start and its rank in time order."""
    shared: Counter[Key] = Counter()
    near: list[Key] = []
    for members, at in windows:
        low = max(0, at - RELATED_WINDOW)
        shared.update(members[low : at + RELATED_WINDOW + 1])
        near += _nearest(members, at, low, start)
    del shared[own]
    # Ranked: the events sharing more than one actor, and those nearest in time.
    found = {*near, *(k for k, n in shared.items() if n > 1)}
    when = start(own)
    ranked = sorted([(-shared[k], abs(start(k) - when), order(k), k) for k in found])
    del ranked[RELATED_LIMIT:]
    return [(k, -n) for n, _, _, k in ranked]


def _nearest(
    members: Sequence[Key], at: int, low: int, start: Callable[[Key], int]
) -> Sequence[Key]:
    """Of the events around ``members[at]`` down to ``low``, those that can rank among
    the related events while sharing one actor: RELATED_LIMIT later ones (any further
    is later and farther in time than those); RELATED_LIMIT earlier ones, and more
    while they start when the last of those does (an earlier start ties farther away)."""
    first = max(low, at - RELATED_LIMIT)
    while first > low and start(members[first - 1]) == start(members[first]):
        first -= 1
    return [*members[first:at], *members[at + 1 : at + 1 + RELATED_LIMIT]]


def _add_sorted(events: list[Event], added: Sequence[Event]) -> None:
    """Put ``added`` (in time order) into ``events`` (in time order): a few by bisection,
    which looks at a handful of the events' sort keys, not at every one's; many as two
    sorted runs, which sorting merges in linear time; into none, as they are (a sort
    would still read every sort key: at 100,000 events, most such reads miss the caches)."""
    if not events:
        events += added
    elif len(added) > 16:
        events += added
        events.sort(key=SORT)
    else:
        for event in added:
            bisect.insort(events, event, key=SORT)


def _unique(slugs: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(slugs))


def _position(ordered: Sequence[Event], event: Event) -> int:
    """Where ``event`` is in ``ordered`` (sort keys are unique: slugs end them)."""
    at = bisect.bisect_left(ordered, event.sort_key, key=SORT)
    assert ordered[at] is event
    return at


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
                problems.append(error(actor.path, line, M.ALIAS_TAKEN(name=name, other=other.path)))
                continue
            index[key] = actor.slug
            owner[key] = actor
    return index, problems


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
