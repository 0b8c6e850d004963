"""Pages kept from the previous build (generator/pagecache.py): after every kind of edit,
a build with the cache and the previous output equals a cold build byte for byte, while
the pages the edit does not touch are kept, not written again. The same tests fail when
the fingerprint leaves out what an edit changes (the last tests check that they do)."""

from __future__ import annotations

import dataclasses
import hashlib
import random
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import generator.build
from generator import output, pagecache
from generator.cache import CACHE_DIR
from generator.cli import SPARE_OUTPUT, main
from generator.dates import parse_date
from generator.linking import link
from generator.model import Event
from generator.render import PageJob, SiteRenderer
from tests.conftest import cold_copy, event_file, snapshot, write_files

CONFIG = """\
title = "Cache test"
base_url = "https://example.org/t/"
page_size = 10
home_limit = 5
search = false
"""
ACTORS = ["Ada", "Bert", "Cleo", "Dan"]
UNTOUCHED = "events/e19/index.html"  # far from every edit below


def site_files() -> dict[str, str]:
    files = {"timeline.toml": CONFIG}
    for n in range(24):
        actors = ", ".join(ACTORS[i % 4] for i in (n, n + 1))
        body = f"Event {n} happened.\n\nSee [the first](e0.md)." if n % 5 == 1 else f"Body {n}."
        files[f"content/events/e{n}.md"] = event_file(
            f"Event {n}",
            f"{2020 + n // 5}-{n % 12 + 1:02d}-10",
            body,
            actors=f"[{actors}]",
            tags=f"[t{n % 3}]",
            places=f"[P{n % 2}]",
        )
    for name in ACTORS[:3]:
        files[f"content/actors/{name.lower()}.md"] = (
            f"---\nname: {name}\nrole: Role of {name}\n---\nAbout {name}.\n"
        )
    return files


def run_build(root: Path) -> int:
    return main(["build", "-q", "--config", str(root / "timeline.toml")])


def build(root: Path) -> None:
    assert run_build(root) == 0


def cold(root: Path, tmp_path: Path) -> dict[str, bytes]:
    fresh = cold_copy(root, tmp_path)
    build(fresh)
    return snapshot(fresh / "output")


def rename(root: Path, old: str, new: str) -> None:
    (root / old).rename(root / new)


def edit(path: str, old: str, new: str) -> Callable[[Path], None]:
    def change(root: Path) -> None:
        text = (root / path).read_text("utf-8")
        assert old in text, (path, old)
        (root / path).write_text(text.replace(old, new, 1), "utf-8")

    return change


EDITS: dict[str, Callable[[Path], None]] = {
    "title": edit("content/events/e2.md", "title: Event 2", "title: Event two"),
    "date to another year": edit("content/events/e2.md", "date: 2020-03-10", "date: 2022-07-01"),
    "body appended": edit("content/events/e8.md", "Body 8.", "Body 8.\nedited"),
    "summary": edit("content/events/e3.md", "---\nBody 3.", "summary: New summary.\n---\nBody 3."),
    "actor added": edit("content/events/e4.md", "actors: [Ada, Bert]", "actors: [Ada, Bert, Dan]"),
    "actor removed": edit("content/events/e10.md", "actors: [Cleo, Dan]", "actors: [Cleo]"),
    "actor file edited": edit("content/actors/bert.md", "role: Role of Bert", "role: Editor"),
    "actor file renamed": lambda root: rename(
        root, "content/actors/cleo.md", "content/actors/cleopatra.md"
    ),
    "tag changed": edit("content/events/e5.md", "tags: [t2]", "tags: [t2, new-tag]"),
    "linked event's slug": edit("content/events/e0.md", "---\nBody 0.", "slug: first\n---\nB."),
    "body link added": edit("content/events/e7.md", "Body 7.", "Body 7, after [e8](e8.md)."),
    "event deleted": lambda root: (root / "content/events/e9.md").unlink(),
    "event added": lambda root: write_files(
        root, {"content/events/new.md": event_file("New", "2021-06-01", actors="[Cleo]")}
    ),
    "template": lambda root: write_files(
        root,
        {"templates/partials/card.html": "<p>{{ event.title }} {{ links.actors | length }}</p>\n"},
    ),
    "config": edit("timeline.toml", 'title = "Cache test"', 'title = "Renamed"'),
    "page size": edit("timeline.toml", "page_size = 10", "page_size = 11"),
}
# Edits that leave most pages as they were (the site's counts show on the home page
# only); the others change what every page shows, or remove a page others may link to.
LOCAL = ("title", "date to another year", "body appended", "summary", "actor added")
LOCAL += ("actor removed", "actor file edited", "body link added", "event added")
LOCAL += ("tag changed",)


