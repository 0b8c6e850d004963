"""Generate a deterministic synthetic timeline site for benchmarks.

    python bench/corpus.py --n 10000 --seed 1 DIR

writes DIR/timeline.toml, DIR/content/events/*.md (N events) and DIR/content/actors/*.md
(about N/20 actors). The same N and seed always give the same bytes. Bodies are 150-400
words of Markdown (paragraphs, some emphasis, a list now and then, a link to an earlier
event's file so the .md link rewriting is exercised).
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


def sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(8, 18))]
    if rng.random() < 0.2:
        i = rng.randrange(len(words))
        words[i] = f"*{words[i]}*"
    return " ".join(words).capitalize() + "."


def body(rng: random.Random, earlier: str | None) -> str:
    target = rng.randint(150, 400)
    paragraphs: list[str] = []
    count = 0
    while count < target:
        if rng.random() < 0.1:
            items = [sentence(rng) for _ in range(rng.randint(2, 4))]
            text = "\n".join(f"- {item}" for item in items)
        else:
            text = " ".join(sentence(rng) for _ in range(rng.randint(3, 6)))
        count += len(text.split())
        paragraphs.append(text)
    if earlier is not None:
        paragraphs.append(f"See also [an earlier event]({earlier}).")
    return "\n\n".join(paragraphs) + "\n"


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
    names = [f"Actor {i:05d}" for i in range(max(1, n // 20))]
    for i, name in enumerate(names):
        text = (
            f"---\nname: {name}\nkind: {KINDS[i % len(KINDS)]}\nrole: {rng.choice(WORDS)}\n"
            f"---\n{body(rng, None)}"
        )
        (actors / f"actor-{i:05d}.md").write_text(text, "utf-8")
    files: list[str] = []
    for i in range(n):
        year = 1900 + rng.randrange(124)
        month = rng.randint(1, 12)
        day = rng.randint(1, 28)
        precision = rng.random()
        date = (
            f"{year}"
            if precision < 0.05
            else f"{year}-{month:02d}"
            if precision < 0.2
            else (f"{year}-{month:02d}-{day:02d}")
        )
        name = f"{year}-{month:02d}-{day:02d}-event-{i:05d}.md"
        cast = sorted(rng.sample(names, k=min(len(names), rng.randint(1, 4))))
        tags = sorted(rng.sample(TAGS, k=rng.randint(1, 3)))
        earlier = rng.choice(files) if files and rng.random() < 0.3 else None
        text = (
            "---\n"
            f"title: Event {i} about {rng.choice(WORDS)} and {rng.choice(WORDS)}\n"
            f"date: {date}\n"
            f"actors: [{', '.join(cast)}]\n"
            f"places: [{rng.choice(PLACES)}]\n"
            f"tags: [{', '.join(tags)}]\n"
            f'sources:\n  - {{title: Report {i}, url: "https://example.org/report/{i}"}}\n'
            "---\n" + body(rng, earlier)
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
