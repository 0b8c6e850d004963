"""Turn front matter into Events and Actors, checking every field.

Each problem becomes a diagnostic at the line of the offending value; a file with errors
yields no entry, so later stages only see valid ones.
"""

from __future__ import annotations

import difflib
import re
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from generator import messages as M
from generator.dates import DateError, PartialDate, parse_date
from generator.diagnostics import Diagnostic, error
from generator.frontmatter import FrontMatter, Value
from generator.model import Actor, Event, Link
from generator.slugs import is_slug, slugify

EVENT_FIELDS = [
    "title",
    "date",
    "end",
    "circa",
    "actors",
    "places",
    "tags",
    "sources",
    "summary",
    "draft",
    "slug",
]
ACTOR_FIELDS = ["name", "aliases", "kind", "role", "summary", "links", "slug"]
SAFE_SCHEMES = ("http", "https", "mailto")
_TRUE = {"true", "yes", "on"}
_FALSE = {"false", "no", "off"}
_INVISIBLE = re.compile(r"[\x00-\x20\x7f]+")


class _Fields:
    """Typed access to one file's front matter that records problems instead of raising."""

    def __init__(self, matter: FrontMatter, path: str, known: list[str]) -> None:
        self.matter = matter
        self.path = path
        self.problems: list[Diagnostic] = []
        for key in matter.fields:
            if key in known:
                continue
            close = difflib.get_close_matches(key, known, n=1, cutoff=0.75)
            if close:
                self.fail((key,), M.FIELD_UNKNOWN(key=key, close=close[0]))

    def extra(self, known: list[str]) -> dict[str, Any]:
        """Fields of the author's own (``image``, ``importance``...), passed to templates."""
        return {k: v for k, v in self.matter.fields.items() if k not in known}

    def fail(self, where: tuple[str | int, ...], message: str) -> None:
        self.problems.append(error(self.path, self.matter.line(*where), message))

    def text(self, key: str, required: bool = False) -> str:
        value = self.matter.fields.get(key)
        if value is None or value == "":
            if required:
                self.fail((key,), M.FIELD_MISSING(key=key))
            return ""
        if not isinstance(value, str):
            self.fail((key,), M.FIELD_NOT_TEXT(key=key, kind=_kind(value)))
            return ""
        return value.strip()

    def flag(self, key: str) -> bool:
        value = self.matter.fields.get(key)
        if value is None:
            return False
        if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
            return value.lower() in _TRUE
        self.fail((key,), M.FIELD_NOT_FLAG(key=key))
        return False

    def names(self, key: str) -> tuple[str, ...]:
        """One name or a list of names; blanks dropped, duplicates kept once."""
        value = self.matter.fields.get(key)
        items = [] if value is None else value if isinstance(value, list) else [value]
        found: list[str] = []
        for i, item in enumerate(items):
            if isinstance(item, str) and item.strip():
                if item.strip().casefold() not in (n.casefold() for n in found):
                    found.append(" ".join(item.split()))
            elif item is not None and not isinstance(item, str):  # a blank is dropped
                self.fail((key, i), M.FIELD_NOT_NAME(key=key, kind=_kind(item)))
        return tuple(found)

    def links(self, key: str) -> tuple[Link, ...]:
        """URLs as plain strings or {title, url} mappings, mixed."""
        value = self.matter.fields.get(key)
        items = [] if value is None else value if isinstance(value, list) else [value]
        found = []
        for i, item in enumerate(items):
            link = self._link(key, i, item)
            if link is not None:
                found.append(link)
        return tuple(found)

    def _link(self, key: str, i: int, item: Value) -> Link | None:
        if isinstance(item, str):
            url, title = item.strip(), ""
        elif isinstance(item, dict):
            url_value, title_value = item.get("url"), item.get("title", "")
            unknown = sorted(set(item) - {"url", "title"})
            if unknown:
                self.fail((key, i, unknown[0]), M.LINK_UNKNOWN_KEY(name=unknown[0], key=key))
            if not isinstance(url_value, str) or not url_value.strip():
                self.fail((key, i), M.LINK_NO_URL(key=key))
                return None
            if title_value is not None and not isinstance(title_value, str):
                self.fail((key, i, "title"), M.LINK_TITLE_NOT_TEXT())
                return None
            url, title = url_value.strip(), " ".join((title_value or "").split())
        else:
            self.fail((key, i), M.LINK_NOT_LINK(key=key))
            return None
        if not _safe_url(url):
            self.fail((key, i), M.URL_UNSAFE(url=url[:80]))
            return None
        return Link(url=url, title=title)

    def date(self, key: str, order: str, required: bool = False) -> PartialDate | None:
        text = self.text(key, required)
        if not text:
            return None
        try:
            return parse_date(text, order)
        except DateError as exc:
            self.fail((key,), M.DATE_INVALID(key=key, problem=exc))
            return None

    def slug(self, stem: str) -> str:
        given = self.text("slug")
        if given and not is_slug(given):
            self.fail(("slug",), M.SLUG_INVALID(suggestion=slugify(given)))
        return given if given and is_slug(given) else slugify(stem)


