"""The build cache: a cached build equals a cold one byte for byte, a build with nothing
changed is skipped, and every kind of change is seen."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from generator import build as building
from generator.build import read_entries
from generator.cache import Cache
from generator.config import parse_config
from generator.dates import PartialDate
from generator.model import Event, entry_from_json, entry_to_json
from generator.sources import load_sources
from tests.conftest import REPO, SITES, cold_copy, run_cli, snapshot, write_files


@pytest.fixture
def basic(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    shutil.copytree(SITES / "basic", root)
    return root


def build(root: Path) -> str:
    result = run_cli("build", cwd=root)
    assert result.code == 0, result.err
    return result.out


def cold(root: Path, tmp_path: Path) -> dict[str, bytes]:
    """The same site built from scratch elsewhere, with no cache."""
    fresh = cold_copy(root, tmp_path)
    build(fresh)
    return snapshot(fresh / "output")


@pytest.mark.parametrize(
    ("change", "path", "text"),
    [
        (
            "event",
            "content/events/moon.md",
            "---\ntitle: Moon landing\ndate: 1969-07-20\n---\nNew.\n",
        ),
        (
            "actor",
            "content/actors/brutus.md",
            "---\nname: Brutus the Younger\naliases: [Brutus]\n---\nX.\n",
        ),
        (
            "template",
            "templates/event.html",
            '{% extends "default/event.html" %}{% block title %}T{% endblock %}',
        ),
        ("static", "static/CNAME", "timeline.example.org\n"),
        ("config", "timeline.toml", 'title = "Renamed"\n'),
        (
            "link target",
            "content/events/vesuvius.md",
            "---\ntitle: V\ndate: 79\nslug: vesuvius-79\n---\nX\n",
        ),
    ],
)
def test_each_change_is_seen_and_cached_equals_cold(
    basic: Path, tmp_path: Path, change: str, path: str, text: str
) -> None:
    build(basic)
    assert build(basic).startswith("Nothing changed")
    write_files(basic, {path: text})
    assert build(basic).startswith("Built ")
    assert snapshot(basic / "output") == cold(basic, tmp_path)


def test_touching_the_output_triggers_a_build(basic: Path) -> None:
    build(basic)
    (basic / "output" / "index.html").write_text("tampered")
    assert build(basic).startswith("Built ")
    assert (basic / "output" / "index.html").read_text() != "tampered"


def test_drafts_and_base_url_are_inputs_too(basic: Path) -> None:
    build(basic)
    assert run_cli("build", "--drafts", cwd=basic).out.startswith("Built ")
    assert run_cli("build", "--base-url", "https://x.org/", cwd=basic).out.startswith("Built ")


def test_a_planted_cache_cannot_inject_script(basic: Path) -> None:
    build(basic)
    db = sqlite3.connect(basic / ".timeline-cache" / "cache.sqlite")
    bodies = [
        key
        for key, value in db.execute("SELECT key, value FROM cache")
        if value.startswith('["<p>')  # a rendered body: [html, links, too deep, mark]
    ]
    assert len(bodies) == 5  # three events and two actors
    planted = json.dumps(["<p>Planted</p><script>alert(1)</script>", [], False, ""])
    db.executemany("UPDATE cache SET value = ? WHERE key = ?", [(planted, k) for k in bodies])
    db.execute("DELETE FROM cache WHERE key IN ('last-build', 'last-pages')")
    db.commit()
    db.close()
    build(basic)
    page = (basic / "output" / "events" / "moon" / "index.html").read_text()
    assert "<p>Planted</p>" in page  # the planted body was used, and sanitised
    assert "<script>alert(1)</script>" not in page and "alert(1)" not in page


@pytest.mark.parametrize("unsafe_html", [False, True])
def test_cached_bodies_give_the_pages_fresh_ones_give(basic: Path, unsafe_html: bool) -> None:
    """Bodies read from the cache are sanitised on several threads, fresh ones one by one
    as they come: the same pages either way. With unsafe_html, neither is sanitised."""
    raw = '<b onclick="steal()">Bold</b> and <script>alert(1)</script> [moon](moon.md)\n'
    write_files(
        basic,
        {
            f"content/events/raw-{i:02}.md": f"---\ntitle: Raw {i}\ndate: 1970-01-{i + 1:02}\n---\n"
            + f"Event {i}. "
            + raw
            for i in range(24)
        },
    )
    if unsafe_html:
        with (basic / "timeline.toml").open("a") as config:
            config.write("unsafe_html = true\n")
    build(basic)  # every body rendered now
    fresh = snapshot(basic / "output")
    shutil.rmtree(basic / "output")
    build(basic)  # every body from the cache, every page rendered again
    assert snapshot(basic / "output") == fresh
    page = fresh["events/raw-07/index.html"].decode()
    assert "Event 7." in page and "<b" in page and 'href="../../events/moon/index.html"' in page
    assert ("alert(1)" in page) == unsafe_html and ("steal()" in page) == unsafe_html


def test_a_broken_cache_file_is_an_empty_cache(basic: Path, tmp_path: Path) -> None:
    (basic / ".timeline-cache").mkdir()
    (basic / ".timeline-cache" / "cache.sqlite").write_bytes(b"not a database" * 100)
    build(basic)
    assert snapshot(basic / "output") == cold(basic, tmp_path)


def entries_of(root: Path, cache: Cache | None) -> list[tuple[object, object, object]]:
    """Every event and actor of the site, with the fields equality leaves out."""
    config, _ = parse_config((root / "timeline.toml").read_text("utf-8"), "timeline.toml")
    sources, _ = load_sources(root, config)
    events, actors, problems = read_entries(config, sources, drafts=True, cache=cache)
    assert not problems
    return [(e, e.extra, e.lines) for e in [*events, *actors]]


def _must_not_read(*args: object) -> None:
    raise AssertionError("a file the cache holds was read again")


# Every kind of field: ranges, offsets, circa, drafts, sources both ways, fields of the
# author's own (nested), aliases and links.
RICH = {
    "timeline.toml": 'title = "Rich"\ntimezone = "Europe/Paris"\n',
    "content/events/a.md": (
        "---\ntitle: A\ndate: 2023-10-23T14:30+02:00\nend: 2023-10-24\ncirca: true\n"
        "draft: true\nactors: [Ann, bo]\nplaces: [Paris]\ntags: [x, y]\n"
        "sources: [https://a.org/1, {title: T, url: 'https://b.org/2'}]\n"
        "summary: S\nmine: {deep: [1, {two: null}]}\n---\nBody\n"
    ),
    "content/events/b.md": "---\ntitle: B\ndate: -0044-03\nslug: bee\n---\n",
    "content/actors/ann.md": (
        "---\nname: Ann\naliases: [A.]\nkind: person\nrole: r\n"
        "links: [https://ann.org, {title: Home, url: 'https://ann.org/h'}]\nown: [z]\n---\nAnn.\n"
    ),
}


@pytest.mark.parametrize("site", [REPO, SITES / "basic", "rich"])
def test_entries_come_back_from_the_cache_as_they_were_read(
    site: Path | str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if site == "rich":
        site = write_files(tmp_path / "rich", RICH)
        assert entries_of(site, None)[0][1] == {"mine": {"deep": ["1", {"two": None}]}}
    assert isinstance(site, Path)
    cache = Cache(tmp_path / "cache")
    first = entries_of(site, cache)
    assert first == entries_of(site, None)
    monkeypatch.setattr(building, "read_entry", _must_not_read)
    assert entries_of(site, cache) == first


def test_a_file_with_an_error_is_read_and_reported_on_every_build(basic: Path) -> None:
    write_files(basic, {"content/events/bad.md": "---\ntitle: Bad\ndate: someday\n---\n"})
    for _ in range(2):
        result = run_cli("build", cwd=basic)
        assert result.code == 1
        assert "content/events/bad.md:3:" in result.err
    write_files(basic, {"content/events/bad.md": "---\ntitle: Bad\ndate: 2001\n---\n"})
    assert build(basic).startswith("Built ")


EVENT = entry_to_json(
    Event("e", "E", PartialDate(2001), "content/events/e.md", tags=("x",), extra={"k": ["v"]})
)


@pytest.mark.parametrize(
    "planted",
    [
        None,
        [],
        ["Script", *EVENT[1:]],
        EVENT[:-1],
        [*EVENT[:2], 5, *EVENT[3:]],  # a title that is no text
        [*EVENT[:3], [2001, 1, 1, 0, 0, 0, 9, None], *EVENT[4:]],  # no such precision
        [*EVENT[:3], [2001, 1, 1], *EVENT[4:]],
        [*EVENT[:7], "x", *EVENT[8:]],  # actors as one text
        [*EVENT[:13], True, *EVENT[14:]],  # a line number that is a flag
        [*EVENT[:10], [["https://x.org", "t", "more"]], *EVENT[11:]],
    ],
)
def test_a_planted_entry_is_no_entry(planted: object) -> None:
    assert entry_from_json(EVENT) is not None
    assert entry_from_json(planted) is None


def _keys(root: Path) -> set[str]:
    with sqlite3.connect(root / ".timeline-cache" / "cache.sqlite") as db:
        return {k for (k,) in db.execute("SELECT key FROM cache")}


def test_prune_keeps_what_was_read_or_written_once_the_rest_outnumber_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("generator.cache._PRUNE_MARGIN", 0)
    first = Cache(tmp_path)
    first.put_many({f"old{i}": i for i in range(10)})
    first.close()
    cache = Cache(tmp_path)
    assert cache.get_many(["old1", "old2", "missing"]) == {"old1": 1, "old2": 2}
    cache.put_many({"new": "n"})
    cache.get_many(["old3", "old4", "old5"])
    assert cache.prune() == 0  # 11 entries, 6 used: the 5 others do not outnumber them
    cache.close()
    cache = Cache(tmp_path)
    cache.get_many(["old1", "new"])
    assert cache.prune() == 9  # 11 > 2 * 2 used: all but those two go
    cache.close()
    assert Cache(tmp_path).get_many([f"old{i}" for i in range(10)] + ["new"]) == {
        "old1": 1,
        "new": "n",
    }


def test_a_build_prunes_a_cache_grown_stale_to_what_a_cold_build_keeps(
    basic: Path, tmp_path: Path
) -> None:
    build(basic)
    before = (basic / ".timeline-cache" / "cache.sqlite").stat().st_size
    junk = Cache(basic / ".timeline-cache")
    junk.put_many({f"stale{i}": "x" * 1000 for i in range(900)})
    junk.close()
    # Stale entries of the site's own, too: an event edited since.
    write_files(basic, {"content/events/moon.md": "---\ntitle: Moon\ndate: 1969-07-20\n---\nA\n"})
    build(basic)
    assert len(_keys(basic)) > 900  # stale, but within the margin: kept for now
    write_files(basic, {"content/events/moon.md": "---\ntitle: Moon\ndate: 1969-07-20\n---\nB\n"})
    junk = Cache(basic / ".timeline-cache")
    junk.put_many({f"more{i}": "x" * 1000 for i in range(3000)})
    junk.close()
    build(basic)
    # Exactly what a cold build of the same files keeps, nothing stale, and the space given back.
    fresh = tmp_path / "cold"
    cold(basic, tmp_path)
    assert _keys(basic) == _keys(fresh)
    assert (basic / ".timeline-cache" / "cache.sqlite").stat().st_size <= before + 8192
    assert snapshot(basic / "output") == snapshot(fresh / "output")
    # And the entries kept are found: an unchanged site is not rebuilt.
    assert build(basic).startswith("Nothing changed")


@pytest.mark.parametrize(
    ("link", "warned"),
    [
        (".timeline-cache", True),
        (".timeline-cache/cache.sqlite", True),
        (".timeline-cache/cache.sqlite-journal", True),
        (".timeline-cache/cache.sqlite-wal", True),
        (".timeline-cache/spare-output", False),  # never used: a link is not a folder
    ],
)
def test_a_planted_link_in_the_cache_is_not_followed(
    basic: Path, tmp_path: Path, link: str, warned: bool
) -> None:
    """A cloned repository can hold links where the build keeps its cache and the output
    it replaces: the build must write nothing, and delete nothing, where they lead."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious.txt").write_text("mine")
    (outside / "spare-output").mkdir()  # what a followed link to the folder would reuse
    (outside / "spare-output" / "index.html").write_text("mine too")
    (basic / link).parent.mkdir(parents=True, exist_ok=True)
    target = outside if link in (".timeline-cache", ".timeline-cache/spare-output") else None
    (basic / link).symlink_to(target or outside / "made-by-sqlite")
    before = snapshot(outside)
    for body in ("A", "B"):
        write_files(basic, {"content/events/moon.md": f"---\ntitle: M\ndate: 1969\n---\n{body}\n"})
        result = run_cli("build", cwd=basic)
        assert result.code == 0, result.err
        assert (f"{link}: warning: this is a symbolic link" in result.err) is warned
    assert snapshot(outside) == before
    assert sorted(p.name for p in outside.iterdir()) == ["precious.txt", "spare-output"]
    assert snapshot(basic / "output") == cold(basic, tmp_path)
