"""The default theme: headings, ranges, pagination, the actor network, and page size
budgets of a 10,000-event site."""

from __future__ import annotations

import itertools
import random
import re
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest

from generator.build import BuildResult, build
from generator.config import Config, parse_config
from generator.model import Timeline
from generator.network import build_network, circle_order, co_appearances
from tests.helpers import build_files, event

E = "content/events/"


class _Headings(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.levels: list[int] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if re.fullmatch(r"h[1-6]", tag):
            self.levels.append(int(tag[1]))


def heading_levels(html: bytes) -> list[int]:
    parser = _Headings()
    parser.feed(html.decode("utf-8"))
    return parser.levels


def assert_headings_in_order(path: str, html: bytes) -> None:
    levels = heading_levels(html)
    assert levels[:1] == [1], f"{path}: the first heading is not an h1: {levels}"
    assert levels.count(1) == 1, f"{path}: more than one h1"
    for before, after in itertools.pairwise(levels):
        assert after <= before + 1, f"{path}: h{before} is followed by h{after}"


@pytest.fixture(scope="module")
def example() -> BuildResult:
    from generator.sources import load_sources
    from tests.conftest import REPO

    config, problems = parse_config((REPO / "timeline.toml").read_text("utf-8"))
    sources, found = load_sources(REPO, config)
    assert problems == found == []
    result = build(config, sources)
    assert result.ok, result.diagnostics
    return result


def test_every_page_of_the_example_has_headings_in_order(example: BuildResult) -> None:
    pages = [p for p in example.pages if p.endswith(".html")]
    assert "network/index.html" in pages and len(pages) > 40
    for path in pages:
        assert_headings_in_order(path, example.pages[path])


def test_cards_show_ranges_as_spans_and_circa_dates_as_approximate(
    example: BuildResult,
) -> None:
    home = example.pages["index.html"].decode()
    card = home.split('<article class="card circa span"')[1].split("</article>")[0]
    assert "c. 2012 – 2023" in card and "approximate" in card
    assert '<span class="duration" title="Lasted 12 years">12 years</span>' in card
    assert "19 months" in home  # April 2022 to October 2023


def test_durations_are_counted_in_the_unit_of_the_dates() -> None:
    result = build_files(
        {
            E + "a.md": event("Days", "2023-10-17", end="2023-10-19"),
            E + "b.md": event("One day", "2023-10-17", end="2023-10-17"),
            E + "c.md": event("Years", "1914", end="1918"),
        }
    )
    home = result.pages["index.html"].decode()
    assert ">3 days</span>" in home and ">5 years</span>" in home
    assert home.count('class="duration"') == 2  # a range of one day is no span


def test_long_lists_are_paginated_with_links_between_pages() -> None:
    config, _ = parse_config("page_size = 10\n")
    files = {
        f"{E}e{i:02d}.md": event(f"E{i}", f"2020-01-{i + 1:02d}", tags="[t]") for i in range(25)
    }
    result = build_files(files, config)
    assert result.ok, result.diagnostics
    pages = result.pages
    for base in ("tags/t/", "years/2020/"):
        assert {f"{base}index.html", f"{base}page/2/index.html", f"{base}page/3/index.html"} <= set(
            pages
        )
        assert f"{base}page/4/index.html" not in pages
        first, last = (
            pages[f"{base}index.html"].decode(),
            pages[f"{base}page/3/index.html"].decode(),
        )
        assert first.count('<article class="card') == 10 and last.count('<article class="card') == 5
        assert f'rel="next" href="../../{base}page/2/index.html"' in first
        assert f'rel="prev" href="../../../../{base}page/2/index.html"' in last
        assert 'aria-current="page">3<' in last
    # A page holding every event filters in place; one page of many only links onward.
    assert "data-filterable" not in pages["years/2020/index.html"].decode()
    small = build_files({E + "a.md": event("A", "2023", tags="[t]")})
    assert "data-filterable" in small.pages["years/2023/index.html"].decode()
    assert "data-filterable" in small.pages["index.html"].decode()


def _linked(events: dict[str, list[str]]) -> Timeline:
    result = build_files(
        {
            f"{E}{slug}.md": event(slug, "2023", actors=f"[{', '.join(cast)}]")
            for slug, cast in events.items()
        }
    )
    assert result.timeline is not None
    return result.timeline


def test_network_counts_co_appearances_and_keeps_the_most_connected() -> None:
    timeline = _linked(
        {"a": ["Ann", "Bob", "Cy"], "b": ["Ann", "Bob"], "c": ["Dee"], "d": ["Cy", "Eve"]}
    )
    pairs = co_appearances(timeline)
    assert pairs == {("ann", "bob"): 2, ("ann", "cy"): 1, ("bob", "cy"): 1, ("cy", "eve"): 1}
    net = build_network(timeline, node_limit=3)
    assert net.nodes[0].term.slug == "ann"  # most connected first, at the top
    assert {n.term.slug for n in net.nodes} == {"ann", "bob", "cy"}  # Dee has no partner
    assert net.actors == 4
    assert [(e.a.slug, e.b.slug, e.count) for e in net.edges] == [
        ("ann", "bob", 2),
        ("ann", "cy", 1),
        ("bob", "cy", 1),
    ]
    assert net.edges[0].width > net.edges[1].width
    assert net == build_network(timeline, node_limit=3)


def test_circle_order_puts_partners_side_by_side() -> None:
    pairs = {("a", "x"): 5, ("b", "y"): 5, ("a", "b"): 1}
    order = circle_order(["a", "b", "x", "y"], pairs)
    assert order == ["a", "x", "b", "y"]


def test_network_page_links_every_node_and_lists_the_pairs(example: BuildResult) -> None:
    page = example.pages["network/index.html"].decode()
    svg = page.split("<svg")[1].split("</svg>")[0]
    nodes = re.findall(r'<a href="\.\./actors/([^/]+)/index\.html" aria-label="([^"]+)"', svg)
    assert ("sergei-lavrov", "Sergei Lavrov, 3 events") in nodes
    assert "<script" not in page.split("</main>")[0]  # no JavaScript needed to see it
    table = page.split('<table class="pairs">')[1]
    assert table.count("<tr>") - 1 == svg.count("<path ")  # one row per line drawn
    assert (
        '<a href="../../network/index.html">Network</a>'
        in example.pages["events/2023-10-07-hamas-attacks-israel/index.html"].decode()
    )


def synthetic_site(root: Path, n: int, seed: int = 7) -> None:
    """A site of ``n`` events with skew a real archive has: one actor, tag and place in
    every event, a third of the events in one year; the rest spread over 60 years."""
    rng = random.Random(seed)
    (root / "content" / "events").mkdir(parents=True)
    (root / "timeline.toml").write_text('title = "Ten thousand"\n', "utf-8")
    actors = [f"Actor {i}" for i in range(400)]
    for i in range(n):
        year = 1990 if i % 3 == 0 else 1960 + rng.randrange(60)
        date = f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        cast = ", ".join(["Everyone", *rng.sample(actors, rng.randint(1, 3))])
        text = (
            f"---\ntitle: Event {i} of a long archive\ndate: {date}\n"
            f"actors: [{cast}]\ntags: [common, topic {i % 30}]\nplaces: [Everywhere]\n"
            f"summary: A summary of event {i}, one sentence long as a card shows it.\n"
            f"---\nThe body of event {i}.\n"
        )
        (root / "content" / "events" / f"e{i:05d}.md").write_text(text, "utf-8")


@pytest.mark.slow
def test_ten_thousand_events_keep_every_page_small(tmp_path: Path) -> None:
    from generator.sources import load_sources

    synthetic_site(tmp_path, 10_000)
    config = Config(title="Ten thousand")
    sources, problems = load_sources(tmp_path, config)
    assert problems == []
    started = time.perf_counter()
    result = build(config, sources)
    elapsed = time.perf_counter() - started
    assert result.ok, result.diagnostics[:5]
    sizes = {path: len(data) for path, data in result.pages.items() if path.endswith(".html")}
    biggest = max(sizes, key=sizes.__getitem__)
    print(
        f"10,000 events: built in {elapsed:.1f} s, {len(sizes)} pages, "
        f"home {sizes['index.html']} bytes, biggest {biggest} {sizes[biggest]} bytes"
    )
    assert sizes["index.html"] < 300_000
    assert sizes[biggest] < 1_000_000
    home = result.pages["index.html"].decode()
    assert "years/1990/index.html" in home and "Latest events" in home
    # The actor in every event, the tag and the place are split into pages of 100.
    for base in ("actors/everyone/", "tags/common/", "places/everywhere/"):
        assert f"{base}page/100/index.html" in sizes and f"{base}page/101/index.html" not in sizes
    assert "years/1990/page/34/index.html" in sizes
    assert sizes["network/index.html"] < 300_000
