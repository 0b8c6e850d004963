"""The static full-text search index, made by Pagefind from the event pages.

Pagefind is a program (shipped inside its Python package), so this is an edge like
output.py: it writes the event pages into a temporary folder, runs the indexer over them
and reads its files back as pages under ``pagefind/``. The CLI adds them to the build's
pages before writing, so the output folder is still replaced in one atomic swap.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

INDEX_FOLDER = "pagefind"
EVENT_PAGES = "events/**/*.html"
TIMEOUT = 300  # seconds; 10,000 events index in a few seconds
# Pagefind's ready-made interfaces; the theme has its own small search box instead.
_UNUSED = ("pagefind-ui", "pagefind-modular-ui", "pagefind-component-ui", "pagefind-highlight")


class SearchError(Exception):
    """The indexer could not run or failed; the message says why."""


def search_pages(pages: Mapping[str, bytes]) -> dict[str, bytes]:
    """The files of the search index of the event pages among ``pages``, by output path."""
    events = {p: d for p, d in pages.items() if p.startswith("events/") and p.endswith(".html")}
    if not events:
        return {}  # nothing to find; Pagefind refuses an empty site
    with tempfile.TemporaryDirectory(prefix="timeline-search-") as folder:
        site = Path(folder)
        for path, data in events.items():
            target = site / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        _run_pagefind(site)
        index = site / INDEX_FOLDER
        return {
            f"{INDEX_FOLDER}/{p.relative_to(index).as_posix()}": p.read_bytes()
            for p in sorted(index.rglob("*"))
            if p.is_file() and not p.name.startswith(_UNUSED)
        }


def _run_pagefind(site: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "pagefind",
        "--site",
        str(site),
        "--glob",
        EVENT_PAGES,
        "--output-subdir",
        INDEX_FOLDER,
        "--silent",
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise SearchError(
            f"the search indexer took more than {TIMEOUT} s and was stopped"
        ) from None
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        reason = detail[-1] if detail else f"exit code {done.returncode}"
        raise SearchError(
            f"the search indexer (pagefind) failed: {reason}; is the "
            "'pagefind[bin]' package installed?"
        )
