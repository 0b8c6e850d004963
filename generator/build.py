"""The build: a pure function from a site's configuration and source files to its pages.

Stages run in order, each returning its diagnostics beside its result: decode, front
matter, entries, Markdown bodies (their first paragraphs become missing summaries),
linking, templates, exports, link check. Reading and writing the disk happen outside, in
sources.py and output.py; the optional cache keeps rendered Markdown between builds and
``workers`` spreads parsing, Markdown and templates over processes (parallel.py). Each
page goes to a sink (output.py) in the process that rendered it, with its links noted
there: kept in memory, or written straight into the output's staging folder.
"""

from __future__ import annotations

import dataclasses
import gc
import hashlib
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import TypeVar
from zoneinfo import ZoneInfo

from generator import cache as caching
from generator.cache import Cache
from generator.config import Config
from generator.diagnostics import Diagnostic, has_errors, sort_key
from generator.entries import read_actor, read_event
from generator.exports import export_pages
from generator.frontmatter import read_front_matter
from generator.linkcheck import page_origins
from generator.linking import link
from generator.markup import Body, place_links, render_markdown, sanitized, summary_from_html
from generator.model import Actor, Event, Timeline, entry_from_json, entry_to_json
from generator.output import MemorySink, PageSink
from generator.pagecache import PageReuse
from generator.parallel import collector_frozen, collector_paused, map_chunks
from generator.render import hidden_static, render_site
from generator.search import INDEX_FOLDER as INDEX
from generator.sources import SourceFile, Sources, decode

Entry = Event | Actor
State = TypeVar("State")
Item = TypeVar("Item")
Value = TypeVar("Value")


@dataclass(frozen=True)
class BuildResult:
    pages: Mapping[str, bytes]  # output path -> bytes, in memory or read from a Staging
    diagnostics: tuple[Diagnostic, ...]
    timeline: Timeline | None

    @property
    def ok(self) -> bool:
        return not has_errors(list(self.diagnostics))


def read_entries(
    config: Config,
    sources: Sources,
    drafts: bool = False,
    workers: int = 1,
    cache: Cache | None = None,
    keys: Mapping[str, str] | None = None,
) -> tuple[list[Event], list[Actor], list[Diagnostic]]:
    """Decode, split and validate every content file. A file whose bytes the cache has
    seen without a problem is not read again: its entry comes from the cache. ``keys``
    are the files' ``entry_keys``, if the caller has them."""
    if keys is None:
        keys = entry_keys(config, sources) if cache else {}
    held: dict[str, Entry] = _from_cache(cache, keys, entry_from_json) if cache else {}
    read: dict[str, tuple[Entry | None, list[Diagnostic]]] = {
        path: (entry, []) for path, entry in held.items() if entry.path == path
    }
    missing = [s for s in sources.content if s.path not in read]
    for fresh in _by_path(_read_chunk, config, missing, [s.path for s in missing], workers):
        read |= fresh
        if cache:
            kept = {keys[p]: entry_to_json(e) for p, (e, found) in fresh.items() if e and not found}
            cache.put_many(kept)
    events: list[Event] = []
    actors: list[Actor] = []
    problems: list[Diagnostic] = []
    for source in sources.content:
        entry, found = read[source.path]
        problems += found
        if isinstance(entry, Event) and (drafts or not entry.draft):
            events.append(entry)
        elif isinstance(entry, Actor):
            actors.append(entry)
    return events, actors, problems


def entry_keys(config: Config, sources: Sources) -> dict[str, str]:
    """Each content file's key, by path: a hash of everything its entry is read from
    (the cache's key for it)."""
    return {source.path: _entry_key(config, source) for source in sources.content}


def _entry_key(config: Config, source: SourceFile) -> str:
    # What reading a file depends on besides its bytes: its path and kind, and the
    # config's date order and time zone.
    data = hashlib.blake2b(source.data, digest_size=20).hexdigest()
    return caching.key("entry", source.path, source.kind, config.date_order, config.timezone, data)


def _from_cache(
    cache: Cache, keys: Mapping[str, str], decode: Callable[[object], Value | None]
) -> dict[str, Value]:
    """What the cache holds under ``keys`` (by source path), decoded; a value ``decode``
    refuses is not there."""
    held = cache.get_many(keys.values())
    found: dict[str, Value] = {}
    for path, key in keys.items():
        value = decode(held[key]) if key in held else None
        if value is not None:
            found[path] = value
    return found


def _by_path(
    function: Callable[[State, Sequence[Item]], list[Value]],
    state: State,
    items: Sequence[Item],
    paths: Sequence[str],
    workers: int,
) -> Iterator[dict[str, Value]]:
    """``function`` over ``items`` on ``workers`` processes, each chunk's results by the
    source paths of its items, as the chunks come."""
    left = iter(paths)
    # The workers have the items from the fork: they are sent positions, not the items
    # (pickling 30 MB of files to the workers and reading them back there took a fifth
    # of the time of reading 10,500 files on two workers).
    job = (function, state, items)
    for chunk in map_chunks(_items_at, job, range(len(items)), workers):
        yield dict(zip(islice(left, len(chunk)), chunk, strict=True))


def _items_at(
    job: tuple[Callable[[State, Sequence[Item]], list[Value]], State, Sequence[Item]],
    positions: Sequence[int],
) -> list[Value]:
    function, state, items = job
    return function(state, [items[i] for i in positions])


def _read_chunk(
    config: Config, sources: Sequence[SourceFile]
) -> list[tuple[Entry | None, list[Diagnostic]]]:
    zone = ZoneInfo(config.timezone)
    return [read_entry(config, source, zone) for source in sources]


