"""Full-text search in the browser: the example site, served from a sub-path by a plain
static server, finds an event by a word of its body; opened from disk, the search box
stays out of the way without console errors."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import REPO, MakeSite, run_cli
from tests.static_server import serve_folder

EVENTS = sorted((REPO / "content" / "events").glob("*.md"))


def _body_word() -> tuple[str, str]:
    """A word found in the body of exactly one example event, and that event's slug."""
    texts = {p.stem: p.read_text("utf-8").lower() for p in EVENTS}
    for path in EVENTS:
        body = path.read_text("utf-8").split("\n---\n", 1)[1]
        for word in sorted(set(re.findall(r"[a-z]{8,}", body.lower()))):
            if sum(word in text for text in texts.values()) == 1:
                return word, path.stem
    raise AssertionError("no event has a word of its own")


def _errors(page: object, errors: list[str]) -> None:
    from playwright.sync_api import ConsoleMessage, Page

    assert isinstance(page, Page)

    def console(message: ConsoleMessage) -> None:
        if message.type == "error" and "favicon.ico" not in message.location.get("url", ""):
            errors.append(message.text)

    page.on("console", console)
    page.on("pageerror", lambda e: errors.append(str(e)))


@pytest.mark.browser
def test_typing_a_word_of_an_event_body_lists_that_event(
    example_site: Path, tmp_path: Path, browser_context: object
) -> None:
    from playwright.sync_api import BrowserContext

    assert isinstance(browser_context, BrowserContext)
    word, slug = _body_word()
    assert (example_site / "pagefind" / "pagefind.js").is_file()
    www = tmp_path / "www"
    (www / "some").mkdir(parents=True)
    (www / "some" / "path").symlink_to(example_site)  # served from a sub-path
    page = browser_context.new_page()
    errors: list[str] = []
    _errors(page, errors)
    try:
        with serve_folder(www) as root:
            page.goto(f"{root}some/path/years/2023/index.html")
            box = page.get_by_role("searchbox", name="Search events")
            box.fill(word)
            result = page.locator(f".search-results a[href$='/events/{slug}/']")
            result.wait_for(timeout=15_000)
            href = result.get_attribute("href")
            result.click()
            page.wait_for_url(f"{root}some/path/events/{slug}/", timeout=10_000)
            heading = page.locator("h1").inner_text()
            box = page.get_by_role("searchbox", name="Search events")
            box.fill("zzzzqqqq")
            page.get_by_text("No event matches").wait_for(timeout=15_000)
    finally:
        page.close()
    assert href == f"/some/path/events/{slug}/"
    assert heading and heading.lower() != word
    assert errors == []


@pytest.mark.browser
def test_from_disk_the_search_box_stays_hidden_without_errors(
    example_site: Path, browser_context: object
) -> None:
    from playwright.sync_api import BrowserContext

    assert isinstance(browser_context, BrowserContext)
    page = browser_context.new_page()
    errors: list[str] = []
    _errors(page, errors)
    try:
        page.goto((example_site / "index.html").as_uri())
        page.wait_for_load_state("load")
        hidden = page.locator("form.search").is_hidden()
        title = page.locator("h1").inner_text()
    finally:
        page.close()
    assert hidden and title
    assert errors == []


def test_only_event_pages_are_indexed(example_site: Path) -> None:
    index = example_site / "pagefind"
    names = {p.name for p in index.iterdir()}
    assert "pagefind.js" in names and "pagefind-entry.json" in names
    assert not any(n.startswith("pagefind-ui") for n in names)  # the theme has its own box
    fragments = list((index / "fragment").iterdir())
    assert len(fragments) == len(EVENTS)  # one record per event page, none for the others


def test_a_site_without_events_builds_without_an_index(site: Callable[..., Path]) -> None:
    root = site({"content/events/.keep": ""})
    result = run_cli("build", "-q", cwd=root)
    assert result.code == 0, result.err
    assert (root / "output" / "index.html").is_file()
    assert not (root / "output" / "pagefind").exists()


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
