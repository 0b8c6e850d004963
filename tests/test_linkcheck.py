"""The build's own link check."""

from __future__ import annotations

from generator.linkcheck import broken_links


def messages(pages: dict[str, bytes], site_root: str = "/") -> list[str]:
    return [d.format() for d in broken_links(pages, {"events/a/index.html": "a.md"}, site_root)]


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
