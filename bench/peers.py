"""Lay a generated timeline corpus out for Hugo, Eleventy and Pelican, and check pages.

    python bench/peers.py CORPUS DEST      # writes DEST/hugo, DEST/eleventy, DEST/pelican

Each peer gets the same events and actors with minimal templates kept in bench/peers/<tool>/
(one page per event, one per actor listing its events, one per tag, an index of the latest
events), so every tool renders the same Markdown into comparable pages. The timeline
corpus names actors by name or by slug; the peers get the actor's name everywhere, since
none of them resolves slugs to names, and full dates, since none keeps month or year
precision. ``check_pages`` fails loudly when a tool did not write every expected page, so a
tool that drops pages cannot look fast.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "peers"
PEERS = ("hugo", "eleventy", "pelican")
_NOT_WORD = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class Source:
    title: str
    url: str


@dataclass(frozen=True)
class Event:
    stem: str  # file name without .md: the page's slug in every tool
    title: str
    date: str  # YYYY-MM-DD: month and year precision widened to the first day
    actors: tuple[str, ...]  # actor names
    tags: tuple[str, ...]
    places: tuple[str, ...]
    sources: tuple[Source, ...]
    body: str


@dataclass(frozen=True)
class Actor:
    slug: str
    name: str
    kind: str
    body: str


@dataclass(frozen=True)
class Corpus:
    events: tuple[Event, ...]
    actors: tuple[Actor, ...]


def slug(text: str) -> str:
    """The slug all four tools give the corpus's ASCII names ("topic 3" -> "topic-3")."""
    return _NOT_WORD.sub("-", text.lower()).strip("-")


def split(path: Path) -> tuple[dict[str, object], str]:
    """Front matter (every scalar kept as text, as timeline reads it) and body."""
    text = path.read_text("utf-8")
    _, matter, body = text.split("---\n", 2)
    fields = yaml.load(matter, Loader=yaml.BaseLoader)  # BaseLoader: every scalar stays text
    return fields, body


def as_list(value: object) -> list[object]:
    return value if isinstance(value, list) else [] if value is None else [value]


def read_corpus(folder: Path) -> Corpus:
    actors = []
    for path in sorted((folder / "content" / "actors").glob("*.md")):
        fields, body = split(path)
        actors.append(Actor(path.stem, str(fields["name"]), str(fields.get("kind", "")), body))
    # An event names an actor by name or by slug, as timeline resolves them.
    names = {a.slug: a.name for a in actors} | {a.name.casefold(): a.name for a in actors}
    events = []
    for path in sorted((folder / "content" / "events").glob("*.md")):
        fields, body = split(path)
        refs = [str(a) for a in as_list(fields.get("actors"))]
        sources = []
        for item in as_list(fields.get("sources")):
            if isinstance(item, dict):
                sources.append(Source(str(item.get("title", item["url"])), str(item["url"])))
            else:
                sources.append(Source(str(item), str(item)))
        events.append(
            Event(
                stem=path.stem,
                title=str(fields["title"]),
                date=full_date(str(fields["date"])),
                actors=tuple(names.get(r, names.get(r.casefold(), r)) for r in refs),
                tags=tuple(str(t) for t in as_list(fields.get("tags"))),
                places=tuple(str(p) for p in as_list(fields.get("places"))),
                sources=tuple(sources),
                body=body,
            )
        )
    return Corpus(tuple(events), tuple(actors))


def full_date(text: str) -> str:
    year, *rest = text.split("-")
    return "-".join([year, *[*rest, "01", "01"][:2]])


def expected_pages(corpus: Corpus) -> set[str]:
    """Output paths every tool must write: the index, each event, actor and tag."""
    pages = {"index.html"}
    pages |= {f"events/{e.stem}/index.html" for e in corpus.events}
    pages |= {f"actors/{slug(a)}/index.html" for e in corpus.events for a in e.actors}
    pages |= {f"tags/{slug(t)}/index.html" for e in corpus.events for t in e.tags}
    return pages


class MissingPages(Exception):
    pass


