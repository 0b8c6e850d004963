"""Spread a build's heavy stages over the machine's cores.

Worker processes are forked, so they share the parent's state (the linked timeline, the
compiled templates) copy-on-write instead of receiving it through pickles; only each chunk's
results travel back. Forking a process that runs threads is unsafe, so the dev server builds
with ``workers=1``, which runs everything in the calling process.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

# Below this many items the cost of starting workers outweighs what they save.
MIN_ITEMS = 400

_job: tuple[Any, Callable[[Any, Any], Any]] | None = None


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)


def map_chunks(
    function: Callable[[Any, Sequence[T]], R],
    state: Any,
    items: Sequence[T],
    workers: int,
    plan: Callable[[Sequence[T], int], list[Sequence[T]]] | None = None,
) -> Iterator[R]:
    """``function(state, chunk)`` for chunks of ``items``, in order of the chunks: even
    ones, or those ``plan(items, workers)`` makes of them, which the workers take in
    their order as each comes free (so the longest should come first). Each result comes
    as soon as it and those before it are ready, so the caller works on it while the
    workers go on."""
    if (
        workers <= 1
        or len(items) < MIN_ITEMS
        or "fork" not in multiprocessing.get_all_start_methods()
    ):
        yield function(state, items)
        return
    chunks = plan(items, workers) if plan is not None else even_chunks(items, workers)
    global _job
    _job = (state, function)
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            yield from pool.imap(_run, chunks, chunksize=1)
    finally:
        _job = None


def even_chunks(items: Sequence[T], workers: int) -> list[Sequence[T]]:
    """A few chunks per worker, which evens out their load."""
    size = -(-len(items) // (workers * 4))
    return [items[i : i + size] for i in range(0, len(items), size)]


def _run(chunk: Sequence[Any]) -> Any:
    assert _job is not None
    state, function = _job
    return function(state, chunk)
