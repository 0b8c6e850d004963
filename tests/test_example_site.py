"""The example site, built once by the real CLI: every page there, in order, no broken link."""

from __future__ import annotations

import html
import posixpath
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import yaml

from tests.conftest import REPO

EVENTS = sorted((REPO / "content" / "events").glob("*.md"))
ACTORS = sorted((REPO / "content" / "actors").glob("*.md"))


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value is not None:
                self.links.append(value)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def front_matter(path: Path) -> dict[str, object]:
    """Read with PyYAML's own loader, independent of the generator's reader."""
    data = yaml.load(path.read_text("utf-8").split("---\n")[1], Loader=yaml.BaseLoader)
    assert isinstance(data, dict)
    return data


def date_key(text: str) -> tuple[int, ...]:
    """YYYY[-MM[-DD]] in calendar order, coarser first among equal starts."""
    parts = [int(p) for p in text.split("-")]
    return (*parts, *[1] * (3 - len(parts)), len(parts))


def parse(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text("utf-8"))
    return parser


def test_the_example_is_big_enough() -> None:
    assert len(EVENTS) >= 10
    assert len(ACTORS) >= 12
    url = "https://www.fdd.org/analysis/2023/10/22/russia-pursues-closer-ties-with-iran-china-and-north-korea/"
    for event in EVENTS:
        assert url in event.read_text("utf-8"), event.name


def test_every_event_has_its_page(example_site: Path) -> None:
    for event in EVENTS:
        title = front_matter(event)["title"]
        page = example_site / "events" / event.stem / "index.html"
        assert page.is_file(), event.name
        assert f"<h1>{title}</h1>" in html.unescape(page.read_text("utf-8"))


def test_shoigu_visit_keeps_its_month_precision(example_site: Path) -> None:
    (page,) = (example_site / "events").glob("*shoigu*/index.html")
    text = page.read_text("utf-8")
    assert "September 2023" in text
    assert "1 September 2023" not in text


def test_every_named_actor_has_a_page_with_its_events_in_date_order(example_site: Path) -> None:
    dates = {event.stem: date_key(str(front_matter(event)["date"])) for event in EVENTS}
    named = {str(n) for event in EVENTS for n in front_matter(event)["actors"]}  # type: ignore[attr-defined]
    pages = {p.parent.name: p for p in (example_site / "actors").glob("*/index.html")}
    assert len(pages) >= len(ACTORS)
    headings = {
        html.unescape(page.read_text("utf-8").split("<h1>")[1].split("</h1>")[0]).casefold(): slug
        for slug, page in pages.items()
    }
    for path in ACTORS:
        matter = front_matter(path)
        for alias in [matter["name"], *matter.get("aliases", [])]:  # type: ignore[misc]
            headings[str(alias).casefold()] = path.stem
    for name in named:
        assert name.casefold() in headings, name
        assert headings[name.casefold()] in pages, name
    for actor_page in pages.values():
        links = [link for link in parse(actor_page).links if link.startswith("../../events/")]
        stems = [link.split("/")[3] for link in links]
        assert stems, actor_page
        assert [dates[s] for s in stems] == sorted(dates[s] for s in stems), actor_page
    assert "united-nations-security-council" in pages  # named, but has no file


def test_no_internal_link_is_broken(example_site: Path) -> None:
    pages = list(example_site.rglob("*.html"))
    assert len(pages) > 40
    checked = 0
    for page in pages:
        if page.name == "404.html":
            continue
        for link in parse(page).links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or not parts.path:
                continue
            assert not parts.path.startswith("/"), (page, link)
            target = Path(posixpath.normpath(page.parent / unquote(parts.path)))
            if link.endswith("/"):
                target = target / "index.html"
            assert target.is_file(), (page, link)
            assert target.is_relative_to(example_site), (page, link)
            checked += 1
    assert checked > 500


def test_pages_link_files_not_folders_so_they_work_from_disk(example_site: Path) -> None:
    home = parse(example_site / "index.html")
    internal = [link for link in home.links if not urlsplit(link).scheme]
    assert internal
    assert all(not link.endswith("/") for link in internal)
