"""Full-text search in the browser: the example site, served from a sub-path by a plain
static server, finds an event by a word of its body, and so does a site whose index is in
several shards; opened from disk, the search box stays out of the way without console
errors. A rebuild re-indexes only the shards whose pages changed, and gives the same bytes
as a cold build."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from generator import cli, search
from generator.cache import CACHE_DIR
from generator.cli import SPARE_OUTPUT, main
from tests.conftest import REPO, MakeSite, event_file, run_cli, snapshot
from tests.static_server import serve_folder

EVENTS = sorted((REPO / "content" / "events").glob("*.md"))
# One word of its own in the body of each event of the sharded site.
WORDS = [
    "amber",
    "basalt",
    "cobalt",
    "dolomite",
    "emerald",
    "feldspar",
    "garnet",
    "hematite",
    "ilmenite",
    "jasper",
    "kyanite",
    "lazurite",
]


def _body_word() -> tuple[str, str]:
    """A word found in the body of exactly one example event, and that event's slug."""
    texts = {p.stem: p.read_text("utf-8").lower() for p in EVENTS}
    for path in EVENTS:
        body = path.read_text("utf-8").split("\n---\n", 1)[1]
        for word in sorted(set(re.findall(r"[a-z]{8,}", body.lower()))):
            if sum(word in text for text in texts.values()) == 1:
                return word, path.stem
    raise AssertionError("no event has a word of its own")


