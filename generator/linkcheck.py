"""Check the built site's own links: every internal href and src must name a file the
build wrote. External links (with a scheme or host) are not fetched.

A ``LinkCheck`` reads each page's links where the page is made (in a render worker, so the
page's bytes go nowhere else) and keeps only those that lead to none of the ``expected``
files (the pages being rendered): links to files made later, such as the exports, and
broken ones. ``broken`` then looks those up among every file of the site.
"""

from __future__ import annotations

import copy
import html
import posixpath
import re
from collections import Counter
from collections.abc import Container, Mapping, Sequence
from urllib.parse import unquote, urlsplit

from generator import messages as M
from generator.diagnostics import Diagnostic, error
from generator.model import Actor, Event, Timeline
from generator.parallel import map_chunks

# A start tag up to the "=" of its href or src (no element has both): its other
# attributes are read whole, quoted values too, since a ">" may stand in one. Text never
# holds a raw "<", so an attribute shown in a page's text (`<a href="x">` in a code
# block) is not taken for a link. Possessive, so a tag without a link fails at once.
LINK_IN_TAG = (
    r"""<[a-zA-Z](?:[^>"'\s]++|"[^"]*+"|'[^']*+'|\s(?!(?:href|src)\s*=))*+\s(?:href|src)\s*="""
)
_LINK = re.compile(LINK_IN_TAG.encode() + rb"""\s*(?:"([^"]*)"|'([^']*)')""")
NOT_FOUND_PAGE = "404.html"
MAX_RESOLVED = 200_000  # links remembered, about 30 MB

# Links that lead to no file of the site wherever they are (see _target): anchors, and
# links with a scheme, written in plain ASCII without brackets (which urlsplit may
# refuse) or "&" (which unescaping may turn into anything).
_UNCHECKED = re.compile(rb"#|(?:https?|mailto):[^\x00-\x20\x7f-\xff\[\]&]*\Z")

# Missing target -> (the first (page, link) that leads there, how many links do).
Places = dict[str, tuple[tuple[str, str], int]]


# A link as written and what it resolves against (see _scopes) -> its target, or None for
# external links and anchors.
Targets = dict[tuple[int | str, bytes], str | None]


class LinkCheck:
    def __init__(
        self, expected: Container[str], site_root: str = "/", targets: Targets | None = None
    ) -> None:
        """``site_root`` is the URL path 404.html links from; ``targets`` may hold the
        links resolved by an earlier check of the same site (the dev server's)."""
        self.expected = expected
        self.site_root = site_root
        self.places: Places = {}
        # Most links repeat from page to page (style sheets, navigation): each is resolved
        # once per scope.
        self._resolved: Targets = {} if targets is None else targets

    def fresh(self) -> LinkCheck:
        """An empty check with the same expected files and resolved links, for one chunk
        of a worker's pages."""
        new = copy.copy(self)
        new.places = {}
        return new

    def add(self, page: str, data: bytes) -> None:
        """Note the links of one file (only HTML has any) that lead to no expected file."""
        if not page.endswith(".html"):
            return
        # A page repeats most of its links (each card links to its actors, tags, places):
        # each different one is looked at once.
        climbing, climbs, stays = _scopes(page)
        for (double, single), count in Counter(_LINK.findall(data)).items():
            raw = double or single
            key = (climbs if raw.startswith(climbing) else stays, raw)
            if key in self._resolved:
                target = self._resolved[key]
            elif _UNCHECKED.match(raw):
                continue  # not remembered: most are a body's links, each on one page
            else:
                if len(self._resolved) >= MAX_RESOLVED:
                    self._resolved.clear()  # the links that repeat are back in a moment
                target = _target(page, _attribute(raw), self.site_root)
                self._resolved[key] = target
            if target is not None and target not in self.expected:
                _note(self.places, target, (page, _attribute(raw)), count)

    def merge(self, places: Places) -> None:
        """Add the ``places`` a worker noted."""
        for target, (place, count) in places.items():
            _note(self.places, target, place, count)

    def broken(self, paths: Container[str], origins: Origins) -> list[Diagnostic]:
        """The noted links to none of ``paths``, one problem per target; ``origins`` holds
        the entry each page came from, for the message's file and line."""
        problems = []
        for target, ((page, link), count) in sorted(self.places.items()):
            if target in paths:
                continue
            more = f" (and {count - 1} more)" if count > 1 else ""
            origin = origins.get(page)
            within = _from_root(target, paths)
            if within is not None:
                relative = "../" * page.count("/") + within or "./"
                text = M.LINK_FROM_ROOT(page=page, link=link, more=more, relative=relative)
            elif origin is not None and (beside := _beside(link)) is not None:
                text = M.LINK_BESIDE(page=page, link=link, more=more, target=target, name=beside)
            else:
                text = M.LINK_BROKEN(page=page, link=link, more=more, target=target)
            if origin is None:
                problems.append(error(page, 0, text))
            else:
                problems.append(error(origin.path, _written_at(origin, link), text))
        return problems


