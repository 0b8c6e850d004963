"""Atom feed, sitemap, robots.txt and the head tags, read back with an XML parser and an
HTML parser independent of the code that wrote them."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date
from html.parser import HTMLParser

import icalendar
import pytest

from generator.cli import github_annotation
from generator.config import Config
from generator.diagnostics import Diagnostic, Severity
from tests.conftest import MakeSite, run_cli
from tests.helpers import build_files, event

A = "{http://www.w3.org/2005/Atom}"
S = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
BASE = "https://example.org/history/"


def _site(count: int = 3) -> dict[str, str]:
    files = {
        f"content/events/e{i:02d}.md": event(f"Event {i:02d}", f"2023-10-{i:02d}")
        for i in range(1, count + 1)
    }
    files["content/events/ides.md"] = event("Ides of March", "-0044-03-15")
    files["content/events/moon.md"] = event("Moon landing", "1969-07-20T20:17:40Z")
    return files


def test_atom_feed_has_the_required_elements_and_the_latest_events() -> None:
    result = build_files(_site(25), Config(title="History", base_url=BASE))
    assert result.ok, result.diagnostics
    feed = ET.fromstring(result.pages["feed.xml"])
    assert feed.tag == f"{A}feed"
    for name in ("id", "title", "updated", "author/{A}name"):
        assert feed.findtext(f"{A}{name}".replace("{A}", A)), name
    assert feed.findtext(f"{A}id") == BASE
    self_link = feed.find(f"{A}link[@rel='self']")
    assert self_link is not None and self_link.get("href") == BASE + "feed.xml"
    entries = feed.findall(f"{A}entry")
    assert len(entries) == 20  # the latest 20 of 27 events, newest first
    assert [e.findtext(f"{A}title") for e in entries[:2]] == ["Event 25", "Event 24"]
    for entry in entries:
        for name in ("id", "title", "updated"):
            assert entry.findtext(f"{A}{name}"), name
        link = entry.find(f"{A}link")
        assert link is not None and link.get("href", "").startswith(BASE + "events/")
    # updated comes from the content: the latest event, never the clock
    assert feed.findtext(f"{A}updated") == "2023-10-25T00:00:00Z"
    assert entries[0].findtext(f"{A}id") == BASE + "events/e25/"


def test_feed_dates_keep_the_written_offset_and_leave_out_bc_events() -> None:
    result = build_files(_site(1), Config(base_url=BASE))
    feed = ET.fromstring(result.pages["feed.xml"])
    updated = {e.findtext(f"{A}title"): e.findtext(f"{A}updated") for e in feed.iter(f"{A}entry")}
    assert updated == {"Event 01": "2023-10-01T00:00:00Z", "Moon landing": "1969-07-20T20:17:40Z"}


def test_feed_content_links_are_absolute() -> None:
    files = {
        "content/events/a.md": event("A", "2023-01-01"),
        "content/events/b.md": "---\ntitle: B\ndate: 2023-01-02\n---\nSee [A](a.md).\n",
    }
    result = build_files(files, Config(base_url=BASE))
    feed = ET.fromstring(result.pages["feed.xml"])
    content = {e.findtext(f"{A}title"): e.findtext(f"{A}content") for e in feed.iter(f"{A}entry")}
    assert f'href="{BASE}events/a/index.html"' in (content["B"] or "")


def test_an_attribute_written_in_a_body_s_text_is_left_as_written() -> None:
    body = 'Write `<a href="x.html">` and `src="y.png"` with [A](a.md) and '
    body += '![i](../../static/style.css "t>u").\n'
    files = {
        "content/events/a.md": event("A", "2023-01-01"),
        "content/events/b.md": "---\ntitle: B\ndate: 2023-01-02\n---\n" + body,
    }
    result = build_files(files, Config(base_url=BASE))
    assert result.ok, result.diagnostics  # the link check reads no link in the code either
    feed = ET.fromstring(result.pages["feed.xml"])
    content = {e.findtext(f"{A}title"): e.findtext(f"{A}content") for e in feed.iter(f"{A}entry")}
    html = (content["B"] or "").replace("&quot;", '"')
    assert '<code>&lt;a href="x.html"&gt;</code> and <code>src="y.png"</code>' in html
    assert f'href="{BASE}events/a/index.html"' in html
    assert f'src="{BASE}static/style.css"' in html


def test_control_characters_in_a_title_or_a_body_leave_the_feed_well_formed() -> None:
    """A bell (escaped in YAML, or raw in the body) once made feed.xml not XML at all."""
    files = {
        "content/events/a.md": '---\ntitle: "A\\a bell"\ndate: 2023-01-01\n'
        'summary: "Ring\\x0b"\n---\nBody \x07 with \x0b controls.\n',
    }
    result = build_files(files, Config(title="T\x1b", base_url=BASE))
    assert result.ok, result.diagnostics
    feed = ET.fromstring(result.pages["feed.xml"])
    (entry,) = feed.iter(f"{A}entry")
    assert entry.findtext(f"{A}title") == "A bell"
    assert entry.findtext(f"{A}summary") == "Ring"
    assert "Body  with  controls." in (entry.findtext(f"{A}content") or "")
    assert feed.findtext(f"{A}title") == "T"


def test_sitemap_lists_every_page_but_the_404_with_absolute_urls() -> None:
    result = build_files(_site(2), Config(base_url=BASE))
    root = ET.fromstring(result.pages["sitemap.xml"])
    assert root.tag == f"{S}urlset"
    locs = [url.findtext(f"{S}loc") for url in root.findall(f"{S}url")]
    html_pages = sorted(p for p in result.pages if p.endswith(".html") and p != "404.html")
    assert len(locs) == len(html_pages) > 0
    assert BASE in locs and f"{BASE}events/ides/" in locs
    assert all(loc and loc.startswith(BASE) and "index.html" not in loc for loc in locs)
    robots = result.pages["robots.txt"].decode()
    assert robots.splitlines() == ["User-agent: *", "Allow: /", f"Sitemap: {BASE}sitemap.xml"]


def test_without_base_url_there_is_no_feed_sitemap_or_absolute_tag() -> None:
    result = build_files(_site(2))
    assert result.ok, result.diagnostics  # the build's link check still passes
    assert "feed.xml" not in result.pages and "sitemap.xml" not in result.pages
    assert "Sitemap" not in result.pages["robots.txt"].decode()
    page = result.pages["events/e01/index.html"].decode()
    assert "canonical" not in page and "og:" not in page and "feed.xml" not in page


class _Head(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}
        self.links: dict[str, str] = {}
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "meta":
            self.meta[a.get("property") or a.get("name", "")] = a.get("content", "")
        elif tag == "link":
            self.links[a.get("rel", "")] = a.get("href", "")
        self._in_title = tag == "title"

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data

    def handle_endtag(self, tag: str) -> None:
        self._in_title = False


def _head(data: bytes) -> _Head:
    parser = _Head()
    parser.feed(data.decode("utf-8"))
    return parser


def test_event_pages_have_title_description_canonical_and_open_graph_tags() -> None:
    files = {"content/events/a.md": event("Talks & more", "2023-01-01", summary="Short <b>.")}
    result = build_files(files, Config(title="History", base_url="https://example.org/sub"))
    head = _head(result.pages["events/a/index.html"])
    url = "https://example.org/sub/events/a/"
    assert head.title == "Talks & more · History"
    assert head.meta["description"] == "Short <b>."
    assert head.links["canonical"] == url
    assert head.links["alternate"] == "../../feed.xml"  # relative, like every internal link
    assert (head.meta["og:type"], head.meta["og:url"]) == ("article", url)
    assert head.meta["og:title"] == "Talks & more · History"
    assert head.meta["og:description"] == "Short <b>."
    home = _head(result.pages["index.html"])
    assert (home.links["canonical"], home.meta["og:type"]) == (
        "https://example.org/sub/",
        "website",
    )
    assert "canonical" not in _head(result.pages["404.html"]).links


def test_build_says_what_the_exports_left_out(site: MakeSite) -> None:
    root = site(
        {
            "content/events/a.md": event("A", "2023-10"),
            "content/events/b.md": event("B", "2023"),
            "content/events/c.md": event("C", "12023-01-01"),  # beyond RFC 5545's years
            # in year 10000 in UTC: once a traceback (OverflowError)
            "content/events/d.md": event("D", "9999-12-31T23:30-05:00"),
            "content/events/e.md": event("E", "9999-12-31"),  # no day after it for DTEND
        }
    )
    result = run_cli("build", cwd=root)
    assert result.code == 0, result.err
    notes = result.err.splitlines()
    assert notes[0].startswith("Note: no base_url, so feed.xml and sitemap.xml")
    assert notes[1] == (
        "Note: events.ics leaves out 4 events with no day (or a year outside AD 1-9999 in "
        "UTC): content/events/b.md, content/events/a.md, content/events/d.md ..."
    )
    calendar = icalendar.Calendar.from_ical((root / "output" / "events.ics").read_bytes())
    (last,) = calendar.walk("VEVENT")  # one day long without DTEND (RFC 5545, 3.6.1)
    assert (last.decoded("DTSTART"), last.get("DTEND")) == (date(9999, 12, 31), None)
    with_url = run_cli("build", "--base-url", BASE, cwd=root)
    assert "feed.xml" not in with_url.err
    assert (root / "output" / "feed.xml").is_file() and (root / "output" / "sitemap.xml").is_file()


def test_check_writes_github_annotations_when_run_in_github_actions(
    site: MakeSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = site({"content/events/bad.md": "---\ntitle: Bad\ndate: 2023-02-30\n---\n"})
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    result = run_cli("check", cwd=root)
    assert result.code == 1
    assert result.out.splitlines() == [
        "::error file=content/events/bad.md,line=3::bad 'date': February 2023 has no day 30 "
        "(it has 28)"
    ]
    assert "content/events/bad.md:3: bad 'date'" in result.err  # the plain line stays
    monkeypatch.setenv("GITHUB_ACTIONS", "false")
    assert run_cli("check", cwd=root).out == ""


def test_annotations_escape_what_workflow_commands_would_misread() -> None:
    d = Diagnostic("a,b:c%.md", 0, "50% done\nnext line", Severity.WARNING)
    assert github_annotation(d) == "::warning file=a%2Cb%3Ac%25.md::50%25 done%0Anext line"
