"""Incremental rebuilds give exactly what a full build gives, edit after edit."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import jinja2
import pytest
from immutables import Map

from generator import incremental
from generator.build import BuildResult, build
from generator.config import Config, parse_config
from generator.incremental import IncrementalBuilder, LazyPages
from generator.sources import load_sources
from tests.conftest import event_file

Site = Callable[[dict[str, str | bytes]], Path]
WAIT = 15.0  # seconds: a reader that waits longer waits for itself

ACTOR = "---\nname: {name}\naliases: [{alias}]\nkind: person\n---\n{body}\n"


def small_site() -> dict[str, str | bytes]:
    files: dict[str, str | bytes] = {
        "content/actors/ann.md": ACTOR.format(name="Ann", alias="A. N.", body="Ann's profile."),
        "content/actors/bob.md": ACTOR.format(name="Bob", alias="B", body="Bob's profile."),
    }
    for i in range(12):
        files[f"content/events/e{i:02d}.md"] = event_file(
            f"Event {i}",
            f"20{10 + i // 4}-{1 + i % 12:02d}-0{1 + i % 9}",
            body=f"Body {i}. See [the first](e00.md)." if i % 3 == 0 else f"Body {i}.",
            actors="[Ann, Bob]" if i % 2 else "[Ann]",
            tags="[alpha, beta]" if i % 3 else "[alpha]",
            places="[Paris]",
        )
    return files


class Checker:
    """Builds the site on disk both ways after each edit and compares."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.builder = IncrementalBuilder()
        self.shown_early = 0  # builds that showed their pages before rendering them all

    def check(self) -> set[str]:
        config, problems = parse_config((self.root / "timeline.toml").read_text("utf-8"))
        assert problems == []
        sources, problems = load_sources(self.root, config)
        assert problems == []
        full = build(config, sources)

        def early(shown: BuildResult) -> None:
            # Pages read now are rendered as they are read; the others by the builder
            # afterwards: half of them read here, every other one by path.
            assert isinstance(shown.pages, LazyPages) and shown.pages.pending
            self.shown_early += 1
            for path in sorted(set(full.pages) | set(shown.pages))[self.shown_early % 2 :: 2]:
                assert shown.pages.get(path) == full.pages.get(path), path

        incremental = self.builder.build(config, sources, early=early)
        self.result = incremental
        assert incremental.diagnostics == full.diagnostics
        assert incremental.timeline == full.timeline
        assert incremental.pages.keys() == full.pages.keys()
        differing = [p for p in full.pages if incremental.pages[p] != full.pages[p]]
        assert differing == []
        return self.builder.rendered

    def write(self, name: str, text: str) -> None:
        (self.root / name).write_text(text, "utf-8")

    def edit(self, name: str, old: str, new: str) -> None:
        path = self.root / name
        text = path.read_text("utf-8")
        assert old in text
        path.write_text(text.replace(old, new, 1), "utf-8")


@pytest.fixture
def checker(site: Site) -> Checker:
    checker = Checker(site(small_site()))
    checker.check()
    return checker


def test_a_title_change_renders_only_the_pages_that_show_it(checker: Checker) -> None:
    checker.edit("content/events/e05.md", "title: Event 5", "title: Event five")
    rendered = checker.check()
    assert checker.shown_early == 1
    assert {"events/e05/index.html", "years/2011/index.html", "index.html"} <= rendered
    assert {"years/2010/index.html", "tags/index.html", "actors/index.html"} & rendered == set()


def test_a_new_event_renders_only_the_pages_that_show_it(checker: Checker) -> None:
    new = event_file("New", "2011-06-06", actors="[Bob]", tags="[beta]", places="[Rome]")
    checker.write("content/events/new.md", new)
    rendered = checker.check()
    assert {"events/new/index.html", "places/rome/index.html", "index.html"} <= rendered
    assert {"events/e00/index.html", "years/2010/index.html"} & rendered == set()


def test_a_template_showing_the_counts_renders_every_page_on_a_new_event(
    checker: Checker,
) -> None:
    (checker.root / "templates").mkdir()
    checker.write("templates/event.html", "{{ event.title }}, one of {{ site.events }}\n")
    checker.check()
    checker.write("content/events/new.md", event_file("New", "2011-06-06"))
    assert "events/e00/index.html" in checker.check()