@pytest.fixture
def sharded_site(site: MakeSite, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Twelve events, each with a word of its own, built with an index of 3-page shards.
    On one worker, so the index is made in this process, where the tests' spies see it
    (``test_the_index_made_beside_the_exports_is_the_same`` covers the other way)."""
    monkeypatch.setattr(search, "SHARD_SIZE", 3)
    monkeypatch.setattr(cli, "default_workers", lambda: 1)
    events = {
        f"content/events/e{n}.md": event_file(
            f"Event {n}", f"2023-01-{n + 1:02d}", f"This event mentions {word}.", summary="S."
        )
        for n, word in enumerate(WORDS)
    }
    root = site(events)
    _build(root, "output")
    return root


def _calls(monkeypatch: pytest.MonkeyPatch, name: str, what: Callable[..., Any]) -> list[Any]:
    """``what`` of the arguments of each call to search.``name`` from now on."""
    calls: list[Any] = []
    function = getattr(search, name)

    def counted(*args: Any) -> Any:
        calls.append(what(*args))
        return function(*args)

    monkeypatch.setattr(search, name, counted)
    return calls


def _edit_event(site: Path, n: int) -> Path:
    """Replace event ``n``'s own word in its file with "zircon"; the file."""
    edited = site / "content" / "events" / f"e{n}.md"
    edited.write_text(edited.read_text("utf-8").replace(WORDS[n], "zircon"), "utf-8")
    return edited


def _build(root: Path, output: str) -> None:
    """Build in this process, so that monkeypatched settings of the search index apply."""
    config = str(root / "timeline.toml")
    assert main(["build", "-q", "--config", config, "--output", str(root / output)]) == 0


@contextmanager
def _served_from_a_sub_path(folder: Path, tmp_path: Path) -> Iterator[str]:
    """Serve ``folder`` as http://host/some/path/; yields that URL."""
    www = tmp_path / "www"
    (www / "some").mkdir(parents=True)
    (www / "some" / "path").symlink_to(folder)
    with serve_folder(www) as root:
        yield f"{root}some/path/"


@contextmanager
def _watched_page(browser_context: object) -> Iterator[tuple[Any, list[str]]]:
    """A new page, and the console errors and uncaught exceptions it reports; closed after."""
    from playwright.sync_api import BrowserContext, ConsoleMessage

    assert isinstance(browser_context, BrowserContext)
    page = browser_context.new_page()
    errors: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if message.type == "error" and "favicon.ico" not in message.location.get("url", ""):
            errors.append(message.text)

    page.on("console", console)
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        yield page, errors
    finally:
        page.close()


@pytest.mark.browser
def test_typing_a_word_of_an_event_body_lists_that_event(
    example_site: Path, tmp_path: Path, browser_context: object
) -> None:
    word, slug = _body_word()
    assert (example_site / "pagefind" / "shards.json").is_file()
    with (
        _watched_page(browser_context) as (page, errors),
        _served_from_a_sub_path(example_site, tmp_path) as root,
    ):
        page.goto(f"{root}years/2023/index.html")
        box = page.get_by_role("searchbox", name="Search events")
        box.fill(word)
        result = page.locator(f".search-results a[href$='/events/{slug}/']")
        result.wait_for(timeout=15_000)
        href = result.get_attribute("href")
        result.click()
        page.wait_for_url(f"{root}events/{slug}/", timeout=10_000)
        heading = page.locator("h1").inner_text()
        box = page.get_by_role("searchbox", name="Search events")
        box.fill("zzzzqqqq")
        page.get_by_text("No event matches").wait_for(timeout=15_000)
    assert href == f"/some/path/events/{slug}/"
    assert heading and heading.lower() != word
    assert errors == []


@pytest.mark.browser
def test_a_word_of_an_event_in_a_merged_shard_lists_only_that_event(
    sharded_site: Path, tmp_path: Path, browser_context: object
) -> None:
    output = sharded_site / "output"
    shards = json.loads((output / "pagefind" / "shards.json").read_text("utf-8"))
    assert len(shards) > 2
    pages = sorted(p.relative_to(output).as_posix() for p in output.glob("events/*/index.html"))
    members = search.split_into_shards(pages, 3)[shards[-1]]  # merged, not the first
    slug = members[0].split("/")[1]
    word = WORDS[int(slug.removeprefix("e"))]
    with (
        _watched_page(browser_context) as (page, errors),
        _served_from_a_sub_path(output, tmp_path) as root,
    ):
        page.goto(f"{root}index.html")
        page.get_by_role("searchbox", name="Search events").fill(word)
        page.locator(".search-results a").first.wait_for(timeout=15_000)
        hrefs = [a.get_attribute("href") for a in page.locator(".search-results a").all()]
    assert hrefs == [f"/some/path/events/{slug}/"]
    assert errors == []


@pytest.mark.browser
def test_event_pages_without_an_html_element_are_searched_too(
    site: MakeSite, tmp_path: Path, browser_context: object
) -> None:
    """HTML lets a page leave out <html>: a site's event template may be a fragment, and
    Pagefind, which skips such a page, is given it in an <html> element."""
    fragment = '<h1>{{ event.title }}</h1>\n<div class="body">{{ body }}</div>\n'
    root = site(
        {
            "templates/event.html": fragment,
            **{
                f"content/events/e{n}.md": event_file(
                    f"Event {n}", f"2023-01-0{n + 1}", f"This event mentions {word}."
                )
                for n, word in enumerate(WORDS[:3])
            },
        }
    )
    result = run_cli("build", cwd=root)
    assert result.code == 0, result.err
    output = root / "output"
    assert b"<html" not in (output / "events" / "e1" / "index.html").read_bytes()
    with (
        _watched_page(browser_context) as (page, errors),
        _served_from_a_sub_path(output, tmp_path) as served,
    ):
        page.goto(f"{served}index.html")
        page.get_by_role("searchbox", name="Search events").fill(WORDS[1])
        page.locator(".search-results a").first.wait_for(timeout=15_000)
        hrefs = [a.get_attribute("href") for a in page.locator(".search-results a").all()]
    assert hrefs == ["/some/path/events/e1/"]
    assert errors == []


@pytest.mark.browser
def test_a_site_whose_events_are_all_deleted_finds_nothing_without_errors(
    sharded_site: Path, tmp_path: Path, browser_context: object
) -> None:
    """Its index is an empty list of shards: no shard of the events that were there, and
    no failed request for an index that is not there."""
    output = sharded_site / "output"
    assert len(json.loads((output / "pagefind" / "shards.json").read_text("utf-8"))) > 2
    for path in (sharded_site / "content" / "events").iterdir():
        path.unlink()
    _build(sharded_site, "output")
    _build(sharded_site, "output")  # the next build starts from the spare's index
    assert sorted(p.name for p in (output / "pagefind").iterdir()) == ["shards.json"]
    assert json.loads((output / "pagefind" / "shards.json").read_text("utf-8")) == []
    with (
        _watched_page(browser_context) as (page, errors),
        _served_from_a_sub_path(output, tmp_path) as root,
    ):
        failed: list[str] = []
        page.on("requestfailed", lambda request: failed.append(request.url))
        page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
        page.goto(f"{root}index.html")
        page.get_by_role("searchbox", name="Search events").fill(WORDS[0])
        page.get_by_text(f"No event matches “{WORDS[0]}”").wait_for(timeout=15_000)
    assert errors == [] and failed == []


@pytest.mark.browser
def test_the_index_loads_when_the_box_gets_the_focus_and_not_before(
    sharded_site: Path, tmp_path: Path, browser_context: object
) -> None:
    _loads_on_focus(sharded_site / "output", WORDS[5], "e5", tmp_path, browser_context)


@pytest.mark.browser
def test_an_index_of_one_shard_loads_on_the_focus_too(
    example_site: Path, tmp_path: Path, browser_context: object
) -> None:
    """With one shard nothing is merged, which is what loads the others on the focus."""
    shards = json.loads((example_site / "pagefind" / "shards.json").read_text("utf-8"))
    assert len(shards) == 1
    _loads_on_focus(example_site, *_body_word(), tmp_path, browser_context)


def _loads_on_focus(
    output: Path, word: str, slug: str, tmp_path: Path, browser_context: object
) -> None:
    """Nothing of the index is fetched for a page nobody searches; focusing the box
    fetches every shard's entry before a word is typed, and the search then finds."""
    shards = json.loads((output / "pagefind" / "shards.json").read_text("utf-8"))
    entries = {f"pagefind/{name}/pagefind-entry.json" for name in shards}
    with (
        _watched_page(browser_context) as (page, errors),
        _served_from_a_sub_path(output, tmp_path) as root,
    ):
        fetched: list[str] = []
        page.on("requestfinished", lambda r: fetched.append(r.url.split("?")[0]))
        page.goto(f"{root}index.html")
        page.wait_for_load_state("networkidle")
        before = [url for url in fetched if "/pagefind/" in url]
        page.get_by_role("searchbox", name="Search events").focus()
        deadline = time.monotonic() + 15
        while not entries <= {url.removeprefix(root) for url in fetched}:
            assert time.monotonic() < deadline, fetched
            page.wait_for_timeout(50)
        on_focus = {url.removeprefix(root) for url in fetched if "/pagefind/" in url}
        page.get_by_role("searchbox", name="Search events").fill(word)
        page.locator(f".search-results a[href$='/events/{slug}/']").wait_for(timeout=15_000)
    assert before == []
    assert entries <= on_focus and "pagefind/shards.json" in on_focus
    assert errors == []


@pytest.mark.browser
def test_a_focus_without_an_index_reports_nothing_until_a_search(
    sharded_site: Path, tmp_path: Path, browser_context: object
) -> None:
    """The index failing to load on focus throws nothing; the search says it is missing."""
    output = sharded_site / "output"
    shutil.rmtree(output / "pagefind")
    with (
        _watched_page(browser_context) as (page, errors),
        _served_from_a_sub_path(output, tmp_path) as root,
    ):
        page.goto(f"{root}index.html")
        box = page.get_by_role("searchbox", name="Search events")
        box.focus()
        page.wait_for_load_state("networkidle")
        on_focus = list(errors)
        box.fill(WORDS[0])
        page.get_by_text("Search is not available here").wait_for(timeout=15_000)
    # Only the browser's own line for the missing file: no uncaught rejection.
    assert [e for e in on_focus if not e.startswith("Failed to load resource")] == []
    assert len(on_focus) == 1


@pytest.mark.browser
def test_from_disk_the_search_box_stays_hidden_without_errors(
    example_site: Path, browser_context: object
) -> None:
    with _watched_page(browser_context) as (page, errors):
        page.goto((example_site / "index.html").as_uri())
        page.wait_for_load_state("load")
        hidden = page.locator("form.search").is_hidden()
        title = page.locator("h1").inner_text()
    assert hidden and title
    assert errors == []


def test_only_event_pages_are_indexed(example_site: Path) -> None:
    index = example_site / "pagefind"
    assert json.loads((index / "shards.json").read_text("utf-8")) == ["0"]  # a small site
    names = {p.name for p in (index / "0").iterdir()}
    assert "pagefind.js" in names and "pagefind-entry.json" in names
    assert not any(n.startswith("pagefind-ui") for n in names)  # the theme has its own box
    fragments = list((index / "0" / "fragment").iterdir())
    assert len(fragments) == len(EVENTS)  # one record per event page, none for the others


def test_shards_hold_each_page_once_and_a_new_page_changes_one_shard() -> None:
    pages = [f"events/e{n}/index.html" for n in range(1000)]
    shards = search.split_into_shards(pages, 100)
    assert all(len(members) <= 100 for members in shards.values())
    assert sorted(p for members in shards.values() for p in members) == sorted(pages)
    assert {int(name) for name in shards} <= set(range(16))  # 1,000 / 100 -> 16 buckets
    grown = search.split_into_shards([*pages, "events/new/index.html"], 100)
    changed = [name for name in grown if grown[name] != shards.get(name)]
    assert len(changed) == 1 and "events/new/index.html" in grown[changed[0]]


def test_shards_hold_at_most_size_pages_until_there_are_most_of_them() -> None:
    pages = [f"events/e{n}/index.html" for n in range(1000)]
    # Within ``most`` shards, none holds more than ``size`` pages...
    assert max(map(len, search.split_into_shards(pages, 100, most=64).values())) <= 100
    # ...beyond, the shards grow up to ``largest`` pages before there are more of them.
    few = search.split_into_shards(pages, 100, most=4, largest=400)
    assert len(few) == 4 and max(map(len, few.values())) <= 400
    more = search.split_into_shards(pages, 100, most=2, largest=400)
    assert len(more) == 4
    assert search.split_into_shards([], 100) == {}


def test_the_default_shards_of_ten_and_a_hundred_thousand_events() -> None:
    """What one edit re-indexes and what the browser merges, at the sizes of the
    benchmark: 16 shards of at most 1,000 pages, then 64 of at most 2,000."""
    for events, count, largest in ((10_000, 16, 1000), (100_000, 64, 2000)):
        pages = [f"events/event-{n:06d}/index.html" for n in range(events)]
        shards = search.split_into_shards(pages, search.SHARD_SIZE)
        assert len(shards) == count
        assert max(map(len, shards.values())) <= largest


@pytest.mark.parametrize("word", [1, 6, 11])
def test_the_shard_of_an_edited_event_is_made_first(
    sharded_site: Path, monkeypatch: pytest.MonkeyPatch, word: int
) -> None:
    """Its Pagefind run is the long part: the shards left as they were are checked and
    hard-linked after it starts, not before."""
    monkeypatch.setattr(search, "AT_ONCE", 1)  # one at a time: the order is the order made
    made = _calls(monkeypatch, "_make_shard", lambda site, pages, *_: pages)
    _edit_event(sharded_site, word)
    _build(sharded_site, "output")
    assert len(made) > 2 and f"events/e{word}/index.html" in made[0]


def test_a_rebuild_reindexes_only_the_edited_shard_and_equals_a_cold_build(
    sharded_site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = _calls(monkeypatch, "_run_pagefind", lambda parts, output: output)
    _edit_event(sharded_site, 4)
    _build(sharded_site, "output")
    assert len(runs) == 1  # only the shard of e4
    shard = runs[0].name
    pages = sorted(p.name for p in (sharded_site / "output" / "events").iterdir())
    members = search.split_into_shards([f"events/{p}/index.html" for p in pages], 3)[shard]
    assert "events/e4/index.html" in members
    runs.clear()
    _build(sharded_site, "cold")
    assert len(runs) > 2  # no previous output there: every shard is indexed
    reused, cold = snapshot(sharded_site / "output"), snapshot(sharded_site / "cold")
    assert sorted(reused) == sorted(cold)
    assert [p for p in reused if reused[p] != cold[p]] == []


def test_the_index_made_beside_the_exports_is_the_same(
    sharded_site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With two workers the index is made in a process of its own while the build
    writes the exports. Cold, after an edit, and after a delete (the staging folder then
    starts from the spare, which still holds the deleted event's page): the same output
    as the index made in the build's own process."""
    monkeypatch.setattr(cli, "default_workers", lambda: 2)
    runs = _calls(monkeypatch, "_run_pagefind", lambda parts, output: output)
    events = sharded_site / "content" / "events"
    _edit_event(sharded_site, 4)
    _build(sharded_site, "output")
    (events / "e7.md").unlink()
    _build(sharded_site, "output")
    _build(sharded_site, "cold-beside")
    assert runs == []  # made in the other process: this one's spy saw nothing
    monkeypatch.setattr(cli, "default_workers", lambda: 1)
    _build(sharded_site, "cold")
    assert len(runs) > 2
    built, beside, cold = (
        snapshot(sharded_site / name) for name in ("output", "cold-beside", "cold")
    )
    assert sorted(built) == sorted(beside) == sorted(cold)
    assert [p for p in cold if not built[p] == beside[p] == cold[p]] == []
    assert _fragments(sharded_site / "output") == len(WORDS) - 1


@pytest.mark.parametrize("workers", [1, 2])
def test_what_a_spare_holds_besides_the_build_goes_at_the_top_and_below(
    sharded_site: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    """The spare's files that are not the build's go, at the top and below, whether the
    index is made in this process or in its own beside the exports; an export the spare
    holds is written anew."""
    monkeypatch.setattr(cli, "default_workers", lambda: workers)
    events = sharded_site / "content" / "events"
    (events / "e4.md").write_text((events / "e4.md").read_text("utf-8") + "More.\n", "utf-8")
    _build(sharded_site, "output")  # the first build's output is now the spare
    spare = sharded_site / CACHE_DIR / SPARE_OUTPUT
    assert (spare / "timeline.json").is_file()
    planted = ["stale.txt", "events/gone/index.html", "old/deep/x.css", "pagefind/99/x.pf"]
    for name in planted:
        (spare / name).parent.mkdir(parents=True, exist_ok=True)
        (spare / name).write_text("planted", "utf-8")
    (spare / "timeline.json").unlink()
    (spare / "timeline.json").write_text("planted", "utf-8")
    _edit_event(sharded_site, 5)
    _build(sharded_site, "output")
    _build(sharded_site, "cold")
    built, cold = snapshot(sharded_site / "output"), snapshot(sharded_site / "cold")
    assert sorted(built) == sorted(cold)
    assert [p for p in cold if built[p] != cold[p]] == []
    output = sharded_site / "output"
    assert not any((output / name).exists() for name in planted)
    assert not (output / "old").exists() and not (output / "events" / "gone").exists()


def test_unchanged_pages_are_not_read_again_to_keep_their_shards(
    sharded_site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A shard whose pages are the very files its index was made from (the build kept
    them) is kept without reading them; only the edited event's shard is read."""
    read = _calls(monkeypatch, "_searched_parts", lambda site, pages: pages)
    _edit_event(sharded_site, 4)
    _build(sharded_site, "output")
    assert [pages for pages in read if "events/e4/index.html" in pages] == read
    assert len(read) == 1
    shards = sorted(p.name for p in (sharded_site / "output" / "pagefind").iterdir() if p.is_dir())
    assert len(shards) > 2
    _build(sharded_site, "cold")
    assert len(read) == 1 + len(shards)  # no previous output there: every shard is read
    reused, cold = snapshot(sharded_site / "output"), snapshot(sharded_site / "cold")
    assert [p for p in reused if reused[p] != cold[p]] == []


def test_a_shard_made_again_keeps_the_fragments_of_the_pages_left_as_they_were(
    sharded_site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pagefind is lent the previous shard's fragments: those of the pages that did not
    change are the very files of the previous output (now the spare), one run made the
    edited page's, and the one it replaces is gone."""
    runs = _calls(monkeypatch, "_run_pagefind", lambda parts, output: output)
    before = {p.name: p.stat().st_ino for p in _shard_fragments(sharded_site / "output", "e4")}
    _edit_event(sharded_site, 4)
    _build(sharded_site, "output")
    after = {p.name: p.stat().st_ino for p in _shard_fragments(sharded_site / "output", "e4")}
    assert len(runs) == 1 and len(after) == len(before) > 1
    kept = [name for name, inode in after.items() if before.get(name) == inode]
    assert len(kept) == len(after) - 1  # all but the edited page's
    spare = sharded_site / CACHE_DIR / SPARE_OUTPUT
    assert all((spare / "pagefind").glob(f"*/fragment/{name}") for name in kept)
    _build(sharded_site, "cold")
    reused, cold = snapshot(sharded_site / "output"), snapshot(sharded_site / "cold")
    assert sorted(reused) == sorted(cold)
    assert [p for p in reused if reused[p] != cold[p]] == []


@pytest.mark.parametrize("whose", ["a page of the shard", "a page of another shard"])
def test_a_lent_fragment_named_like_a_new_one_is_found_and_the_shard_made_again(
    sharded_site: Path, monkeypatch: pytest.MonkeyPatch, whose: str
) -> None:
    """Should the edited page's new fragment be named like a lent fragment of another
    page (its hash's first digits met by chance), Pagefind would keep the lent one: the
    shard is made again from nothing, and the index is a cold build's."""
    _edit_event(sharded_site, 4)
    _build(sharded_site, "cold")  # the index as it must be
    cold = sharded_site / "cold"
    new_name = next(p.name for p in _shard_fragments(cold, "e4") if _url(p) == "/events/e4/")
    previous = sharded_site / "output"
    others = [p for p in _shard_fragments(previous, "e4") if _url(p) != "/events/e4/"]
    if whose != "a page of the shard":
        shard = _shard_fragments(previous, "e4")[0].parent
        others = [p for p in previous.glob("pagefind/*/fragment/*") if p.parent != shard]
    planted = _shard_fragments(previous, "e4")[0].parent / new_name
    planted.write_bytes(others[0].read_bytes())  # the colliding name, another page's fragment
    site = sharded_site / "site"
    shutil.copytree(cold, site, ignore=shutil.ignore_patterns("pagefind"))
    runs = _calls(monkeypatch, "_run_pagefind", lambda parts, output: output.name)
    search.index_site(site, previous)
    assert len(runs) == 2 and runs[0] == runs[1]  # lent, then made again
    assert snapshot(site / "pagefind") == snapshot(cold / "pagefind")


def test_without_hard_links_the_shard_is_made_from_nothing(
    sharded_site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(source: object, target: object) -> None:
        raise OSError("no hard links here")

    _edit_event(sharded_site, 4)
    _build(sharded_site, "cold")
    site = sharded_site / "site"
    shutil.copytree(sharded_site / "cold", site, ignore=shutil.ignore_patterns("pagefind"))
    monkeypatch.setattr(search.os, "link", refuse)
    search.index_site(site, sharded_site / "output")
    assert snapshot(site / "pagefind") == snapshot(sharded_site / "cold" / "pagefind")


def _shard_fragments(output: Path, event: str) -> list[Path]:
    """The fragment files of the shard that holds ``event``'s page in ``output``."""
    pages = sorted(f"events/{p.name}/index.html" for p in (output / "events").iterdir())
    shards = search.split_into_shards(pages, search.SHARD_SIZE)
    name = next(n for n, members in shards.items() if f"events/{event}/index.html" in members)
    return sorted((output / "pagefind" / name / "fragment").iterdir())


def _url(fragment: Path) -> str:
    """The address of the page a fragment file shows."""
    return str(json.loads(search._unpacked(fragment))["url"])


def test_a_kept_shard_of_an_older_index_gets_its_list_of_pages_recorded(
    sharded_site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Shards made before the list of pages was recorded are kept, and record it, so the
    next build need not read their pages."""
    index = sharded_site / "output" / "pagefind"
    for digest_file in index.glob(f"*/{search.DIGEST_FILE}"):
        first = digest_file.read_text("utf-8").splitlines()[0]
        digest_file.unlink()
        digest_file.write_text(first + "\n", "utf-8")
    runs = _calls(monkeypatch, "_run_pagefind", lambda parts, output: output)
    edited = _edit_event(sharded_site, 4)
    _build(sharded_site, "output")
    assert len(runs) == 1
    assert {len(f.read_text("utf-8").splitlines()) for f in index.glob("*/pages.sha256")} == {2}
    read = _calls(monkeypatch, "_searched_parts", lambda site, pages: pages)
    edited.write_text(edited.read_text("utf-8").replace("zircon", "basalt"), "utf-8")
    _build(sharded_site, "output")
    assert len(read) == 1 and len(runs) == 2


def test_a_new_title_reindexes_only_its_shard_though_its_neighbours_pages_change(
    sharded_site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The neighbours' pages link to the event by its title, outside what Pagefind
    indexes: their shards are kept, and the index is still a cold build's."""
    runs = _calls(monkeypatch, "_run_pagefind", lambda parts, output: output)
    output = sharded_site / "output"
    neighbours = [output / f"events/e{n}/index.html" for n in (3, 5)]
    before = [page.read_bytes() for page in neighbours]
    edited = sharded_site / "content" / "events" / "e4.md"
    edited.write_text(edited.read_text("utf-8").replace("Event 4", "Renamed four"), "utf-8")
    _build(sharded_site, "output")
    for page, old in zip(neighbours, before, strict=True):
        assert b"Renamed four" in page.read_bytes() and b"Renamed four" not in old
    pages = [f"events/e{n}/index.html" for n in range(len(WORDS))]
    shards = search.split_into_shards(pages, 3)
    shard_of = {page: name for name, members in shards.items() for page in members}
    assert len({shard_of[f"events/e{n}/index.html"] for n in (3, 4, 5)}) > 1  # a real test
    assert [run.name for run in runs] == [shard_of["events/e4/index.html"]]
    _build(sharded_site, "cold")
    reused, cold = snapshot(output), snapshot(sharded_site / "cold")
    assert sorted(reused) == sorted(cold)
    assert [p for p in reused if reused[p] != cold[p]] == []


@pytest.mark.parametrize(
    ("page", "kept"),
    [
        (
            b"<p>a</p><main data-pagefind-body>b</main><nav>c</nav>",
            b"<p>a</p><main data-pagefind-body>b</main>",
        ),
        (
            b"<div data-pagefind-body><div>b</div></div><i>c</i>",
            b"<div data-pagefind-body><div>b</div></div>",
        ),
        (b"<main data-pagefind-body>b</main><img src=x>", None),  # Pagefind's default image
        (b"<main data-pagefind-body>b</main><h1>t</h1>", None),  # and title
        (b"<main data-pagefind-body>b</main><p data-pagefind-meta=x>", None),
        (b"<main data-pagefind-body>b</main><i data-pagefind-body>c</i>", None),  # two
        (b"<main data-pagefind-body><!-- </main> -->b</main><nav>c</nav>", None),
        (b"<main data-pagefind-body>b<nav>c</nav>", None),  # never closed
        (b"<main>b</main><nav>c</nav>", None),  # no body: the whole page is read
        (
            b"<mainx data-pagefind-body>b</main></mainx>c",
            b"<mainx data-pagefind-body>b</main></mainx>",
        ),
    ],
)
def test_the_part_of_a_page_pagefind_reads(page: bytes, kept: bytes | None) -> None:
    page = b"<html>" + page
    assert search.searched_part(page) == (page if kept is None else b"<html>" + kept)


@pytest.mark.parametrize(
    ("page", "given"),
    [
        (b"<p>a</p>", b"<html><p>a</p></html>"),
        (b"<body><p>a</p></body>", b"<html><body><p>a</p></body></html>"),
        (b"<!doctype html><p>a</p><p>&lt;html&gt;</p>", None),
        (b"<!doctype html><HTML lang=en><p>a</p>", b"<!doctype html><HTML lang=en><p>a</p>"),
        (b"<html>\n<p>a</p>", b"<html>\n<p>a</p>"),
        (b"<htmlx><p>a</p>", b"<html><htmlx><p>a</p></html>"),
    ],
)
def test_a_page_without_an_html_element_is_given_to_pagefind_in_one(
    page: bytes, given: bytes | None
) -> None:
    assert search.searched_part(page) == (given or b"<html>" + page + b"</html>")


def test_the_index_of_the_parts_is_the_index_of_the_whole_pages(
    example_site: Path, tmp_path: Path
) -> None:
    """Pagefind run by hand over the example's whole event pages makes the very index
    the build made from the cut pages."""
    pages = search.event_pages(example_site)
    whole = {page: (example_site / page).read_bytes() for page in pages}
    assert all(len(search.searched_part(data)) < len(data) for data in whole.values())
    with search._shard_folder(whole) as folder:  # written in the same order as the build's
        command = [search._executable(), "--site", str(folder / "site")]
        command += ["--output-path", str(tmp_path / "index"), "--silent"]
        subprocess.run(command, check=True)
    by_hand = snapshot(tmp_path / "index")
    built = snapshot(example_site / "pagefind" / "0")
    assert {p for p in by_hand if not p.startswith(search._UNUSED)} == built.keys() - {
        search.DIGEST_FILE
    }
    assert [p for p in built if p in by_hand and by_hand[p] != built[p]] == []
    assert len(built) > 10


def test_a_site_without_events_builds_with_an_empty_index(site: Callable[..., Path]) -> None:
    root = site({"content/events/.keep": ""})
    result = run_cli("build", "-q", cwd=root)
    assert result.code == 0, result.err
    assert (root / "output" / "index.html").is_file()
    index = root / "output" / "pagefind"
    assert [p.name for p in index.iterdir()] == ["shards.json"]  # Pagefind is not run
    assert json.loads((index / "shards.json").read_text("utf-8")) == []


def test_search_can_be_turned_off(site: MakeSite) -> None:
    root = site(
        {
            "timeline.toml": 'title = "T"\nsearch = false\n',
            "content/events/a.md": "---\ntitle: A\ndate: 2023\n---\nWords.\n",
        },
    )
    assert run_cli("build", "--quiet", cwd=root).code == 0
    assert not (root / "output" / "pagefind").exists()
    page = (root / "output" / "events" / "a" / "index.html").read_text("utf-8")
    assert "search.js" not in page and 'role="search"' not in page


def _fragments(output: Path) -> int:
    """How many pages the index of ``output`` holds, over all its shards."""
    shards = json.loads((output / "pagefind" / "shards.json").read_text("utf-8"))
    return sum(len(list((output / "pagefind" / s / "fragment").iterdir())) for s in shards)


def test_each_pagefind_run_sees_only_its_shards_pages(
    sharded_site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each run reads a folder that holds its shard's pages and nothing else, each page
    cut after what Pagefind reads of it."""
    seen: list[dict[str, bytes]] = []
    shard_folder = search._shard_folder

    @contextmanager
    def watched(parts: dict[str, bytes]) -> Iterator[Path]:
        with shard_folder(parts) as folder:
            found = sorted(p.relative_to(folder / "site").as_posix() for p in folder.rglob("*.*"))
            assert found == sorted(parts)
            seen.append({page: (folder / "site" / page).read_bytes() for page in found})
            yield folder

    monkeypatch.setattr(search, "_shard_folder", watched)
    _build(sharded_site, "cold")
    assert len(seen) > 2 and sum(map(len, seen)) == len(WORDS)
    output = sharded_site / "cold"
    for pages in seen:
        for page, data in pages.items():
            whole = (output / page).read_bytes()
            assert data == search.searched_part(whole)
            assert b"data-pagefind-body" in data and len(data) < len(whole)  # cut short
    assert _fragments(output) == len(WORDS)


def test_without_room_in_dev_shm_the_index_is_made_in_the_temporary_folder(
    sharded_site: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    full = tmp_path / "not-a-folder"
    full.write_text("", "utf-8")  # making a folder in it fails, as in a full /dev/shm
    monkeypatch.setattr(search, "_scratch_folders", lambda: [str(full), None])
    _build(sharded_site, "fallback")
    assert _fragments(sharded_site / "fallback") == len(WORDS)


def test_without_room_anywhere_the_build_fails_and_says_so(
    sharded_site: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: Any
) -> None:
    full = tmp_path / "not-a-folder"
    full.write_text("", "utf-8")
    monkeypatch.setattr(search, "_scratch_folders", lambda: [str(full)])
    before = snapshot(sharded_site / "output")
    _edit_event(sharded_site, 4)
    config = str(sharded_site / "timeline.toml")
    code = main(["build", "-q", "--config", config, "--output", str(sharded_site / "output")])
    err = capsys.readouterr().err
    assert code == 1
    assert "no room to prepare the search index's pages" in err and "Traceback" not in err
    assert snapshot(sharded_site / "output") == before  # the old output stays


def test_after_a_failed_pagefind_run_no_other_starts(
    sharded_site: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """A cold build of four or more shards whose first run fails: the run going beside it
    ends, the others never start, and the build fails without writing."""
    started: list[str] = []

    def first_fails(parts: dict[str, bytes], output: Path) -> None:
        started.append(output.name)
        if output.name == "0":
            time.sleep(0.2)  # a failure takes a while too: the run beside it has started
            raise search.SearchError("Pagefind failed: made up for this test")
        output.mkdir(parents=True)
        time.sleep(0.5)  # a run takes a while: the failure is seen before it ends

    monkeypatch.setattr(search, "_run_pagefind", first_fails)
    config = str(sharded_site / "timeline.toml")
    code = main(["build", "-q", "--config", config, "--output", str(sharded_site / "cold")])
    assert code == 1 and "made up for this test" in capsys.readouterr().err
    shards = search.split_into_shards([f"events/e{n}/index.html" for n in range(12)], 3)
    assert len(shards) >= 4 and sorted(started) == ["0", "1"]
    assert not (sharded_site / "cold").exists()


def test_a_missing_pagefind_program_fails_the_build_with_a_message(
    sharded_site: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: Any
) -> None:
    monkeypatch.setattr(search, "_executable", lambda: str(tmp_path / "no-pagefind"))
    monkeypatch.setattr(cli, "default_workers", lambda: 2)  # the error crosses processes
    config = str(sharded_site / "timeline.toml")
    code = main(["build", "-q", "--config", config, "--output", str(sharded_site / "cold")])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    assert (
        "the search indexer (pagefind) could not run: No such file or directory; "
        "is the 'pagefind[bin]' package installed?"
    ) in err
    assert not (sharded_site / "cold").exists()


def test_turning_search_off_drops_the_index_the_spare_still_holds(
    sharded_site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The third build starts from the spare (the first build's output), whose index files
    are the very files of the second's: with search off they must go all the same."""
    _edit_event(sharded_site, 4)
    _build(sharded_site, "output")
    config = sharded_site / "timeline.toml"
    config.write_text(config.read_text("utf-8") + "search = false\n", "utf-8")
    _build(sharded_site, "output")
    assert not (sharded_site / "output" / "pagefind").exists()
    listed = (sharded_site / "output" / ".timeline-manifest").read_text("utf-8")
    assert "pagefind/" not in listed
