"""The build's own link check."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from generator.dates import PartialDate
from generator.linkcheck import _UNCHECKED, _attribute, _target, broken_links
from generator.model import Event
from generator.parallel import MIN_ITEMS
from tests.helpers import build_files, event

A = Event("a", "A", PartialDate(2023), "a.md")  # its body is empty: its links have no line


def messages(pages: dict[str, bytes], site_root: str = "/") -> list[str]:
    return [d.format() for d in broken_links(pages, {"events/a/index.html": A}, site_root)]


def test_good_links_pass() -> None:
    pages = {
        "index.html": b'<a href="events/a/index.html">a</a> <a href="https://x.org/">x</a> '
        b'<a href="#top">t</a> <a href="mailto:x@y.z">m</a> <img src="static/i.png">',
        "events/a/index.html": b'<a href="../../index.html">home</a> <a href="../../">root</a>'
        b" <a href='../b/index.html#part'>b</a>",
        "events/b/index.html": b"",
        "static/i.png": b"",
        "404.html": b'<a href="/sub/index.html">home</a>',
    }
    assert messages(pages, "/sub/") == []


def test_broken_links_are_grouped_by_target_and_name_the_source() -> None:
    pages = {
        "index.html": b'<a href="events/gone/index.html">x</a>',
        "events/a/index.html": b'<a href="../gone/index.html">x</a> <a href="/abs.html">y</a>'
        b' <a href="../../../outside.html">z</a>',
    }
    assert messages(pages) == [
        "a.md: broken link: events/a/index.html links to '../../../outside.html', "
        "but the site has no ../../../outside.html",
        "a.md: broken link: events/a/index.html links to '/abs.html', but the site has no "
        "/abs.html",
        "a.md: broken link: events/a/index.html links to '../gone/index.html' (and 1 more), "
        "but the site has no events/gone/index.html",
    ]


def test_a_link_from_the_server_s_root_to_a_file_of_the_site_says_how_to_write_it() -> None:
    pages = {
        "index.html": b'<a href="/">home</a>',
        "events/a/index.html": b'<img src="/static/i.png"> <a href="/tags/">t</a>'
        b' <a href="/tags/">again</a>',
        "tags/index.html": b"",
        "static/i.png": b"",
    }
    root = "from the server's root, which is not the site's when the site is served from a "
    root += "sub-path or opened from disk; link relative to the page, as "
    tail = " (in a template, url() makes such links)"
    assert messages(pages) == [
        f"index.html: broken link: index.html links to '/' {root}'./'{tail}",
        f"a.md: broken link: events/a/index.html links to '/static/i.png' {root}"
        f"'../../static/i.png'{tail}",
        f"a.md: broken link: events/a/index.html links to '/tags/' (and 1 more) {root}"
        f"'../../tags/'{tail}",
    ]


def test_a_body_s_link_to_a_file_beside_it_says_where_files_go() -> None:
    pages = {
        "events/a/index.html": b'<img src="photo.png"> <a href="./files/r.pdf">r</a>'
        b' <a href="other.html">o</a> <a href="../../gone/">g</a>',
        "index.html": b'<img src="logo.png">',  # a template's: no body, no such advice
    }
    beside = "a file beside a Markdown file is not published; put it in static/"
    assert messages(pages) == [  # by target
        f"a.md: broken link: events/a/index.html links to './files/r.pdf', but the site has "
        f"no events/a/files/r.pdf: {beside} (static/files/r.pdf) and link it from the "
        "site's root, as '/files/r.pdf'",
        "a.md: broken link: events/a/index.html links to 'other.html', but the site has no "
        "events/a/other.html",
        f"a.md: broken link: events/a/index.html links to 'photo.png', but the site has no "
        f"events/a/photo.png: {beside} (static/photo.png) and link it from the site's root, "
        "as '/photo.png'",
        "a.md: broken link: events/a/index.html links to '../../gone/', but the site has no "
        "gone/index.html",
        "index.html: broken link: index.html links to 'logo.png', but the site has no logo.png",
    ]


def test_only_the_links_of_tags_are_links() -> None:
    pages = {
        "index.html": b"<pre><code>&lt;a href=\"gone.html\"&gt; src='gone.png'</code></pre>"
        b' <p>href="gone.html"</p> <a title="1 > 0" class=\'x\' href="missing.html">x</a>'
        b' <img alt="a \'b\' > c" src="missing.png">',
    }
    assert messages(pages) == [
        "index.html: broken link: index.html links to 'missing.html', "
        "but the site has no missing.html",
        "index.html: broken link: index.html links to 'missing.png', "
        "but the site has no missing.png",
    ]


def test_the_same_link_from_other_folders_leads_elsewhere() -> None:
    pages = {
        "index.html": b'<a href="x.html">x</a>',
        "0/index.html": b'<a href="x.html">x</a> <a href="../x.html">x</a>',
        "events/a/index.html": b'<a href="x.html">x</a> <a href="../../x.html">x</a>',
        "events/b/index.html": b'<a href="x.html">x</a> <a href="../../x.html">x</a>',
        "x.html": b"",
        "events/a/x.html": b"",
    }
    assert messages(pages) == [
        "0/index.html: broken link: 0/index.html links to 'x.html', but the site has no 0/x.html",
        "events/b/index.html: broken link: events/b/index.html links to 'x.html', "
        "but the site has no events/b/x.html",
    ]


def test_workers_count_every_link_to_a_missing_page() -> None:
    pages = {f"p{i}/index.html": b'<a href="../gone.html">g</a>' * 2 for i in range(MIN_ITEMS)}
    one = broken_links(pages, {}, workers=1)
    assert [d.message for d in broken_links(pages, {}, workers=2)] == [d.message for d in one]
    assert [d.message for d in one] == [
        f"broken link: p0/index.html links to '../gone.html' (and {2 * MIN_ITEMS - 1} more), "
        "but the site has no gone.html"
    ]


def test_a_body_s_broken_link_names_the_line_that_writes_it() -> None:
    body = (
        "First, x marks no link, nor does a=x.y or 'x-ray'.\n\n"  # 'x' links only later
        "Second [gone](missing/page.html) here.\n\n"
        "Third <img src=x> and <a href='a&amp;b.html'>raw</a>.\n\n"
        "[ref]: refs/gone.html\n\nFourth [ref] too.\n"
    )
    actor = "---\nname: Ann\n---\nSee [her papers](papers/ann.pdf).\n"
    files = {
        "content/events/a.md": event("A", "2023", actors="[Ann]") + body,
        "content/actors/ann.md": actor,
    }
    result = build_files(files)
    # The event's body starts at line 6, after its front matter and "About A.".
    assert [
        (d.path, d.line, d.message.split(" links to ")[1][:20]) for d in result.diagnostics
    ] == [
        ("content/actors/ann.md", 4, "'papers/ann.pdf', bu"),
        ("content/events/a.md", 9, "'missing/page.html',"),
        ("content/events/a.md", 11, "'a&b.html', but the "),
        ("content/events/a.md", 11, "'x', but the site ha"),
        ("content/events/a.md", 13, "'refs/gone.html', bu"),
    ]


def test_a_broken_link_the_theme_made_has_no_line() -> None:
    files = {"content/events/a.md": event("A", "2023") + "Nothing links to nowhere.html here.\n"}
    result = build_files(files, templates={"event.html": '<a href="nowhere.html">x</a>'})
    assert [(d.path, d.line) for d in result.diagnostics] == [("content/events/a.md", 0)]


def test_a_link_is_read_as_the_browser_reads_its_attribute() -> None:
    pages = {
        "index.html": b'<a href="a&amp;b.txt">x</a> <a href="c&amp;d.txt">y</a>',
        "a&b.txt": b"",
    }
    assert messages(pages) == [
        "index.html: broken link: index.html links to 'c&d.txt', but the site has no c&d.txt"
    ]


@given(st.binary(max_size=16), st.sampled_from(["https://", "http:", "mailto:", "#", "HTTPS://"]))
@example(b"[::1", "https://")
@example(b"x&#91;y", "https://")
@example(b"\xe2\x84\x80.org", "https://")
def test_the_links_left_unchecked_lead_to_no_file_from_any_page(tail: bytes, start: str) -> None:
    """The check skips links matching _UNCHECKED without resolving them: each must be one
    _target finds leads to no file of the site, from any page."""
    raw = start.encode() + tail
    if _UNCHECKED.match(raw):
        for page in ("index.html", "events/a/index.html", "404.html"):
            assert _target(page, _attribute(raw), "/sub/") is None


@pytest.mark.parametrize("link", ["https://[x/a.html", "https://x&#91;y/", "https://\u2100.org/"])
def test_an_absolute_link_that_cannot_be_read_is_reported(link: str) -> None:
    pages = {"index.html": f'<a href="{link}">x</a>'.encode()}
    assert messages(pages) and link.split(":")[0] in messages(pages)[0]