def test_an_unchanged_site_renders_nothing_again(checker: Checker) -> None:
    assert checker.check() == set()


@pytest.mark.parametrize(
    ("name", "old", "new"),
    [
        ("content/events/e05.md", "title: Event 5", "title: Event five"),
        ("content/events/e05.md", "date: 2011", "date: 2019"),  # moves it to the end
        ("content/events/e04.md", "date: 2011-05-05", "date: 2011-05"),  # coarser date
        ("content/events/e04.md", "actors: [Ann]", "actors: [Ann, Carol]"),  # new actor
        ("content/events/e05.md", "actors: [Ann, Bob]", "actors: [Ann]"),  # actor removed
        ("content/events/e05.md", "actors: [Ann, Bob]", "actors: [Ann, B]"),  # an alias
        ("content/events/e06.md", "tags: [alpha]", "tags: [gamma]"),
        ("content/events/e07.md", "places: [Paris]", "places: [Rome]"),
        ("content/events/e07.md", "Body 7.", "Body *seven*."),
        ("content/events/e00.md", "title: Event 0", "title: Event 0\nslug: first"),
        ("content/events/e00.md", "title: Event 0", "title: Event 0\ndraft: true"),
        ("content/actors/ann.md", "name: Ann", "name: Annette"),
        ("content/actors/ann.md", "Ann's profile.", "A new profile."),
        ("content/actors/bob.md", "aliases: [B]", "aliases: [B, Bobby]"),
        ("content/events/e03.md", "date: 2010", "date: 03/04/2010"),  # an error
        ("content/events/e03.md", "See [the first](e00.md)", "See [x](nowhere.md)"),
    ],
)
def test_each_kind_of_edit_matches_a_full_build(
    checker: Checker, name: str, old: str, new: str
) -> None:
    checker.edit(name, old, new)
    checker.check()
    checker.edit(name, new, old)  # and back
    checker.check()


def test_files_added_and_deleted_match_a_full_build(checker: Checker) -> None:
    (checker.root / "content/events/e00.md").unlink()  # others link to it: a broken link
    checker.check()
    checker.write("content/events/e00.md", event_file("Back", "2009", actors="[Dan]"))
    checker.check()
    (checker.root / "content/actors/bob.md").unlink()
    checker.check()
    checker.write("content/actors/dan.md", ACTOR.format(name="Dan", alias="D", body="Dan."))
    checker.check()
    checker.write("content/events/new.md", "---\ntitle: [broken\n---\n")
    checker.check()
    (checker.root / "content/events/new.md").unlink()
    checker.check()


def test_an_edit_whose_own_page_links_nowhere_is_not_shown_early(checker: Checker) -> None:
    checker.edit("content/events/e05.md", "Body 5.", "Body 5. See [this](../missing/).")
    checker.check()
    assert checker.shown_early == 0
    assert any("../missing/" in d.message for d in checker.result.diagnostics)
    checker.edit("content/events/e05.md", "See [this](../missing/).", "Mended.")
    checker.check()  # the last build had errors: this one is shown once it is whole
    assert checker.shown_early == 0 and checker.result.ok
    checker.edit("content/events/e05.md", "title: Event 5", "title: Event five")
    checker.check()
    assert checker.shown_early == 1


def test_an_edit_that_leaves_its_own_page_as_it_was_is_not_shown_early(
    checker: Checker,
) -> None:
    """Its other pages may not change either: the whole build says, so the server need
    not reload the open pages for a blank line."""
    before = checker.result.pages
    checker.edit("content/events/e05.md", "Body 5.", "Body 5.\n\n")
    checker.check()
    assert checker.shown_early == 0
    assert isinstance(before, LazyPages) and checker.result.pages is not before
    assert checker.result.pages.same_pages(before)  # type: ignore[attr-defined]