def check_pages(tool: str, output: Path, corpus: Corpus) -> int:
    """The number of HTML pages ``tool`` wrote; raises if any expected page is missing."""
    written = {p.relative_to(output).as_posix() for p in output.rglob("*.html")}
    missing = sorted(expected_pages(corpus) - written)
    if missing:
        raise MissingPages(
            f"{tool} wrote {len(written)} HTML pages into {output} but dropped "
            f"{len(missing)} of the {len(expected_pages(corpus))} expected, such as "
            + ", ".join(missing[:5])
        )
    return len(written)


def yaml_list(values: Iterable[str]) -> str:
    # JSON strings are YAML strings, and they keep names like "NO" or "1.0" text.
    return "[" + ", ".join(json.dumps(v) for v in values) + "]"


def event_yaml(event: Event, extra: str = "") -> str:
    sources = "".join(
        f"  - {{title: {json.dumps(s.title)}, url: {json.dumps(s.url)}}}\n" for s in event.sources
    )
    return (
        f"---\ntitle: {json.dumps(event.title)}\ndate: {event.date}\n{extra}"
        f"actors: {yaml_list(event.actors)}\ntags: {yaml_list(event.tags)}\n"
        f"places: {yaml_list(event.places)}\nsources:\n{sources}---\n{event.body}"
    )


def copy_templates(tool: str, dest: Path) -> None:
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(TEMPLATES / tool, dest)


def lay_out_hugo(corpus: Corpus, dest: Path) -> None:
    copy_templates("hugo", dest)
    events, actors = dest / "content" / "events", dest / "content" / "actors"
    events.mkdir(parents=True)
    for e in corpus.events:
        (events / f"{e.stem}.md").write_text(event_yaml(e), "utf-8")
    # A term page's content lives in the term's _index.md: the actor's profile.
    for a in corpus.actors:
        (actors / slug(a.name)).mkdir(parents=True)
        text = f"---\ntitle: {json.dumps(a.name)}\nkind: {a.kind}\n---\n{a.body}"
        (actors / slug(a.name) / "_index.md").write_text(text, "utf-8")


def lay_out_eleventy(corpus: Corpus, dest: Path) -> None:
    copy_templates("eleventy", dest)
    for e in corpus.events:
        permalink = f"permalink: /events/{e.stem}/\n"
        (dest / "events" / f"{e.stem}.md").write_text(event_yaml(e, permalink), "utf-8")
    for a in corpus.actors:
        text = (
            f"---\ntitle: {json.dumps(a.name)}\nkind: {a.kind}\n"
            f"permalink: /actors/{slug(a.name)}/\n---\n{a.body}"
        )
        (dest / "actors" / f"{a.slug}.md").write_text(text, "utf-8")


def lay_out_pelican(corpus: Corpus, dest: Path) -> None:
    copy_templates("pelican", dest)
    events, actors = dest / "content" / "events", dest / "content" / "actors"
    events.mkdir(parents=True)
    actors.mkdir(parents=True)
    for e in corpus.events:
        # Pelican's Markdown metadata: one "Key: value" line each, lists comma-separated.
        text = (
            f"Title: {e.title}\nDate: {e.date}\nSlug: {e.stem}\n"
            f"Authors: {', '.join(e.actors)}\nTags: {', '.join(e.tags)}\n"
            f"Places: {', '.join(e.places)}\nSources: {' '.join(s.url for s in e.sources)}\n\n"
            f"{e.body}"
        )
        (events / f"{e.stem}.md").write_text(text, "utf-8")
    for a in corpus.actors:
        text = f"Title: {a.name}\nSlug: {slug(a.name)}\n\n{a.body}"
        (actors / f"{a.slug}.md").write_text(text, "utf-8")


LAYOUTS = {"hugo": lay_out_hugo, "eleventy": lay_out_eleventy, "pelican": lay_out_pelican}


def lay_out(corpus: Corpus, dest: Path, tools: Iterable[str] = PEERS) -> None:
    for tool in tools:
        LAYOUTS[tool](corpus, dest / tool)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path, help="a folder written by bench/corpus.py")
    parser.add_argument("dest", type=Path, help="where to write hugo/, eleventy/, pelican/")
    args = parser.parse_args()
    corpus = read_corpus(args.corpus)
    lay_out(corpus, args.dest)
    print(f"{len(corpus.events)} events, {len(corpus.actors)} actors -> {args.dest}")


if __name__ == "__main__":
    main()
