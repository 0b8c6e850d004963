"""Front matter to Events and Actors: types, URLs, slugs, dates, lines."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from generator.entries import read_actor, read_event
from generator.frontmatter import read_front_matter
from generator.model import Link

UTC = ZoneInfo("UTC")


def event(text: str, path: str = "content/events/the-event.md"):  # type: ignore[no-untyped-def]
    matter, problems = read_front_matter(text, path)
    assert matter is not None, problems
    return read_event(matter, path, "", UTC)


def errors(text: str) -> list[str]:
    return [d.format() for d in event(text)[1]]


def test_a_full_event() -> None:
    found, problems = event(
        "---\n"
        "title: Lavrov  plans a visit\n"
        "date: 2023-10-23\n"
        "end: 2023-10-24\n"
        "circa: yes\n"
        "actors: Sergei Lavrov\n"
        "places: [Tehran, tehran]\n"
        "tags: [diplomacy]\n"
        "sources:\n"
        "  - https://example.org/a\n"
        "  - {title: FDD, url: 'https://example.org/b'}\n"
        "image: pic.jpg\n"
        "---\n"
        "First *paragraph*.\n\nSecond.\n"
    )
    assert problems == []
    assert found is not None
    assert found.title == "Lavrov plans a visit"
    assert found.slug == "the-event"
    assert found.circa is True
    assert found.actors == ("Sergei Lavrov",)
    assert found.places == ("Tehran",)
    assert found.sources == (Link("https://example.org/a"), Link("https://example.org/b", "FDD"))
    assert found.sources[0].label == "example.org"
    assert found.summary == ""  # filled from the rendered body later, see test_build
    assert dict(found.extra) == {"image": "pic.jpg"}
    assert found.end is not None and found.stop > found.start


def test_slug_from_file_name_with_spaces_and_other_scripts() -> None:
    found, _ = event("---\ntitle: T\ndate: 2023\n---\n", "content/events/Встреча в Москве.md")
    assert found is not None and found.slug == "встреча-в-москве"


def test_problems_each_at_their_line() -> None:
    text = (
        "---\n"
        "title: [a, b]\n"  # 2
        "date: 2023-02-30\n"  # 3
        "circa: maybe\n"  # 4
        "actors: [ok, {x: y}]\n"  # 5
        "sources:\n"  # 6
        "  - javascript:alert(1)\n"  # 7
        "  - {title: t}\n"  # 8
        "  - 'java\tscript:alert(1)'\n"  # 9
        "slug: Not A Slug\n"  # 10
        "actor: typo\n"  # 11
        "---\n"
    )
    assert sorted(errors(text)) == sorted(
        [
            "content/events/the-event.md:2: 'title' must be text, not a list",
            "content/events/the-event.md:3: bad 'date': February 2023 has no day 30 (it has 28)",
            "content/events/the-event.md:4: 'circa' must be true or false",
            "content/events/the-event.md:5: each entry of 'actors' must be a name, not a "
            "mapping of keys to values",
            "content/events/the-event.md:7: 'javascript:alert(1)' is not allowed: use an http, "
            "https or mailto URL, or a relative link",
            "content/events/the-event.md:8: this entry of 'sources' has no 'url'",
            "content/events/the-event.md:9: 'java\tscript:alert(1)' is not allowed: use an http, "
            "https or mailto URL, or a relative link",
            "content/events/the-event.md:10: 'slug' must be lowercase words joined by hyphens, "
            "like 'not-a-slug'",
            "content/events/the-event.md:11: unknown field 'actor'; did you mean 'actors'?",
        ]
    )


def test_missing_title_and_date() -> None:
    assert errors("---\nsummary: s\n---\n") == [
        "content/events/the-event.md:1: 'title' is missing; every file of this kind needs one",
        "content/events/the-event.md:1: 'date' is missing; every file of this kind needs one",
    ]


def test_end_before_start() -> None:
    assert errors("---\ntitle: T\ndate: 2023-10-05\nend: 2023-10-01\n---\n") == [
        "content/events/the-event.md:4: 'end' (1 October 2023) is before 'date' "
        "(5 October 2023); swap them or fix the year"
    ]
    # An end that covers the start is fine, even at a coarser precision.
    assert errors("---\ntitle: T\ndate: 2023-10-20\nend: 2023-10\n---\n") == []


def test_actor() -> None:
    path = "content/actors/sergei-lavrov.md"
    matter, _ = read_front_matter(
        "---\nname: Sergei Lavrov\naliases: Lavrov\nkind: Person\nrole: Minister\n"
        "links: [https://mid.ru/]\n---\nProfile.\n",
        path,
    )
    assert matter is not None
    actor, problems = read_actor(matter, path)
    assert problems == []
    assert actor is not None
    assert (actor.slug, actor.name, actor.aliases, actor.kind) == (
        "sergei-lavrov",
        "Sergei Lavrov",
        ("Lavrov",),
        "person",
    )
    assert actor.summary == ""


def test_blank_names_are_dropped_not_called_text() -> None:
    """A blank entry of a list of names ("  ", or an empty one) is left out, as an empty
    string always was; it was once an error saying a name must be "a name, not text"."""
    found, problems = event('---\ntitle: T\ndate: 2023\nplaces: ["  ", Gaza, ""]\ntags: " "\n---\n')
    assert problems == []
    assert found is not None and (found.places, found.tags) == (("Gaza",), ())
