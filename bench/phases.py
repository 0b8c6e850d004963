"""Wall time of each phase of one `timeline build`, run in this process.

    cd SITE && PYTHONPATH=<checkout> python <checkout>/bench/phases.py

Wraps the build's stages (generator.build, generator.cli, generator.output) in timers,
runs `timeline build --quiet` once, and prints the seconds spent in each, then the CPU
time of this process and of its children (the render workers and Pagefind). A stage that
runs while another waits (the search index runs beside the exports) is timed where it is
waited for: the last line holds the wait for the index. For a cold build, move the site's
output folder and .timeline-cache/ out of the way first; with nothing changed since the
last build, the build is skipped and every phase shows 0.
"""

from __future__ import annotations

import functools
import resource
import time
from collections.abc import Callable
from typing import Any

from generator import build, cli, output

TIMES: dict[str, float] = {}
STAGES = (
    (cli, "load_sources", "reading the files"),
    # Checked in another process while the files are read: what is left to wait for.
    (cli, "output_checked", "waiting for the output folder's check"),
    (cli, "inputs_fingerprint", "fingerprinting the inputs"),
    (build, "read_entries", "parsing entries"),
    (build, "render_bodies", "Markdown"),
    (build, "with_summaries", "summaries"),
    (build, "link", "linking"),
    (build, "render_site", "pages (templates, writing, link notes)"),
    (output.BuiltPages, "add_parts", "exports"),
    (output.Staging, "begin_finish", "staging: stale spare files"),
    (cli, "write_site", "waiting for the search index, manifest, swap"),
)


def timed(owner: Any, name: str, label: str) -> None:
    function: Callable[..., Any] = getattr(owner, name)

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            TIMES[label] = TIMES.get(label, 0.0) + time.perf_counter() - started

    setattr(owner, name, wrapper)


def main() -> None:
    for owner, name, label in STAGES:
        timed(owner, name, label)
    started = time.perf_counter()
    code = cli.main(["build", "--quiet"])
    total = time.perf_counter() - started
    for _, _, label in STAGES:
        print(f"{label:48s} {TIMES.get(label, 0.0):8.2f} s")
    print(f"{'total':48s} {total:8.2f} s (exit {code})")
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(
        f"CPU: this process {own.ru_utime:.1f} s user, {own.ru_stime:.1f} s system; "
        f"children {children.ru_utime:.1f} s user, {children.ru_stime:.1f} s system"
    )


if __name__ == "__main__":
    main()
