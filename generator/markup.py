"""Markdown bodies to HTML.

One Markdown instance is reused with ``reset()`` between documents, so footnotes and
heading ids never leak from one event into the next. Links to other source files
(``[visit](2023-10-23-lavrov-visit.md)``, ``[Lavrov](../actors/sergei-lavrov.md)``) are
rewritten to the pages built from them; a link to a file that does not exist is reported.
Raw HTML in bodies is sanitised unless the site sets ``unsafe_html = true``.
"""

from __future__ import annotations

import html
import posixpath
import re
import xml.etree.ElementTree as etree
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

import markdown
import nh3
from markdown.treeprocessors import Treeprocessor

from generator import messages as M
from generator.diagnostics import Diagnostic, error

EXTENSIONS = ["extra", "sane_lists", "smarty", "toc"]
SUMMARY_LENGTH = 300
# Every event and actor page sits two folders deep (events/<slug>/index.html), so a body's
# links to other pages are the same from either kind of page.
PAGE_ROOT = "../../"

_TAGS = re.compile(r"<[^>]*>")
_BLOCK_START = re.compile(r"\s*(#|>|[-*+]\s|\d+[.)]\s|```|~~~|<|!\[|\||\[\^)")


@dataclass
class _LinkTargets:
    """Source path -> page path of every event and actor, and what a document missed."""

    pages: Mapping[str, str]
    source: str = ""
    missing: list[str] = field(default_factory=list)


class _SourceLinks(Treeprocessor):
    def __init__(self, md: markdown.Markdown, targets: _LinkTargets) -> None:
        super().__init__(md)
        self.targets = targets

    def run(self, root: etree.Element) -> None:
        for element in root.iter():
            for attribute in ("href", "src"):
                value = element.get(attribute)
                if value is not None:
                    element.set(attribute, self.rewrite(value))

    def rewrite(self, url: str) -> str:
        try:
            parts = urlsplit(url)
        except ValueError:
            return url
        if parts.scheme or parts.netloc or not parts.path.endswith(".md"):
            return url
        here = posixpath.dirname(self.targets.source)
        target = posixpath.normpath(posixpath.join(here, unquote(parts.path)))
        page = self.targets.pages.get(target)
        if page is None:
            self.targets.missing.append(url)
            return url
        return PAGE_ROOT + page + (f"#{parts.fragment}" if parts.fragment else "")


class MarkdownRenderer:
    """Renders the bodies of one build."""

    def __init__(self, pages: Mapping[str, str], unsafe_html: bool = False) -> None:
        self.targets = _LinkTargets(pages)
        self.unsafe_html = unsafe_html
        self.md = markdown.Markdown(extensions=EXTENSIONS, output_format="html")
        self.md.treeprocessors.register(_SourceLinks(self.md, self.targets), "source_links", 1)

    def render(self, text: str, source: str, first_line: int) -> tuple[str, list[Diagnostic]]:
        self.targets.source = source
        self.targets.missing = []
        try:
            rendered = self.md.reset().convert(text)
        except RecursionError:
            return "", [
                error(
                    source,
                    first_line,
                    M.BODY_TOO_DEEP(),
                )
            ]
        problems = [
            error(
                source,
                _line_of(text, url, first_line),
                M.BODY_LINK_MISSING(url=url),
            )
            for url in self.targets.missing
        ]
        return (rendered if self.unsafe_html else sanitize(rendered)), problems


def sanitize(fragment: str) -> str:
    """Keep formatting, drop scripts, event handlers and unsafe URL schemes."""
    return nh3.clean(
        fragment,
        generic_attribute_prefixes={"data-"},
        attributes={
            "*": {"id", "class", "title", "lang", "dir"},
            "a": {"href", "hreflang"},
            "img": {"src", "alt", "width", "height"},
            "td": {"align", "colspan", "rowspan"},
            "th": {"align", "colspan", "rowspan", "scope"},
            "ol": {"start"},
            "abbr": {"title"},
        },
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )


def first_paragraph_text(body: str) -> str:
    """Plain text of the body's first paragraph, for cards and feeds."""
    for block in re.split(r"\n\s*\n", body.strip()):
        if block.strip() and not _BLOCK_START.match(block):
            try:
                rendered = markdown.markdown(block, extensions=["smarty"])
            except RecursionError:
                return ""
            return shorten(html.unescape(_TAGS.sub("", rendered)))
    return ""


def shorten(text: str, limit: int = SUMMARY_LENGTH) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def _line_of(text: str, needle: str, first_line: int) -> int:
    at = text.find(needle)
    return first_line + text.count("\n", 0, at) if at >= 0 else first_line
