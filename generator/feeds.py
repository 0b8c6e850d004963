"""The pages that tell machines about the site: the Atom feed, the sitemap and robots.txt.

Feeds and sitemaps must name absolute URLs, so they are written only when the site has a
``base_url``. Everything here is computed from the timeline and the pages; nothing reads
the clock, so the same sources give the same bytes.
"""

from __future__ import annotations

import functools
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from urllib.parse import urljoin

from generator.config import Config
from generator.dates import PartialDate, Precision
from generator.linkcheck import LINK_IN_TAG
from generator.model import Event, Timeline

FEED_ENTRIES = 20
ATOM = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
SITEMAP = "http://www.sitemaps.org/schemas/sitemap/0.9"
NOT_IN_SITEMAP = ("404.html",)
# The links of start tags only, as the link check reads them (see LINK_IN_TAG).
_LINK_ATTRIBUTE = re.compile("(" + LINK_IN_TAG + r'\s*")([^"]*)(")')
# Everything but XML 1.0's characters (its production "Char").
_NOT_XML = re.compile(r"[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def site_url(base_url: str, path: str = "") -> str:
    """The absolute URL of an output path; ``events/x/index.html`` -> ``.../events/x/``."""
    if path == "index.html" or path.endswith("/index.html"):
        path = path[: -len("index.html")]
    return urljoin(base_url.rstrip("/") + "/", path)


def event_path(event: Event) -> str:
    return f"events/{event.slug}/index.html"


def absolute_links(html: str, page_url: str) -> str:
    """Resolve the relative links of a rendered body against its page's URL, so the body
    reads the same in a feed reader or an embed as on the page itself."""
    return _LINK_ATTRIBUTE.sub(lambda m: m[1] + urljoin(page_url, m[2]) + m[3], html)


def instant(date: PartialDate, zone: tzinfo) -> datetime | None:
    """The first instant of ``date`` as an aware datetime (UTC when no time was given), or
    None when Python cannot hold the year (before AD 1 or after 9999)."""
    if not 1 <= date.year <= 9999:
        return None
    if date.precision < Precision.MINUTE:
        return datetime(date.year, date.month, date.day, tzinfo=UTC)
    written = zone if date.offset is None else timezone(timedelta(minutes=date.offset))
    return datetime(
        date.year, date.month, date.day, date.hour, date.minute, date.second, tzinfo=written
    )


def rfc3339(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def feed_xml(config: Config, timeline: Timeline, bodies: Mapping[str, str], zone: tzinfo) -> bytes:
    """An Atom feed of the latest events by date (RFC 4287). Its ``updated`` is the date of
    the latest event, never the time of the build. Events Atom cannot date (BC years) are
    left out."""
    dated = [(e, instant(e.date, zone)) for e in timeline.events]
    latest = [(e, when) for e, when in dated if when is not None][-FEED_ENTRIES:][::-1]
    home = site_url(config.base_url)
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed", {XML_LANG: config.language})
    _add(feed, "title", config.title)
    if config.description:
        _add(feed, "subtitle", config.description)
    _add(feed, "id", home)
    _add(feed, "link", rel="alternate", type="text/html", href=home)
    _add(feed, "link", rel="self", type="application/atom+xml", href=site_url(home, "feed.xml"))
    newest = max((when for _, when in latest), default=datetime(1970, 1, 1, tzinfo=UTC))
    _add(feed, "updated", rfc3339(newest))
    author = _add(feed, "author")
    _add(author, "name", config.title)
    _add(feed, "generator", "timeline")
    for event, when in latest:
        url = site_url(home, event_path(event))
        entry = _add(feed, "entry")
        _add(entry, "title", event.title)
        _add(entry, "id", url)
        _add(entry, "link", rel="alternate", type="text/html", href=url)
        _add(entry, "updated", rfc3339(when))
        if event.summary:
            _add(entry, "summary", event.summary)
        body = absolute_links(bodies.get(event.path, ""), url)
        _add(entry, "content", body, type="html")
    return _xml_bytes(feed)


def sitemap_xml(config: Config, paths: Iterable[str]) -> bytes:
    """Every HTML page of the site (sitemaps.org protocol 0.9), in path order."""
    ET.register_namespace("", SITEMAP)
    urlset = ET.Element(f"{{{SITEMAP}}}urlset")
    for path in sorted(paths):
        if path.endswith(".html") and path not in NOT_IN_SITEMAP:
            url = ET.SubElement(urlset, f"{{{SITEMAP}}}url")
            ET.SubElement(url, f"{{{SITEMAP}}}loc").text = site_url(config.base_url, path)
    return _xml_bytes(urlset)


def robots_txt(config: Config) -> bytes:
    lines = ["User-agent: *", "Allow: /"]
    if config.base_url:
        lines.append(f"Sitemap: {site_url(config.base_url, 'sitemap.xml')}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def feed_pages(
    config: Config,
    timeline: Timeline,
    bodies: Mapping[str, str],
    html_paths: Iterable[str],
    zone: tzinfo,
) -> dict[str, bytes]:
    """robots.txt always; feed.xml and sitemap.xml only when the site has a base_url."""
    feeds = lazy_feeds(config, timeline, bodies, html_paths, zone)
    return {path: make() for path, make in feeds.items()}


def lazy_feeds(
    config: Config,
    timeline: Timeline,
    bodies: Mapping[str, str],
    html_paths: Iterable[str],
    zone: tzinfo,
) -> dict[str, Callable[[], bytes]]:
    """``feed_pages``, each made when called: the dev server makes them when asked for,
    since feed.xml looks at every event and sitemap.xml at every page."""
    feeds: dict[str, Callable[[], bytes]] = {"robots.txt": functools.partial(robots_txt, config)}
    if config.base_url:
        feeds["feed.xml"] = functools.partial(feed_xml, config, timeline, bodies, zone)
        feeds["sitemap.xml"] = functools.partial(sitemap_xml, config, html_paths)
    return feeds


def _add(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    namespace = parent.tag.partition("}")[0] + "}"
    attributes = {name: _xml_chars(value) for name, value in attributes.items()}
    element = ET.SubElement(parent, namespace + tag, attributes)
    if text is not None:
        element.text = _xml_chars(text)
    return element


def _xml_chars(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot hold (control characters such as a
    bell, pasted into a title or a body): ElementTree writes them, and the feed would not
    be XML at all."""
    return _NOT_XML.sub("", text)


def _xml_bytes(root: ET.Element) -> bytes:
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data + b"\n"
