"""The example site in Debian's chromium, as a reader meets it, opened from disk."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser


@pytest.fixture
def page(browser_context: Any) -> Iterator[Any]:
    page = browser_context.new_page()
    page.problems = []
    page.on("console", lambda m: m.type in ("error", "warning") and page.problems.append(m.text))
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    yield page
    page.close()


def test_home_renders_without_console_errors(page: Any, example_site: Path) -> None:
    page.goto((example_site / "index.html").as_uri())
    assert page.locator("h1").first.inner_text().startswith("Russia, Iran")
    assert page.locator(".card").count() >= 10
    assert page.problems == []


def test_actor_filter_shows_only_that_actor_and_lives_in_the_url(
    page: Any, example_site: Path
) -> None:
    page.goto((example_site / "index.html").as_uri())
    total = page.locator(".card").count()
    page.locator('.filter[data-filter="actor"] a[data-value="sergei-lavrov"]').click()
    assert page.url.endswith("?actor=sergei-lavrov")
    visible = page.locator(".card:visible")
    assert 0 < visible.count() < total
    for i in range(visible.count()):
        assert "sergei-lavrov" in visible.nth(i).get_attribute("data-actors").split()
    page.reload()
    assert page.locator(".card:visible").count() == visible.count()
    assert page.locator('a[data-value="sergei-lavrov"]').get_attribute("aria-pressed") == "true"
    assert page.problems == []


def test_navigation_event_actor_event(page: Any, example_site: Path) -> None:
    page.goto((example_site / "index.html").as_uri())
    page.locator(".card h3 a", has_text="Shoigu").click()
    assert page.locator("h1").inner_text().startswith("Shoigu tours")
    assert "September 2023" in page.locator(".when").first.inner_text()
    page.locator(".facts a", has_text="Sergei Shoigu").click()
    assert page.locator("h1").inner_text() == "Sergei Shoigu"
    page.locator(".card h3 a").first.click()
    assert page.locator("h1").inner_text().startswith("Shoigu tours")
    assert page.problems == []
