"""Linking: actors by name, alias or slug; taxonomies; order; neighbours; related events."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace

import pytest

from generator.diagnostics import sort_key
from generator.linking import RELATED_LIMIT, RELATED_WINDOW, LinkMemo, link
from generator.model import Actor, Event, Timeline
from generator.slugs import slugify
from tests.helpers import build_files, event

E = "content/events/"
A = "content/actors/"


def timeline(files: dict[str, str]):  # type: ignore[no-untyped-def]
    result = build_files(files)
    assert result.ok, result.diagnostics
    assert result.timeline is not None
    return result.timeline


def test_actors_resolve_by_name_alias_or_slug_case_insensitively() -> None:
    t = timeline(
        {
            A + "sergei-lavrov.md": "---\nname: Sergei Lavrov\naliases: [Lavrov]\n---\n",
            E + "a.md": event("A", "2023-01-01", actors="[sergei lavrov]"),
            E + "b.md": event("B", "2023-01-02", actors="[LAVROV]"),
            E + "c.md": event("C", "2023-01-03", actors="[sergei-lavrov, Lavrov]"),
            E + "d.md": event("D", "2023-01-04", actors="Nobody Known"),
        }
    )
    assert [e.slug for e in t.actors["sergei-lavrov"].events] == ["a", "b", "c"]
    assert t.actors["sergei-lavrov"].profile is not None
    assert t.actors["nobody-known"].profile is None
    assert t.actors["nobody-known"].name == "Nobody Known"
    assert [a.slug for a in t.links["c"].actors] == ["sergei-lavrov"]


def test_tags_and_places_merge_spellings_and_keep_the_first() -> None:
    t = timeline(
        {
            E + "a.md": event("A", "2020", tags="[Diplomacy]", places="[São Paulo]"),
            E + "b.md": event("B", "2021", tags="[diplomacy, war]", places="[são paulo]"),
        }
    )
    assert list(t.tags) == ["diplomacy", "war"]
    assert t.tags["diplomacy"].name == "Diplomacy"
    assert [e.slug for e in t.places["são-paulo"].events] == ["a", "b"]


def test_total_order_start_then_precision_then_title_then_slug() -> None:
    t = timeline(
        {
            E + "z.md": event("Same", "2023-10-01"),
            E + "y.md": event("Same", "2023-10-01"),
            E + "month.md": event("Month", "2023-10"),
            E + "year.md": event("Year", "2023"),
            E + "early.md": event("Early", "2023-10-01T00:00-05:00"),  # 05:00 UTC
            E + "bc.md": event("Rome", "-0044-03-15"),
            E + "alpha.md": event("Alpha", "2023-10-01"),
        }
    )
    assert [e.slug for e in t.events] == ["bc", "year", "month", "alpha", "y", "z", "early"]
    assert t.links["alpha"].previous is not None and t.links["alpha"].previous.slug == "month"
    assert t.links["early"].next is None
    assert t.links["bc"].previous is None
    assert list(t.years) == [-44, 2023]


def test_related_events_share_actors_most_first() -> None:
    t = timeline(
        {
            E + "a.md": event("A", "2023-01-01", actors="[X, Y]"),
            E + "b.md": event("B", "2023-01-02", actors="[X, Y]"),
            E + "c.md": event("C", "2023-01-03", actors="[X]"),
            E + "d.md": event("D", "2023-01-04", actors="[Z]"),
        }
    )
    assert [(e.slug, n) for e, n in t.links["a"].related] == [("b", 2), ("c", 1)]
    assert t.links["d"].related == ()
    assert [(a.slug, n) for a, n in t.co_actors["x"]] == [("y", 2)]


def test_duplicate_slugs_and_shared_aliases_are_errors() -> None:
    result = build_files(
        {
            E + "a.md": event("A", "2023", slug="same"),
            E + "b.md": event("B", "2023", slug="same"),
            A + "one.md": "---\nname: One\naliases: [Shared]\n---\n",
            A + "two.md": "---\nname: Two\naliases: [shared]\n---\n",
        }
    )
    assert [d.format() for d in result.diagnostics] == [
        "content/actors/two.md:3: the name 'shared' is also used by content/actors/one.md; "
        "an alias must belong to one actor",
        "content/events/b.md:4: event slug 'same' is also used by content/events/a.md; "
        "set a different 'slug:' in one of them",
    ]


def _memo_site() -> tuple[list[Event], list[Actor]]:
    """60 events over a few years, 2-3 of 8 actors each (some with files), tags, places."""
    names = [f"Actor {i}" for i in range(8)]
    files = {A + f"actor-{i}.md": f"---\nname: Actor {i}\n---\n" for i in range(0, 8, 2)}
    for i in range(60):
        chosen = [names[(i * k) % 8] for k in (1, 3, 5)][: 2 + i % 2]
        files[E + f"e{i:02}.md"] = event(
            f"Event {i}",
            f"{2020 + i % 3}-{1 + i % 12:02}-{1 + i % 27:02}",
            actors="[" + ", ".join(chosen) + "]",
            tags=f"[t{i % 4}]",
            places=f"[p{i % 5}]",
        )
    t = timeline(files)
    return list(t.events), [t.actors[s].profile for s in t.actors if t.actors[s].profile]


def _shown(t: Timeline) -> tuple[object, ...]:
    """Everything a timeline holds: the taxonomies and years in their order (``==`` on
    dicts ignores it), links and co-actors as the lookups by slug they are."""
    ordered = (t.actors, t.tags, t.places, t.years)
    return (t.events, *(list(m.items()) for m in ordered), dict(t.links), dict(t.co_actors))


NAMES = [*(f"Actor {i}" for i in range(8)), "actor-2", "ACTOR 4", "Someone New", "someone new"]
SPELLINGS = ["t0", "T0", "t 1", "T-1", "t2", "Paris", "paris", "Rome"]


def _random_edit(rng: random.Random, events: list[Event], actors: list[Actor], step: int) -> None:
    """One edit of the kinds an author makes, to events or to actor files."""
    i = rng.randrange(len(events))
    other = events[rng.randrange(len(events))]
    kind = rng.randrange(10)
    if kind == 0:
        events[i] = replace(events[i], title=rng.choice(["Renamed", "Aa", "Zz", other.title]))
    elif kind == 1:  # to another event's date: ties ordered by precision, title, slug
        events[i] = replace(events[i], date=other.date, start=other.start)
    elif kind == 2:
        events[i] = replace(events[i], actors=tuple(rng.sample(NAMES, rng.randrange(4))))
    elif kind == 3:
        cut = rng.randrange(4)
        picked = rng.sample(SPELLINGS, 3)
        events[i] = replace(events[i], tags=tuple(picked[:cut]), places=tuple(picked[cut:]))
    elif kind == 4 and len(events) > 5:
        events.pop(i)
    elif kind == 5:
        events.append(replace(other, slug=f"new-{step}", path=f"{E}new-{step}.md"))
    elif kind == 6:  # a duplicate slug: an error, then the next edit may remove it
        events.append(replace(other, title="Twin", path=f"{E}twin-{step}.md"))
    elif kind == 7:  # only a field outside ==: the new object must still be linked
        events[i] = replace(events[i], extra={"step": step})
    elif kind == 8 and actors:
        j = rng.randrange(len(actors))
        actors[j] = replace(actors[j], name=rng.choice(["First", "Actor 5", actors[j].name]))
    elif kind == 9:
        if actors and rng.random() < 0.5:
            actors.pop(rng.randrange(len(actors)))
        else:
            name = rng.choice(NAMES[:8])
            actors.append(Actor(slugify(name), name, f"{A}{slugify(name)}.md", aliases=("Al",)))
    if kind != 6:
        twins = [e for e in events if e.title == "Twin"]
        for twin in twins[: rng.randrange(2) + 1]:
            events.remove(twin)


def _pages_see(t: Timeline) -> dict[str, tuple[object, ...]]:
    """What pages show of each event's links: its terms' slugs, names and profiles (not
    their events), its neighbours and related events."""
    return {
        slug: (
            *(
                [(t.slug, t.name, t.profile) for t in terms]
                for terms in (x.actors, x.tags, x.places)
            ),
            x.previous,
            x.next,
            x.related,
        )
        for slug, x in t.links.items()
    }


@pytest.mark.parametrize("defer", [False, True])
@pytest.mark.parametrize("seed", range(6))
def test_a_link_memo_never_changes_the_result(seed: int, defer: bool) -> None:
    """Linking from the last result gives what linking afresh gives, edit after edit.
    With ``defer``, the links left for ``refresh()`` show the same before it."""
    rng = random.Random(seed)
    events, actors = _memo_site()
    memo = LinkMemo()
    link(events, actors, memo)
    waited = 0
    for step in range(40):
        _random_edit(rng, events, actors, step)
        rng.shuffle(events)  # the order files are read in must not matter
        memoized, found = link(events, actors, memo, defer=defer)
        fresh, expected = link(events, actors)
        assert _pages_see(memoized) == _pages_see(fresh)
        waited += _shown(memoized) != _shown(fresh)  # links still holding the last terms
        memoized = memo.refresh(memoized)
        assert _shown(memoized) == _shown(fresh)
        assert sorted(set(found), key=sort_key) == sorted(set(expected), key=sort_key)
        for related in (links.related for links in memoized.links.values()):
            assert all(any(r is e for e in events) for r, _ in related)
    assert waited >= 10 if defer else waited == 0


def test_a_link_memo_gives_back_unchanged_terms_and_links_as_the_same_objects() -> None:
    events, actors = _memo_site()
    memo = LinkMemo()
    before, _ = link(events, actors, memo)
    edited = events[20]
    events[20] = replace(edited, title="Renamed")
    after, _ = link(events, actors, memo)
    named = {t.slug for t in before.links[edited.slug].actors}
    assert named and len(named) < len(after.actors)
    for slug, term in after.actors.items():
        assert (term is before.actors[slug]) == (slug not in named)
    # Events that share nothing with the edited one keep their links object.
    apart = [
        s
        for s, links in after.links.items()
        if s != edited.slug
        and edited.slug not in {e.slug for e, _ in links.related}
        and not named & {t.slug for t in links.actors}
        and edited.slug not in {e.slug for e in (links.previous, links.next) if e}
        and not {t.slug for t in links.tags + links.places}
        & {t.slug for t in before.links[edited.slug].tags + before.links[edited.slug].places}
    ]
    assert apart and all(after.links[s] is before.links[s] for s in apart)
    assert after.links[edited.slug] is not before.links[edited.slug]


def test_a_link_memo_sees_changes_that_equality_does_not() -> None:
    """Fields outside ``==`` (extra front matter) still make a new object: the related
    events of others must name the new one, or pages would show stale extra fields."""
    events, actors = _memo_site()
    memo = LinkMemo()
    before, _ = link(events, actors, memo)
    target = next(
        e
        for e in events
        if any(r is e for links in before.links.values() for r, _ in links.related)
    )
    changed = replace(target, extra={"note": "new"})
    assert changed == target
    events[events.index(target)] = changed
    after, _ = link(events, actors, memo)
    shown = [r for links in after.links.values() for r, _ in links.related]
    assert any(r is changed for r in shown) and not any(r is target for r in shown)


def _related_by_definition(t: Timeline, event: Event) -> list[tuple[str, int]]:
    """Related events as the docs define them, computed the slow way: among the events
    within RELATED_WINDOW of ``event`` in each of its actors' lists, most shared actors
    first, then nearest in time, then in time order."""
    shared: Counter[str] = Counter()
    for term in t.links[event.slug].actors:
        at = term.events.index(event)
        window = term.events[max(0, at - RELATED_WINDOW) : at + RELATED_WINDOW + 1]
        shared.update(e.slug for e in window if e is not event)
    by = t.by_slug
    ranked = sorted(
        shared, key=lambda s: (-shared[s], abs(by[s].start - event.start), by[s].sort_key)
    )
    return [(s, shared[s]) for s in ranked[:RELATED_LIMIT]]


def test_related_events_follow_their_definition_with_many_ties() -> None:
    """300 events on a dozen dates (many share a start), 2-3 of 4 actors each: windows
    cut each actor's list, and ties in time are decided by the order."""
    files = {}
    for i in range(300):
        cast = [f"Actor {(i * k) % 4}" for k in (1, 3, 7)][: 2 + i % 2]
        files[E + f"e{i:03}.md"] = event(
            f"Event {i % 17}", f"20{10 + i % 3}-0{1 + i % 4}", actors="[" + ", ".join(cast) + "]"
        )
    t = timeline(files)
    for e in t.events:
        shown = [(r.slug, n) for r, n in t.links[e.slug].related]
        assert shown == _related_by_definition(t, e), e.slug