Origins = Mapping[str, Event | Actor]  # page -> the entry whose file it shows


def page_origins(timeline: Timeline) -> dict[str, Event | Actor]:
    """The page of each event and of each actor with a file -> that entry."""
    found: dict[str, Event | Actor] = {f"events/{e.slug}/index.html": e for e in timeline.events}
    for slug, term in timeline.actors.items():
        if term.profile is not None:
            found[f"actors/{slug}/index.html"] = term.profile
    return found


def _written_at(entry: Event | Actor, link: str) -> int:
    """The line of ``entry``'s file where its body writes ``link`` as a link's target
    (after "(" or "<", in quotes, after "=" or "]:"), or 0 where it does not: a link the
    theme made."""
    for written in dict.fromkeys((link, html.escape(link, quote=False))):
        pattern = r"""(?:[(<"'=]|\]:[ \t]*)""" + re.escape(written) + r"""(?=[)>"'\s]|$)"""
        found = re.search(pattern, entry.body, re.MULTILINE)
        if found is not None:
            return entry.body_line + entry.body.count("\n", 0, found.start())
    return 0


def _attribute(raw: bytes) -> str:
    """An attribute's value as the browser reads it: "a&amp;b.txt" links to a&b.txt."""
    return html.unescape(raw.decode("utf-8", "replace"))


def _beside(link: str) -> str | None:
    """For a link of a content file's body that names a file as one beside it
    ("photo.png", "files/report.pdf"), that path; else None."""
    try:
        parts = urlsplit(link)
    except ValueError:
        return None
    path = parts.path.removeprefix("./")
    name = path.rpartition("/")[2]
    if parts.scheme or parts.netloc or path.startswith(("/", "../")) or "." not in name:
        return None
    return None if name.endswith((".html", ".md")) else path


def _from_root(target: str, paths: Container[str]) -> str | None:
    """For a link from the site's root ("/images/a.png") to a file the site has, that
    file's path as written after the root ("images/a.png"); else None."""
    if not target.startswith("/") or target.startswith("//"):
        return None
    within = target[1:]
    page = within if within and not within.endswith("/") else within + "index.html"
    return within if page in paths else None


def _note(places: Places, target: str, place: tuple[str, str], count: int) -> None:
    first, seen = places.get(target, (place, 0))
    places[target] = (min(first, place), seen + count)


def broken_links(
    pages: Mapping[str, bytes],
    origins: Origins,
    site_root: str = "/",
    workers: int = 1,
    targets: Targets | None = None,
) -> list[Diagnostic]:
    """The broken links of ``pages`` held in memory (see ``LinkCheck.broken``);
    ``targets`` as for LinkCheck."""
    check = LinkCheck(pages, site_root, targets)
    html = [page for page in pages if page.endswith(".html")]
    for places in map_chunks(_check_chunk, (check, pages), html, workers):
        check.merge(places)
    return check.broken(pages, origins)


def _check_chunk(state: tuple[LinkCheck, Mapping[str, bytes]], chunk: Sequence[str]) -> Places:
    check, pages = state
    part = check.fresh()
    for page in chunk:
        part.add(page, pages[page])
    return part.places


def _scopes(page: str) -> tuple[bytes, int | str, str]:
    """What a link's target depends on besides the link: only the page's depth when the
    link first climbs to the site's root (style sheets, navigation, other pages), else the
    page's folder. So: what such a link starts with, the depth, the folder. 404.html
    resolves root-relative links itself: every link's scope is the page."""
    if page == NOT_FOUND_PAGE:
        return b"", page, page
    depth = page.count("/")
    return b"../" * depth, depth, page.rpartition("/")[0]


def _target(page: str, link: str, site_root: str) -> str | None:
    """The output file a link leads to, or None for external links and anchors."""
    link = link.strip()
    try:
        parts = urlsplit(link)
    except ValueError:
        return link
    if parts.scheme or parts.netloc or not parts.path:
        return None
    path = unquote(parts.path)
    if path.startswith("/"):
        if page != NOT_FOUND_PAGE or not path.startswith(site_root):
            return path  # root-relative links break under a sub-path and from disk
        target = path[len(site_root) :]
    else:
        target = posixpath.normpath(posixpath.join(posixpath.dirname(page), path))
    if target.startswith("../") or target == "..":
        return link
    if target in (".", "") or path.endswith("/"):
        target = posixpath.join(target, "index.html").removeprefix("./")
    return target