def read_entry(
    config: Config, source: SourceFile, zone: ZoneInfo
) -> tuple[Entry | None, list[Diagnostic]]:
    """One content file's event or actor (None if it has errors), drafts included."""
    text, problems = decode(source)
    if text is None:
        return None, problems
    matter, found = read_front_matter(text, source.path)
    problems += found
    if matter is None:
        return None, problems
    entry: Entry | None
    if source.kind == "events":
        entry, found = read_event(matter, source.path, config.date_order, zone)
    else:
        entry, found = read_actor(matter, source.path)
    return entry, problems + found


def body_targets(entries: Sequence[Entry]) -> dict[str, str]:
    """Source path -> page path of every event and actor, for links between bodies."""
    return {
        e.path: f"{'events' if isinstance(e, Event) else 'actors'}/{e.slug}/index.html"
        for e in entries
    }


def render_bodies(
    config: Config,
    entries: Sequence[Entry],
    cache: Cache | None = None,
    workers: int = 1,
) -> tuple[dict[str, str], list[Diagnostic]]:
    """HTML of every event and actor body, by source path. Markdown is rendered only for
    bodies the cache does not hold."""
    keys = {e.path: caching.key("body", e.path, e.body_line, e.body) for e in entries}
    rendered = _from_cache(cache, keys, Body.from_json) if cache else {}
    missing = [(e.body, e.path, e.body_line) for e in entries if e.path not in rendered]
    targets = body_targets(entries)
    lines = {e.path: e.body_line for e in entries}
    placed: dict[str, str] = {}
    problems: list[Diagnostic] = []

    def place(bodies: dict[str, Body], cleaned: Iterator[str] | None = None) -> None:
        # Links are placed as each chunk comes, while the workers render the next ones.
        for path, body in bodies.items():
            clean = next(cleaned) if cleaned is not None else None
            placed[path], found = place_links(
                body, path, lines[path], targets, config.unsafe_html, clean
            )
            problems.extend(found)

    # The cached bodies are all there at once: they are sanitised on every core, while
    # the links are placed.
    if config.unsafe_html:
        place(rendered)
    else:
        place(rendered, sanitized([body.html for body in rendered.values()], workers))
    del rendered  # each body's raw HTML goes once placed, not to hold both at once
    for fresh in _by_path(markdown_chunk, None, missing, [p for _, p, _ in missing], workers):
        if cache:  # a chunk at a time: the JSON of every body at once is 300 MB at 100,000
            kept = {keys[path]: body.to_json() for path, body in fresh.items() if not body.too_slow}
            cache.put_many(kept)
        place(fresh)
    return {e.path: placed[e.path] for e in entries}, problems


def markdown_chunk(_: None, documents: Sequence[tuple[str, str, int]]) -> list[Body]:
    return [render_markdown(text, path, line) for text, path, line in documents]


def with_summaries(entries: Sequence[Entry], bodies: Mapping[str, str]) -> list[Entry]:
    """Entries without a summary take their body's first paragraph."""
    return [
        e if e.summary else dataclasses.replace(e, summary=summary_from_html(bodies[e.path]))
        for e in entries
    ]


def build(
    config: Config,
    sources: Sources,
    drafts: bool = False,
    cache: Cache | None = None,
    workers: int = 1,
    sink: PageSink | None = None,
    reuse: PageReuse | None = None,
    rendered: Callable[[Collection[str]], None] | None = None,
) -> BuildResult:
    """``sink`` takes every file of the site where it is made; by default the pages are
    kept in memory (see output.py). ``reuse`` keeps unchanged pages (see pagecache.py).
    ``rendered`` is told the paths of the pages once they are all made without error,
    before the exports: the CLI starts the search index then."""
    # An entry's key stands for its fields in its pages' fingerprints (see pagecache.py).
    keys = entry_keys(config, sources) if cache or reuse else {}
    with collector_paused():
        events, actors, problems = read_entries(config, sources, drafts, workers, cache, keys)
    # Parsed now, the content files' bytes are let go (unless the caller keeps them): they
    # are 300 MB at 100,000 events, and the render workers would start with a copy.
    sources = dataclasses.replace(sources, content=())
    # The model lives to the end of the build: the collector's full passes leave it
    # alone (one pass over it took 2.7 s at 100,000 events).
    with collector_frozen():
        bodies, found = render_bodies(config, [*events, *actors], cache, workers)
        problems += found
        with collector_paused():
            entries = with_summaries([*events, *actors], bodies)
            timeline, found = link(
                [e for e in entries if isinstance(e, Event)],
                [a for a in entries if isinstance(a, Actor)],
            )
        problems += found
        gc.freeze()  # the timeline too, until the block ends
        pages, found = render_site(
            config, sources, timeline, bodies, sink or MemorySink(), workers, reuse, keys
        )
        # Let go once the pages are made: held to the end, the keys raised the peak of a
        # build of 100,000 events by about 30 MB.
        del keys
        problems += found
        if rendered is not None and not has_errors(problems):
            rendered(pages.result().keys())
        exports = export_pages(config, timeline, bodies, pages.result(), cache, workers)
        exported = []
        for path, parts in exports:
            pages.add_parts(path, parts)
            exported.append(path)
        # The search index is made later, into a folder of its own that it empties.
        static = sources.site_static
        index = [p for p in static if p.startswith(f"{INDEX}/")] if config.search else []
        problems += hidden_static(config, [*index, *(p for p in exported if p in static)])
        if not has_errors(problems):
            problems += pages.broken_links(page_origins(timeline))
    return BuildResult(
        pages=pages.result(),
        diagnostics=tuple(sorted(set(problems), key=sort_key)),
        timeline=timeline,
    )