def read_event(
    matter: FrontMatter, path: str, date_order: str, zone: ZoneInfo
) -> tuple[Event | None, list[Diagnostic]]:
    fields = _Fields(matter, path, EVENT_FIELDS)
    title = fields.text("title", required=True)
    date = fields.date("date", date_order, required=True)
    end = fields.date("end", date_order)
    if date is not None and end is not None and end.stop(zone) <= date.start(zone):
        fields.fail(("end",), M.END_BEFORE_START(end=end.display(), start=date.display()))
    summary = " ".join(fields.text("summary").split())  # else the body's first paragraph
    event = Event(
        slug=fields.slug(PurePosixPath(path).stem),
        title=" ".join(title.split()),
        date=date or parse_date("1"),
        path=path,
        end=end,
        circa=fields.flag("circa"),
        actors=fields.names("actors"),
        places=fields.names("places"),
        tags=fields.names("tags"),
        sources=fields.links("sources"),
        summary=summary,
        body=matter.body,
        body_line=matter.body_line,
        draft=fields.flag("draft"),
        extra=fields.extra(EVENT_FIELDS),
        lines=matter.lines,
        start=date.start(zone) if date else 0,
        stop=(end or date).stop(zone) if date else 0,
    )
    return (None if fields.problems else event), fields.problems


def read_actor(matter: FrontMatter, path: str) -> tuple[Actor | None, list[Diagnostic]]:
    fields = _Fields(matter, path, ACTOR_FIELDS)
    name = " ".join(fields.text("name", required=True).split())
    actor = Actor(
        slug=fields.slug(PurePosixPath(path).stem),
        name=name,
        path=path,
        aliases=fields.names("aliases"),
        kind=fields.text("kind").lower(),
        role=" ".join(fields.text("role").split()),
        summary=" ".join(fields.text("summary").split()),
        links=fields.links("links"),
        body=matter.body,
        body_line=matter.body_line,
        extra=fields.extra(ACTOR_FIELDS),
        lines=matter.lines,
    )
    return (None if fields.problems else actor), fields.problems


def _safe_url(url: str) -> bool:
    # Browsers ignore tabs, newlines and control characters inside a scheme
    # ("java\tscript:"), so look at the URL as they will.
    visible = _INVISIBLE.sub("", url)
    scheme = url_scheme(visible)
    if scheme is None:
        return False
    return scheme in SAFE_SCHEMES or (not scheme and not visible.startswith("\\"))


def url_scheme(url: str) -> str | None:
    """The scheme of ``url`` in lower case ("" for a relative link), or None for a URL
    that cannot be read: "http://[::1" and other malformed hosts."""
    try:
        return urlsplit(url).scheme.lower()
    except ValueError:
        return None


def _kind(value: object) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping of keys to values"
    return "empty" if value is None else "text"