@pytest.fixture
def rendered(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths of the pages rendered from now on (a small site renders in-process)."""
    paths: list[str] = []
    render = SiteRenderer.render

    def counted(self: SiteRenderer, job: PageJob, context: dict[str, Any] | None = None) -> None:
        paths.append(job.path)
        render(self, job, context)

    monkeypatch.setattr(SiteRenderer, "render", counted)
    return paths


@pytest.fixture
def root(tmp_path: Path) -> Path:
    site = write_files(tmp_path / "site", site_files())
    build(site)
    build(edit("content/events/e23.md", "Body 23.", "Body 23!")(site) or site)  # a spare
    return site


@pytest.mark.parametrize("name", list(EDITS))
def test_a_cached_build_equals_a_cold_one(
    root: Path, tmp_path: Path, rendered: list[str], name: str
) -> None:
    EDITS[name](root)
    build(root)
    after = snapshot(root / "output")
    if name in LOCAL:
        assert 0 < len(rendered) < sum(path.endswith(".html") for path in after)
    assert after == cold(root, tmp_path)


def test_every_edit_in_turn_equals_a_cold_build(root: Path, tmp_path: Path) -> None:
    for change in EDITS.values():
        change(root)
        build(root)
    assert snapshot(root / "output") == cold(root, tmp_path)


def _front_matter(path: Path, field: str, value: str) -> None:
    """Set ``field`` of the front matter of the file at ``path`` to the YAML ``value``."""
    head, _, body = path.read_text("utf-8").removeprefix("---\n").partition("\n---\n")
    head = re.sub(rf"(?m)^{field}:.*\n?", "", head).rstrip("\n")
    path.write_text(f"---\n{head}\n{field}: {value}\n---\n{body}", "utf-8")


RANDOM_EDITS = (
    *("title", "date", "month", "bce", "range", "body", "summary", "actors", "actor-by-slug"),
    *("tags", "places", "link", "delete", "add", "rename", "actor-file", "actor-deleted"),
    *("actor-added", "broken", "mend", "duplicate", "template", "static", "config", "touch"),
    "draft",
)


def _random_edit(rng: random.Random, root: Path, linked: set[str], kind: str = "") -> str:
    """One edit of a random kind to a random file, as an author makes them, some of which
    make the build fail (invalid YAML, two events of one slug) until ``mend``. Events
    that a body links to (``linked``) keep their file and are listed."""
    events = sorted((root / "content/events").glob("*.md"))
    actors = sorted((root / "content/actors").glob("*.md"))
    path = rng.choice(events)
    free = [e for e in events if e.name not in linked] or events
    number = rng.randrange(1000)
    kind = kind or rng.choice(RANDOM_EDITS)
    if kind in ("date", "month", "bce", "delete", "rename", "draft"):
        path = rng.choice(free)
    year, month = rng.randrange(2015, 2026), rng.randrange(1, 13)
    fields = {  # the edits of one field of the front matter: (field, YAML value)
        "title": ("title", f"'Retitled {number} <b>&amp; é'"),
        "date": ("date", f"{year}-{month:02d}-11"),
        "month": ("date", f"{year}-{month:02d}"),
        "bce": ("date", f"-{number % 900 + 1:04d}"),
        "range": ("end", f"{2026 + number % 4}-05"),
        "summary": ("summary", f"Summary {number}."),
        "actors": ("actors", f"[{', '.join(rng.sample([*ACTORS, 'Eve'], 2))}]"),
        "actor-by-slug": ("actors", f"[{rng.choice(actors).stem}]" if actors else "[Ada]"),
        "tags": ("tags", f"[t{number % 4}, n{number % 3}]"),
        "places": ("places", f"[P{number % 4}]"),
        "draft": ("draft", rng.choice(["true", "false"])),
    }
    if kind in fields:
        _front_matter(path, *fields[kind])
    elif kind == "body":
        path.write_text(path.read_text("utf-8") + f"\nMore, {number}.\n", "utf-8")
    elif kind == "link":
        target = rng.choice(events)
        linked.add(target.name)
        path.write_text(path.read_text("utf-8") + f"\nSee [it]({target.name}).\n", "utf-8")
    elif kind == "delete":
        path.unlink()
    elif kind == "add":
        new = event_file(f"New {number}", "2021-06-01")
        write_files(root, {f"content/events/new{number}.md": new})
    elif kind == "rename":
        path.rename(path.with_name(f"renamed{number}.md"))
    elif kind == "actor-file" and actors:
        _front_matter(rng.choice(actors), "role", f"Role {number}")
    elif kind == "actor-deleted" and actors:
        rng.choice(actors).unlink()
    elif kind == "actor-added":
        eve = f"---\nname: Eve\nrole: R{number}\n---\nEve.\n"
        write_files(root, {"content/actors/eve.md": eve})
    elif kind == "broken":
        path.write_text(path.read_text("utf-8").replace("title:", "title: [", 1), "utf-8")
    elif kind == "mend":  # what "broken" and "duplicate" break
        for event in events:
            text = event.read_text("utf-8").replace("title: [", "title:")
            event.write_text(text.replace("slug: twin\n", ""), "utf-8")
    elif kind == "duplicate":
        for twin in rng.sample(events, 2):
            _front_matter(twin, "slug", "twin")
    elif kind in ("template", "static"):
        name = "templates/partials/card.html" if kind == "template" else "static/extra.txt"
        if (root / name).exists():
            (root / name).unlink()
        else:
            write_files(root, {name: f"<p>{{{{ event.title }}}} {number}</p>\n"})
    elif kind == "config":
        toml = root / "timeline.toml"
        size = f"page_size = {10 + number % 3}"
        toml.write_text(re.sub(r"(?m)^page_size = .*$", size, toml.read_text("utf-8")), "utf-8")
    elif kind == "touch":
        path.touch()
    return f"{kind} {path.name}"


@pytest.mark.parametrize("seed", range(3))
def test_random_edits_in_turn_equal_cold_builds(root: Path, tmp_path: Path, seed: int) -> None:
    """Random sequences of edits, one to three at a time, with builds that fail among
    them: after each, the build from the cache and the previous output (or the spare)
    fails as a cold build does, leaving the output as it was, or equals it byte for
    byte."""
    rng = random.Random(seed)
    linked: set[str] = set()
    done: list[str] = []
    code = 0
    last = snapshot(root / "output")
    for _ in range(18):
        if done and code:
            done.append(_random_edit(rng, root, linked, "mend"))
        done += [_random_edit(rng, root, linked) for _ in range(rng.choice((1, 1, 2, 3)))]
        code = run_build(root)
        fresh = cold_copy(root, tmp_path)
        assert run_build(fresh) == code, done
        if code == 0:
            last = snapshot(root / "output")
            assert last == snapshot(fresh / "output"), done
        else:
            assert snapshot(root / "output") == last, done


def test_a_planted_or_damaged_spare_changes_nothing(root: Path, tmp_path: Path) -> None:
    spare = root / CACHE_DIR / SPARE_OUTPUT
    assert (spare / UNTOUCHED).is_file()
    (spare / UNTOUCHED).unlink()
    write_files(spare, {UNTOUCHED: "<script>planted</script>", "planted.html": "x"})
    # A file where the build needs a folder, and a folder where it needs a file.
    shutil.rmtree(spare / "events" / "e5")
    (spare / "events" / "e6" / "index.html").unlink()
    write_files(spare, {"events/e5": "planted", "events/e6/index.html/x": "planted"})
    EDITS["title"](root)
    build(root)
    assert snapshot(root / "output") == cold(root, tmp_path)


def test_a_failed_build_from_the_spare_leaves_the_output_and_the_next_build_whole(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The spare is pruned in a process of its own from the start of the build (slowly
    here): a build that stops before its pages, while that runs, lets it end before the
    folder goes back to being the spare."""
    prune = output._prune_spare

    def slow(folder: Path, previous: Path) -> list[str]:
        time.sleep(0.5)
        return prune(folder, previous)

    def stop(*_: object) -> None:
        raise output.OutputError("stopped by this test")

    monkeypatch.setattr(output, "_prune_spare", slow)
    before = snapshot(root / "output")
    EDITS["title"](root)
    with monkeypatch.context() as stopped:
        stopped.setattr(generator.build, "render_bodies", stop)
        assert run_build(root) == 1
    assert snapshot(root / "output") == before
    build(root)
    assert snapshot(root / "output") == cold(root, tmp_path)


def test_an_output_touched_by_hand_is_not_kept(root: Path, tmp_path: Path) -> None:
    page = root / "output" / UNTOUCHED
    page.write_bytes(page.read_bytes().replace(b"Event 19", b"Touched"))
    EDITS["title"](root)
    build(root)
    assert snapshot(root / "output") == cold(root, tmp_path)


def test_a_template_that_reads_every_link_keeps_no_page(root: Path, rendered: list[str]) -> None:
    write_files(root, {"templates/404.html": "{{ timeline_links | length }}\n"})
    build(root)
    assert UNTOUCHED in rendered
    EDITS["title"](root)
    build(root)
    assert rendered.count(UNTOUCHED) == 2


# The edits above must catch a fingerprint that leaves something out: with a hole made
# on purpose, the cached build differs from the cold one.
def _label_without_title(self: pagecache.Fingerprints, event: pagecache.Event) -> str:
    return repr(event.slug)


def _term_without_events(self: pagecache.Fingerprints, value: object) -> bytes:
    if isinstance(value, pagecache.Term):
        return f"{value.taxonomy}/{value.slug}/{value.name}".encode()
    return _object(self, value)


_object = pagecache.Fingerprints._object


@pytest.mark.parametrize(
    ("name", "attribute", "hole"),
    [("title", "_label", _label_without_title), ("actor added", "_object", _term_without_events)],
)
def test_a_hole_in_the_fingerprint_is_caught(
    root: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    attribute: str,
    hole: object,
) -> None:
    build(root)
    monkeypatch.setattr(pagecache.Fingerprints, attribute, hole)
    build(edit("content/events/e23.md", "Body 23!", "Body 23?")(root) or root)  # with the hole
    EDITS[name](root)
    build(root)
    assert snapshot(root / "output") != cold(root, tmp_path)


def test_a_template_showing_the_counts_keeps_no_page_when_they_change(
    root: Path, tmp_path: Path
) -> None:
    write_files(root, {"templates/event.html": "{{ event.title }}, one of {{ site.events }}\n"})
    build(root)
    EDITS["event added"](root)
    build(root)
    assert snapshot(root / "output") == cold(root, tmp_path)


def test_an_event_s_digest_holds_every_field_and_the_body() -> None:
    """The body is hashed apart from the other fields (as it is, not its repr): each
    still changes the event's digest, and text cannot move from one to the other."""
    base = Event(slug="a", title="A", date=parse_date("2023-10-07"), path="events/a.md")

    def digest(event: Event) -> bytes:
        found = hashlib.blake2b()
        pagecache._hash_entry(found, event)
        return found.digest()

    variants = [
        base,
        dataclasses.replace(base, body="x"),
        dataclasses.replace(base, body="y"),
        dataclasses.replace(base, title="A x"),
        dataclasses.replace(base, summary="x"),
        dataclasses.replace(base, tags=("x",)),
    ]
    assert len({digest(e) for e in variants}) == len(variants)


def test_an_entry_s_key_stands_for_its_fields_and_the_summary_is_hashed_too() -> None:
    """With the key of the file an event was read from, the key is hashed instead of the
    fields it was read into (the same key, the same fields), and the summary beside it,
    which may come from the body's HTML; without one, the fields are."""
    event = Event(slug="a", title="A", date=parse_date("2023-10-07"), path="events/a.md")
    timeline, _ = link([event], [])

    def digest(entry: Event, entries: dict[str, str]) -> bytes:
        return pagecache.Fingerprints("site", timeline, entries)._object(entry)

    retitled = dataclasses.replace(event, title="B")
    assert digest(retitled, {event.path: "k1"}) == digest(event, {event.path: "k1"})
    variants = [
        digest(event, {event.path: "k1"}),
        digest(event, {event.path: "k2"}),
        digest(dataclasses.replace(event, summary="x"), {event.path: "k1"}),
        digest(event, {}),
        digest(retitled, {}),
    ]
    assert len(set(variants)) == len(variants)
