"""Linking: actors by name, alias or slug; taxonomies; order; neighbours; related events."""

from __future__ import annotations

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
