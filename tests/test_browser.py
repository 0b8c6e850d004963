"""The example site in Debian's chromium, as a reader meets it, opened from disk.

Screenshots go to artifacts/screenshots/ (git-ignored) for people to look at; axe-core
(installed by `make test` into tests/.node/) checks accessibility in the page itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, event_file, run_cli
from tests.static_server import serve_folder

pytestmark = pytest.mark.browser

AXE = REPO / "tests" / ".node" / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = REPO / "artifacts" / "screenshots"


@pytest.fixture
def page(browser_context: Any) -> Iterator[Any]:
    page = browser_context.new_page()
    page.problems = []
    page.on("console", lambda m: m.type in ("error", "warning") and page.problems.append(m.text))
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    yield page
    page.close()


@pytest.fixture(scope="module")
def served(example_site: Path) -> Iterator[str]:
    """The example site over http on 127.0.0.1, as a host serves it (axe fetches the
    stylesheets, which browsers refuse from file:// pages)."""
    with serve_folder(example_site) as base:
        yield base


def visible_cards(page: Any) -> list[Any]:
    cards = page.locator(".card:visible")
    return [cards.nth(i) for i in range(cards.count())]


def test_home_renders_without_console_errors(page: Any, example_site: Path) -> None:
    page.goto((example_site / "index.html").as_uri())
    assert page.locator("h1").first.inner_text().startswith("Russia, Iran")
    assert page.locator(".card").count() == 13
    assert page.locator(".card.span").count() == 2  # the two ranges are drawn as spans
    assert page.locator(".card.circa .when").first.inner_text().startswith("c. ")
    assert page.problems == []


def test_actor_filter_shows_only_that_actor_and_lives_in_the_url(
    page: Any, example_site: Path
) -> None:
    page.goto((example_site / "index.html").as_uri())
    total = page.locator(".card").count()
    lavrov = page.locator('.filter[data-filter="actor"] a[data-value="sergei-lavrov"]')
    lavrov.click()
    assert page.url.endswith("?actor=sergei-lavrov")
    shown = visible_cards(page)
    assert 0 < len(shown) < total
    assert all("sergei-lavrov" in c.get_attribute("data-actors").split() for c in shown)
    assert page.locator(".filter-status").inner_text().startswith(f"{len(shown)} of {total}")
    page.reload()
    assert len(visible_cards(page)) == len(shown)
    assert lavrov.get_attribute("aria-current") == "true"
    # Choosing it again clears the filter.
    lavrov.click()
    assert "?" not in page.url and len(visible_cards(page)) == total
    assert page.problems == []


def test_filters_combine_and_work_from_the_keyboard(page: Any, example_site: Path) -> None:
    page.goto((example_site / "index.html").as_uri())
    iran = page.locator('.filter[data-filter="actor"] a[data-value="iran"]')
    iran.focus()
    page.keyboard.press("Enter")
    page.locator('.filter[data-filter="place"] a[data-value="tehran"]').focus()
    page.keyboard.press("Enter")
    assert page.url.endswith("?actor=iran&place=tehran")
    shown = visible_cards(page)
    assert shown, "Iran and Tehran share events in the example"
    for card in shown:
        assert "iran" in card.get_attribute("data-actors").split()
        assert "tehran" in card.get_attribute("data-places").split()
    page.go_back()
    assert page.url.endswith("?actor=iran")
    assert all("iran" in c.get_attribute("data-actors").split() for c in visible_cards(page))
    page.locator(".filter-status .clear").click()
    assert "?" not in page.url and len(visible_cards(page)) == page.locator(".card").count()


def test_navigation_event_actor_event(page: Any, example_site: Path) -> None:
    page.goto((example_site / "index.html").as_uri())
    page.locator(".card-title a", has_text="Shoigu").click()
    assert page.locator("h1").inner_text().startswith("Shoigu tours")
    assert "September 2023" in page.locator(".when").first.inner_text()
    page.locator(".facts a", has_text="Sergei Shoigu").click()
    assert page.locator("h1").inner_text() == "Sergei Shoigu"
    page.locator(".card-title a").first.click()
    assert page.locator("h1").inner_text().startswith("Shoigu tours")
    assert page.problems == []


def test_network_nodes_link_to_actors(page: Any, example_site: Path) -> None:
    page.goto((example_site / "network" / "index.html").as_uri())
    node = page.locator(".network svg a", has_text="Sergei Lavrov")
    assert node.get_attribute("aria-label").startswith("Sergei Lavrov, ")
    node.click()
    assert page.locator("h1").inner_text() == "Sergei Lavrov"
    assert page.problems == []


PAGES = {
    "home": "index.html",
    "event": "events/2023-10-19-lavrov-in-north-korea-warns-of-escalation/index.html",
    "actor": "actors/sergei-lavrov/index.html",
    "network": "network/index.html",
}


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("name", sorted(PAGES))
def test_no_serious_accessibility_violation(page: Any, served: str, name: str, scheme: str) -> None:
    assert AXE.is_file(), "axe-core is missing: run `make test` (it installs it)"
    page.emulate_media(color_scheme=scheme)
    page.goto(served + PAGES[name])
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate("async () => (await axe.run(document)).violations")
    serious = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == []
    assert page.problems == []


@pytest.mark.parametrize("width", [375, 1280])
@pytest.mark.parametrize("name", sorted(PAGES))
def test_screenshots_without_sideways_scrolling(
    page: Any, example_site: Path, name: str, width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    page.goto((example_site / PAGES[name]).as_uri())
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    SHOTS.mkdir(parents=True, exist_ok=True)
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        page.screenshot(path=SHOTS / f"{name}-{width}-{scheme}.png", full_page=True)
    assert (SHOTS / f"{name}-{width}-light.png").stat().st_size > 10_000


WIDE_BODY = """A body with what authors paste in.

![A wide map](/images/wide.svg)

| Column one | Column two | Column three | Column four | Column five | Column six |
|:--|--:|:-:|---|---|---|
| averyveryverylongwordindeed | 12 | centred | more text here | and here | and here too |

    a_code_line_that_goes_on_and_on_without_a_space_to_break_it_at_all_for_a_very_long_way()

> A quotation with `code` in it.[^1]

[^1]: A note.
"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_a_body_s_images_tables_and_code_fit_a_phone(page: Any, site: Any, scheme: str) -> None:
    wide = '<svg xmlns="http://www.w3.org/2000/svg" width="2400" height="300"></svg>'
    root = site(
        {
            "content/events/wide.md": event_file("Wide things", "2023-06-14", WIDE_BODY),
            "static/images/wide.svg": wide,
        }
    )
    assert run_cli("build", "--quiet", cwd=root).code == 0
    page.set_viewport_size({"width": 375, "height": 800})
    page.emulate_media(color_scheme=scheme)
    with serve_folder(root / "output") as base:
        page.goto(base + "events/wide/index.html")
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        image = page.evaluate("document.querySelector('.body img').getBoundingClientRect().width")
        assert 0 < image <= 375
        aligned = page.evaluate(
            "[...document.querySelectorAll('.body th')].map(c => getComputedStyle(c).textAlign)"
        )
        assert aligned[:3] == ["left", "right", "center"]
        assert page.locator(".facts").count() == 0  # no actors, places or tags: no empty box
        page.add_script_tag(path=str(AXE))
        violations = page.evaluate("async () => (await axe.run(document)).violations")
    assert [v["id"] for v in violations if v["impact"] in ("serious", "critical")] == []
    assert page.problems == []
