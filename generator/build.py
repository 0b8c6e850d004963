"""The build: a pure function from a site's configuration and source files to its pages.

Stages run in order, each returning its diagnostics beside its result: decode, front
matter, entries, linking, Markdown, templates, link check. Reading and writing the disk
happen outside, in sources.py and output.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from zoneinfo import ZoneInfo

from generator.config import Config
from generator.diagnostics import Diagnostic, has_errors, sort_key
from generator.entries import read_actor, read_event
from generator.exports import export_pages
from generator.frontmatter import read_front_matter
from generator.linkcheck import broken_links
from generator.linking import link
from generator.markup import MarkdownRenderer
from generator.model import Actor, Event, Timeline
from generator.render import render_site, site_root_path
from generator.sources import SourceFile, Sources, decode


@dataclass(frozen=True)
class BuildResult:
    pages: Mapping[str, bytes]  # output path -> bytes
    diagnostics: tuple[Diagnostic, ...]
    timeline: Timeline | None

    @property
    def ok(self) -> bool:
        return not has_errors(list(self.diagnostics))


def read_entries(
    config: Config, sources: Sources, drafts: bool = False
) -> tuple[list[Event], list[Actor], list[Diagnostic]]:
    """Decode, split and validate every content file."""
    zone = ZoneInfo(config.timezone)
    events: list[Event] = []
    actors: list[Actor] = []
    problems: list[Diagnostic] = []
    for source in sources.content:
        entry, found = read_entry(config, source, zone)
        problems += found
        if isinstance(entry, Event) and (drafts or not entry.draft):
            events.append(entry)
        elif isinstance(entry, Actor):
            actors.append(entry)
    return events, actors, problems


def read_entry(
    config: Config, source: SourceFile, zone: ZoneInfo
) -> tuple[Event | Actor | None, list[Diagnostic]]:
    """One content file's event or actor (None if it has errors), drafts included."""
    text, problems = decode(source)
    if text is None:
        return None, problems
    matter, found = read_front_matter(text, source.path)
    problems += found
    if matter is None:
        return None, problems
    entry: Event | Actor | None
    if source.kind == "events":
        entry, found = read_event(matter, source.path, config.date_order, zone)
    else:
        entry, found = read_actor(matter, source.path)
    return entry, problems + found


def render_bodies(config: Config, timeline: Timeline) -> tuple[dict[str, str], list[Diagnostic]]:
    """HTML of every event and actor body, by source path."""
    pages = {e.path: f"events/{e.slug}/index.html" for e in timeline.events}
    profiles = [t.profile for t in timeline.actors.values() if t.profile is not None]
    pages |= {a.path: f"actors/{a.slug}/index.html" for a in profiles}
    renderer = MarkdownRenderer(pages, unsafe_html=config.unsafe_html)
    bodies: dict[str, str] = {}
    problems: list[Diagnostic] = []
    documents: list[Event | Actor] = [*timeline.events, *profiles]
    for doc in documents:
        bodies[doc.path], found = renderer.render(doc.body, doc.path, doc.body_line)
        problems += found
    return bodies, problems


def build(config: Config, sources: Sources, drafts: bool = False) -> BuildResult:
    events, actors, problems = read_entries(config, sources, drafts)
    timeline, found = link(events, actors)
    problems += found
    bodies, found = render_bodies(config, timeline)
    problems += found
    pages, found = render_site(config, sources, timeline, bodies)
    problems += found
    pages |= export_pages(config, timeline, bodies, pages)
    if not has_errors(problems):
        origins = {f"events/{e.slug}/index.html": e.path for e in timeline.events}
        problems += broken_links(pages, origins, site_root_path(config.base_url))
    return BuildResult(
        pages=MappingProxyType(pages),
        diagnostics=tuple(sorted(set(problems), key=sort_key)),
        timeline=timeline,
    )
