"""The least a Python build of the corpus can do: issue 8's "bare loop", as a yardstick.

    python bench/floor.py CONTENT OUTPUT [--workers N]

For every Markdown file under CONTENT: read it, parse its YAML front matter (the C loader
when PyYAML has it, as timeline uses), render its body with Python-Markdown (as it comes,
no extensions) and put the result through a one-line Jinja page, written to
OUTPUT/<file's path without .md>/index.html. Nothing else: no validation, no links between
pages, no lists, no feeds, no search index. Files are spread over ``--workers`` processes
(default: every core), in even chunks.

`make bench` runs it beside the real builds ("bare loop" in the table), so that timeline's
and the peers' times can be read against the time the mandated libraries alone take on the
same machine in the same run.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
from pathlib import Path

import jinja2
import markdown
import yaml
from markupsafe import Markup

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
PAGE = jinja2.Template(
    "<!doctype html><html><head><title>{{ title }}</title></head>"
    "<body><h1>{{ title }}</h1>{{ body }}</body></html>",
    autoescape=True,
)


def build_chunk(job: tuple[Path, Path, list[Path]]) -> int:
    content, output, files = job
    md = markdown.Markdown()
    for path in files:
        text = path.read_text("utf-8")
        _, front, body = text.split("---\n", 2)
        meta = yaml.load(front, Loader=LOADER) or {}
        html = Markup(md.reset().convert(body))
        page = output / path.relative_to(content).with_suffix("") / "index.html"
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(PAGE.render(title=meta.get("title", path.stem), body=html), "utf-8")
    return len(files)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("content", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    args = parser.parse_args()
    files = sorted(args.content.rglob("*.md"))
    chunks = [files[i :: args.workers] for i in range(args.workers)]
    with multiprocessing.get_context("fork").Pool(args.workers) as pool:
        done = sum(pool.map(build_chunk, [(args.content, args.output, c) for c in chunks]))
    assert done == len(files)


if __name__ == "__main__":
    main()
