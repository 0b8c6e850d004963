"""Check the built site's own links: every internal href and src must name a file the
build wrote. External links (with a scheme or host) are not fetched."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping, Sequence
from urllib.parse import unquote, urlsplit

from generator import messages as M
from generator.diagnostics import Diagnostic, error
from generator.parallel import map_chunks

_LINK = re.compile(rb"""\s(?:href|src)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
NOT_FOUND_PAGE = "404.html"


def broken_links(
    pages: Mapping[str, bytes],
    origins: Mapping[str, str],
    site_root: str = "/",
    workers: int = 1,
) -> list[Diagnostic]:
    """``origins`` names the source file each page came from, for the message;
    ``site_root`` is the URL path 404.html links from."""
    html = [page for page in pages if page.endswith(".html")]
    broken: dict[str, list[tuple[str, str]]] = {}  # missing target -> [(page, link)]
    for found in map_chunks(_check_chunk, (pages, site_root), html, workers):
        for target, places in found.items():
            broken.setdefault(target, []).extend(places)
    problems = []
    for target, places in sorted(broken.items()):
        page, link = min(places)
        more = f" (and {len(places) - 1} more)" if len(places) > 1 else ""
        problems.append(
            error(
                origins.get(page, page),
                0,
                M.LINK_BROKEN(page=page, link=link, more=more, target=target),
            )
        )
    return problems


def _check_chunk(
    state: tuple[Mapping[str, bytes], str], chunk: Sequence[str]
) -> dict[str, list[tuple[str, str]]]:
    pages, site_root = state
    broken: dict[str, list[tuple[str, str]]] = {}
    # Most links repeat from page to page (style sheets, navigation): resolve each
    # (folder, link) pair once.
    resolved: dict[tuple[str, bytes], str | None] = {}
    for page in chunk:
        folder = page.rpartition("/")[0] if page != NOT_FOUND_PAGE else page
        for match in _LINK.finditer(pages[page]):
            raw_bytes = match.group(1) or match.group(2) or b""
            key = (folder, raw_bytes)
            if key not in resolved:
                raw = raw_bytes.decode("utf-8", "replace")
                target = _target(page, raw, site_root)
                resolved[key] = target if target is not None and target not in pages else None
            missing = resolved[key]
            if missing is not None:
                broken.setdefault(missing, []).append((page, raw_bytes.decode("utf-8", "replace")))
    return broken


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