def test_a_template_failing_on_a_page_rendered_late_is_reported(checker: Checker) -> None:
    """An event's card is not on its own page: its title breaks the year page's cards
    only after its own page was shown early."""
    (checker.root / "templates/partials").mkdir(parents=True)
    card = "{% if 'boom' in event.title %}{{ nothing() }}{% endif %}<p>{{ event.title }}</p>\n"
    checker.write("templates/partials/card.html", card)
    checker.check()
    checker.edit("content/events/e05.md", "title: Event 5", "title: Event boom")
    checker.check()
    assert checker.shown_early == 1
    assert [d.path for d in checker.result.diagnostics] == ["templates/partials/card.html"]
    assert "years/2011/index.html" not in checker.result.pages
    checker.edit("content/events/e05.md", "title: Event boom", "title: Event 5")
    checker.check()
    assert checker.shown_early == 1 and checker.result.ok


def test_a_theme_or_config_change_rebuilds_everything(checker: Checker) -> None:
    rendered = set(build_pages(checker.root)) - static_paths(checker.root)
    checker.write("timeline.toml", 'title = "Renamed"\n')
    assert checker.check() == rendered
    (checker.root / "templates").mkdir()
    checker.write("templates/event.html", "{{ event.title }}\n")
    assert checker.check() == rendered


@pytest.mark.parametrize(
    ("config", "seed"),
    [
        ('title = "Test timeline"\n', 7),
        # Lists in pages of 10 (Ann, alpha) and a home page that shows the latest 5.
        ('title = "Test timeline"\npage_size = 10\nhome_limit = 5\n', 8),
        ('title = "Test timeline"\npage_size = 10\nhome_limit = 5\n', 9),
        # With a feed and a sitemap, which the dev server makes when they are asked for.
        ('title = "Test timeline"\nbase_url = "https://example.org/news/"\n', 10),
    ],
)
def test_random_edit_sequences_match_a_full_build(checker: Checker, config: str, seed: int) -> None:
    checker.write("timeline.toml", config)
    checker.check()
    rng = random.Random(seed)
    names = sorted(p.name for p in (checker.root / "content/events").iterdir())
    for step in range(40):
        name = rng.choice(names)
        path = checker.root / "content/events" / name
        if not path.exists():
            checker.write(f"content/events/{name}", event_file(f"Again {step}", "2012"))
            checker.check()
            continue
        kind = rng.random()
        if kind < 0.1:
            path.unlink()
        elif kind < 0.4:  # a new title or body only: the event keeps its place in time
            text = path.read_text("utf-8")
            old_title = text.split("title: ", 1)[1].split("\n", 1)[0]
            checker.edit(f"content/events/{name}", f"title: {old_title}", f"title: T{step}")
            if rng.random() < 0.5:
                checker.edit(f"content/events/{name}", "\n---\n", f"\n---\nStep {step}. ")
        else:
            year = rng.choice(["2009", "2011-02", "2012-07-07", "2013", "2011-03-03"])
            cast = rng.choice(["[Ann]", "[Bob]", "[Ann, Bob]", "[Eve]", "[]", "[A. N., eve]"])
            checker.write(
                f"content/events/{name}",
                event_file(
                    f"Step {step}",
                    year,
                    actors=cast,
                    tags=rng.choice(["[a]", "[b]", "[alpha, A]", "[]"]),
                    places=rng.choice(["[Paris]", "[paris, Rome]", "[]"]),
                ),
            )
        checker.check()
    assert checker.shown_early >= 10  # most edits are shown before all is rendered


def build_pages(root: Path) -> dict[str, bytes]:
    config = Config()
    sources, _ = load_sources(root, config)
    return dict(build(config, sources).pages)


def static_paths(root: Path) -> set[str]:
    """Files copied, not rendered: static files and the exports."""
    pages = build_pages(root)
    return {p for p in pages if not p.endswith(".html")} | {
        p for p in pages if p.startswith("static/")
    }


def test_a_first_build_on_two_processes_matches_a_full_build(site: Site) -> None:
    """The dev server's first build renders on every core (enough pages to fork)."""
    files = small_site()
    for i in range(420):
        files[f"content/events/m{i:03d}.md"] = event_file(
            f"Many {i}", f"2015-{1 + i % 12:02d}-{1 + i % 28:02d}", actors="[Ann]", tags="[m]"
        )
    checker = Checker(site(files))
    checker.builder.workers = 2
    assert len(checker.check()) > 400
    checker.builder.workers = 1
    checker.edit("content/events/m007.md", "title: Many 7", "title: Many seven")
    assert "events/m007/index.html" in checker.check()


