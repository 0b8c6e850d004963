"""Where the dev server's rebuild after one saved edit spends its time, in this process.

    cd SITE && PYTHONPATH=<checkout> python <checkout>/bench/rebuild_stages.py \
        [--edits 10] [--gap 1.2] [--first-workers 2]

Builds the site as `timeline serve` does (its first build on ``--first-workers``
processes, the later ones in this process), then changes one event's title ``--edits``
times, waiting ``--gap`` seconds before each, and times each rebuild and its stages:
re-reading and rendering the edited file, linking, rendering the pages the edit touches,
giving the events that share a term with it their new links, and checking the links of
the pages; and when ``serve`` could have shown the edit, before the pages other than the
edited event's are rendered (see ``IncrementalBuilder.build``). Also the CPU time and the
page faults of each rebuild. The event file is put back at the end.

bench/serve_latency.py measures what an author waits for, watcher and notification
included; this script says where the rebuild's part of it goes. ``--gap 0`` against
``--gap 1.2`` shows what a pause between saves costs on a machine whose memory turns
slow to touch again after a pause (see docs/benchmarks.md, "Live preview").
"""

from __future__ import annotations

import argparse
import gc
import re
import resource
import statistics
import time
from pathlib import Path

from phases import TIMES, timed  # bench/, the script's folder, is on the path

from generator import cli, incremental
from generator.incremental import IncrementalBuilder
from generator.linking import LinkMemo
from generator.watch import SiteFiles

STAGES = (
    (IncrementalBuilder, "_read", "reading the edited file"),
    (incremental, "link", "linking"),
    (IncrementalBuilder, "_plan", "finding the pages"),
    (IncrementalBuilder, "_finish", "rendering them"),
    (LinkMemo, "refresh", "links refreshed"),
    (IncrementalBuilder, "_check_links", "link check"),
)
TITLE = re.compile(r"^title: .*$", re.M)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--edits", type=int, default=10)
    parser.add_argument("--gap", type=float, default=1.2, help="seconds idle before each edit")
    parser.add_argument("--first-workers", type=int, default=2)
    args = parser.parse_args()
    root = Path.cwd()
    _, config, problems = cli.load_config(cli._parser().parse_args(["serve"]))
    assert not problems, problems
    files = SiteFiles(root, config)
    builder = IncrementalBuilder()
    builder.workers = args.first_workers
    started = time.perf_counter()
    builder.build(config, files.sources)
    gc.freeze()  # as serve does after each build (see server.py)
    print(f"first build: {time.perf_counter() - started:.2f} s")
    builder.workers = 1  # as in `serve`, where other threads run from then on
    for owner, name, label in STAGES:
        timed(owner, name, label)
    events = sorted((root / config.content_dir / "events").rglob("*.md"))
    path = events[len(events) // 2]
    text = path.read_text("utf-8")
    totals, early = [], []
    try:
        for edit in range(args.edits):
            time.sleep(args.gap)
            TIMES.clear()
            path.write_text(TITLE.sub(f"title: Edited {edit}", text, count=1), "utf-8")
            before = resource.getrusage(resource.RUSAGE_SELF)
            started = time.perf_counter()
            files.update([path])
            shown: list[float] = []  # when `serve` could show the edit (see IncrementalBuilder)
            builder.build(config, files.sources, lambda _, at=shown: at.append(time.perf_counter()))
            total = time.perf_counter() - started
            early += [t - started for t in shown]
            gc.freeze()
            after = resource.getrusage(resource.RUSAGE_SELF)
            totals.append(total)
            cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
            stages = ", ".join(f"{label} {TIMES.get(label, 0) * 1000:.0f}" for *_, label in STAGES)
            when = f"shown at {(shown[0] - started) * 1000:.0f} ms" if shown else "not shown early"
            print(
                f"edit {edit}: {total * 1000:.0f} ms, {when} ({stages}); "
                f"{len(builder.rendered)} pages; "
                f"CPU {cpu * 1000:.0f} ms; page faults {after.ru_minflt - before.ru_minflt}"
                f" minor, {after.ru_majflt - before.ru_majflt} major"
            )
    finally:
        path.write_text(text, "utf-8")
    print(
        f"median {statistics.median(totals) * 1000:.0f} ms "
        f"(min {min(totals) * 1000:.0f}, max {max(totals) * 1000:.0f}, n={len(totals)}), "
        f"{args.gap} s idle before each edit"
    )
    if early:
        print(f"shown early: median {statistics.median(early) * 1000:.0f} ms, n={len(early)}")


if __name__ == "__main__":
    main()
