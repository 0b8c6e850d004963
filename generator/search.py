"""The static full-text search index, made by Pagefind from the event pages.

Pagefind is a program (shipped inside its Python package), so this is an edge like
output.py: the CLI runs it over the staged output folder, after the pages are written and
before the folder is swapped in, so the output is still replaced in one atomic step.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from generator import messages as M

INDEX_FOLDER = "pagefind"
EVENT_PAGES = "events/**/*.html"
TIMEOUT = 300  # seconds; 10,000 events index in a few seconds
# Pagefind's ready-made interfaces; the theme has its own small search box instead.
_UNUSED = ("pagefind-ui", "pagefind-modular-ui", "pagefind-component-ui", "pagefind-highlight")


class SearchError(Exception):
    """The indexer could not run or failed; the message says why."""


def index_site(site: Path) -> None:
    """Add the search index of the event pages of the built site in ``site``."""
    if not any((site / "events").glob("*/index.html")):
        return  # nothing to find; Pagefind refuses an empty site
    _run_pagefind(site)
    for unused in (site / INDEX_FOLDER).glob("*"):
        if unused.is_file() and unused.name.startswith(_UNUSED):
            unused.unlink()


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
        raise SearchError(M.SEARCH_TIMEOUT(seconds=TIMEOUT)) from None
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        reason = detail[-1] if detail else f"exit code {done.returncode}"
        raise SearchError(M.SEARCH_FAILED(reason=reason))