def test_an_edit_after_a_build_on_one_process_renders_only_the_edited_card(
    checker: Checker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cards a build renders are kept for the next one, however it was made: after a
    first build on one process (as after a theme or config change in `serve`), cards
    were kept no more, and each edit rendered every card of the list pages again."""
    renders: list[str] = []
    original = jinja2.Template.render

    def counted(self: jinja2.Template, *args: object, **kwargs: object) -> str:
        if self.name == "partials/card.html":
            renders.append(kwargs["event"].slug)  # type: ignore[attr-defined]
        return original(self, *args, **kwargs)

    monkeypatch.setattr(jinja2.Template, "render", counted)
    checker.edit("content/events/e05.md", "title: Event 5", "title: Event five")
    config, _ = parse_config((checker.root / "timeline.toml").read_text("utf-8"))
    checker.builder.build(config, load_sources(checker.root, config)[0])
    assert renders == ["e05"]


def test_a_build_that_fails_part_of_the_way_leaves_the_next_build_right(
    checker: Checker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build changes what it kept in place (the files read, their bodies); when it
    stops half-way, the next build starts afresh instead of trusting that state."""

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("linking failed")

    checker.edit("content/events/e05.md", "title: Event 5", "title: Event five")
    with monkeypatch.context() as patch:
        patch.setattr(incremental, "link", broken)
        with pytest.raises(RuntimeError):
            checker.check()
    checker.check()


class _Looked(Mapping[str, bytes]):
    """Pages that note which paths were looked up, and whether they were all read."""

    def __init__(self, pages: Map[str, bytes], looked: list[str]) -> None:
        self.pages, self.looked = pages, looked

    def __getitem__(self, key: str) -> bytes:
        self.looked.append(key)
        return self.pages[key]

    def __iter__(self) -> Iterator[str]:
        self.looked.append("*")
        return iter(self.pages)

    def __len__(self) -> int:
        return len(self.pages)


def _pages(**pages: bytes) -> LazyPages:
    return LazyPages(Map(pages), {})


def test_pages_made_from_earlier_ones_compare_only_what_may_differ() -> None:
    looked: list[str] = []
    first = LazyPages(_Looked(Map(a=b"A", b=b"B", c=b"C"), looked), {})
    same = LazyPages(_Looked(Map(a=b"A", b=b"B", c=b"C"), looked), {})  # a made again
    same.since(first, {"a"})
    edited = LazyPages(_Looked(Map(a=b"A", b=b"B2"), looked), {})
    edited.since(same, {"b", "c"})
    assert same.same_pages(first)
    assert sorted(looked) == ["a", "a"]
    assert not edited.same_pages(same)
    assert not edited.same_pages(first)  # along the chain, through `same`
    back = LazyPages(_Looked(Map(a=b"A", b=b"B", c=b"C"), looked), {})
    back.since(edited, {"b", "c"})
    assert back.same_pages(first)
    assert "*" not in looked  # never every page


def test_pages_compare_whole_when_they_were_not_made_from_the_others() -> None:
    first, other = _pages(a=b"A"), _pages(a=b"A")
    assert other.same_pages(first)  # no chain between them: every page is compared
    assert not _pages(a=b"B").same_pages(first)
    step = _pages(a=b"A", b=b"B")
    gone = _pages(a=b"A")
    step.since(gone, {"b"})
    del gone  # the chain is broken where an earlier build's pages were let go
    assert not step.same_pages(first)
    assert _pages(a=b"A", b=b"B").same_pages(step)


def test_a_file_made_when_read_may_read_a_page_still_to_render() -> None:
    """One lock guards both (a maker runs holding it): reading a page from inside a
    maker must not wait for itself."""
    pages = LazyPages(Map(), {}, {"a.html": lambda: b"A"})
    pages.lazy = {"x.txt": lambda: pages["a.html"] + b"!"}
    read: list[bytes] = []
    reader = threading.Thread(target=lambda: read.append(pages["x.txt"]), daemon=True)
    reader.start()
    reader.join(WAIT)
    assert read == [b"A!"]
