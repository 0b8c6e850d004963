"""Generate a deterministic synthetic timeline site for benchmarks.

    python bench/corpus.py --n 10000 --seed 1 DIR

writes DIR/timeline.toml, DIR/content/events/*.md (N events) and DIR/content/actors/*.md
(about N/20 actors). The same N and seed always give the same bytes.

The content takes the forms authors write, so the benchmark exercises what they use:
dates from 1900 to 2023, some of them month or year precision; 2-4 actors per event,
named sometimes by name and sometimes by slug; 1-3 tags, a place; 1-3 sources, each a
plain URL string or a ``{title, url}`` mapping; bodies of 150-400 words of Markdown with
headings, paragraphs, emphasis, bulleted and numbered lists, external links and now and
then a link to an earlier event's file (so the .md link rewriting runs).
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

VOCABULARY = (
    "minister treaty summit border delegation talks agreement sanctions envoy council "
    "alliance missile drone trade pipeline grain embassy visit statement parliament vote "
    "ceasefire observers report analysts region security cooperation exercise navy port "
    "supply contract loan credit reserve currency election protest court ruling decree "
    "province capital river valley harbour frontier garrison convoy shipment cargo "
    "negotiation mediator communique declaration ratified signed announced denied warned "
    "welcomed criticised proposed rejected postponed resumed expanded reduced"
)
WORDS = VOCABULARY.split()
KINDS = ("person", "state", "organisation", "group")
TAGS = [f"topic {i}" for i in range(40)]
PLACES = [f"City {i}" for i in range(200)]
HEADINGS = ("Background", "What happened", "Reactions", "Aftermath", "Analysis", "Context")
FIRST_YEAR, YEARS = 1900, 124  # 1900-2023: several decades


def sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(8, 18))]
    if rng.random() < 0.2:
        i = rng.randrange(len(words))
        words[i] = f"*{words[i]}*"
    if rng.random() < 0.1:
        i = rng.randrange(len(words))
        words[i] = f"[{words[i]}](https://example.org/{rng.choice(WORDS)}/{rng.randrange(10**6)})"
    return " ".join(words).capitalize() + "."


def block(rng: random.Random) -> str:
    """A paragraph, most of the time; a bulleted or numbered list now and then."""
    roll = rng.random()
    if roll < 0.1:
        return "\n".join(f"- {sentence(rng)}" for _ in range(rng.randint(2, 4)))
    if roll < 0.15:
        return "\n".join(f"{i}. {sentence(rng)}" for i in range(1, rng.randint(3, 5)))
    return " ".join(sentence(rng) for _ in range(rng.randint(3, 6)))


def body(rng: random.Random, earlier: str | None) -> str:
    target = rng.randint(150, 400)
    paragraphs: list[str] = []
    count = 0
    headings = iter(rng.sample(HEADINGS, k=len(HEADINGS)))
    while count < target:
        # A heading before every third block or so, the way long entries are split up.
        if paragraphs and rng.random() < 0.3:
            paragraphs.append(f"## {next(headings, 'More')}")
        text = block(rng)
        count += len(text.split())
        paragraphs.append(text)
    if earlier is not None:
        paragraphs.append(f"See also [an earlier event]({earlier}).")
    return "\n\n".join(paragraphs) + "\n"


def event_date(rng: random.Random) -> tuple[str, str]:
    """The date as the author writes it (year, month or day precision) and a sortable
    full date for the file name."""
    year = FIRST_YEAR + rng.randrange(YEARS)
    month = rng.randint(1, 12)
    day = rng.randint(1, 28)
    precision = rng.random()
    if precision < 0.05:
        written = f"{year}"
    elif precision < 0.2:
        written = f"{year}-{month:02d}"
    else:
        written = f"{year}-{month:02d}-{day:02d}"
    return written, f"{year}-{month:02d}-{day:02d}"


def actor_reference(rng: random.Random, index: int) -> str:
    """Authors name an actor by its name or, a third of the time, by its slug."""
    return f"actor-{index:05d}" if rng.random() < 0.33 else f"Actor {index:05d}"


def sources(rng: random.Random, i: int) -> str:
    """1-3 sources, each a plain URL string or a {title, url} mapping, mixed."""
    lines = []
    for k in range(rng.randint(1, 3)):
        url = f"https://example.org/report/{i}/{k}"
        if rng.random() < 0.5:
            lines.append(f"  - {url}\n")
        else:
            lines.append(f'  - {{title: "Report {i}.{k}", url: "{url}"}}\n')
    return "sources:\n" + "".join(lines)


def generate(n: int, seed: int, folder: Path) -> None:
    rng = random.Random(seed)
    events = folder / "content" / "events"
    actors = folder / "content" / "actors"
    events.mkdir(parents=True, exist_ok=True)
    actors.mkdir(parents=True, exist_ok=True)
    (folder / "timeline.toml").write_text(
        f'title = "Synthetic timeline of {n} events"\nlanguage = "en"\ntimezone = "UTC"\n',
        "utf-8",
    )
    count = max(2, n // 20)
    for i in range(count):
        text = (
            f"---\nname: Actor {i:05d}\nkind: {KINDS[i % len(KINDS)]}\nrole: {rng.choice(WORDS)}\n"
            f"---\n{body(rng, None)}"
        )
        (actors / f"actor-{i:05d}.md").write_text(text, "utf-8")
    files: list[str] = []
    for i in range(n):
        written, full = event_date(rng)
        name = f"{full}-event-{i:05d}.md"
        cast = sorted(rng.sample(range(count), k=min(count, rng.randint(2, 4))))
        tags = sorted(rng.sample(TAGS, k=rng.randint(1, 3)))
        earlier = rng.choice(files) if files and rng.random() < 0.3 else None
        text = (
            "---\n"
            f"title: Event {i} about {rng.choice(WORDS)} and {rng.choice(WORDS)}\n"
            f"date: {written}\n"
            f"actors: [{', '.join(actor_reference(rng, a) for a in cast)}]\n"
            f"places: [{rng.choice(PLACES)}]\n"
            f"tags: [{', '.join(tags)}]\n" + sources(rng, i) + "---\n" + body(rng, earlier)
        )
        (events / name).write_text(text, "utf-8")
        files.append(name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, required=True, help="number of events")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("folder", type=Path)
    args = parser.parse_args()
    generate(args.n, args.seed, args.folder)


if __name__ == "__main__":
    main()
