"""Spread a build's heavy stages over the machine's cores.

Worker processes are forked, so they share the parent's state (the linked timeline, the
compiled templates) copy-on-write instead of receiving it through pickles; only each chunk's
results travel back. Forking a process that runs threads is unsafe, so the dev server builds
with ``workers=1``, which runs everything in the calling process.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import pickle
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from multiprocessing.connection import Connection
from typing import Any, Generic, TypeVar, cast

T = TypeVar("T")
R = TypeVar("R")

# Below this many items the cost of starting workers outweighs what they save.
MIN_ITEMS = 400

_job: tuple[Any, Callable[[Any, Any], Any]] | None = None
_frozen = 0  # depth of collector_frozen() blocks


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
    # The workers' garbage collector leaves what they inherit alone (the timeline, the
    # bodies): its full passes over all of it cost time and copied the pages it touched.
    try:
        with collector_frozen(), multiprocessing.get_context("fork").Pool(workers) as pool:
            yield from pool.imap(_run, chunks, chunksize=1)
    finally:
        _job = None


@contextmanager
def collector_frozen() -> Iterator[None]:
    """Leave the objects that exist now out of the garbage collector's passes until the
    outermost of these blocks ends (``gc.freeze`` itself does not nest)."""
    global _frozen
    gc.freeze()
    _frozen += 1
    try:
        yield
    finally:
        _frozen -= 1
        if not _frozen:
            gc.unfreeze()


@contextmanager
def collector_paused() -> Iterator[None]:
    """For the stages that make hundreds of thousands of small objects in no cycle (the
    entries, their summaries, the links). The garbage collector's full passes over them
    grow with the model and run more often as it grows: at 100,000 events they were a
    fifth of linking's time and three quarters of the parent's while reading entries.
    Not around Markdown, which leaves cycles behind when it runs in this process."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def even_chunks(items: Sequence[T], workers: int) -> list[Sequence[T]]:
    """A few chunks per worker, which evens out their load."""
    size = -(-len(items) // (workers * 4))
    return [items[i : i + size] for i in range(0, len(items), size)]


def _run(chunk: Sequence[Any]) -> Any:
    assert _job is not None
    state, function = _job
    return function(state, chunk)


class Background(Generic[R]):
    """``function(*args)`` in a forked process while the caller goes on, for work that
    only reads or touches the disk (the output folder's check, the search index of the
    staged pages). ``result()`` waits for it and gives its value (which must pickle), or
    raises what it raised, as the same type with the same message. A process, not a
    thread: the build forks its workers after this starts, and forking a process that
    runs threads is unsafe. Without ``fork`` (or with ``at_once``), the work is done
    here and now, and ``result()`` gives its outcome."""

    def __init__(self, function: Callable[..., R], *args: Any, at_once: bool = False) -> None:
        self._outcome: BaseException | None = None
        self._value: R | None = None
        self._process: multiprocessing.process.BaseProcess | None = None
        if at_once or "fork" not in multiprocessing.get_all_start_methods():
            try:
                self._value = function(*args)
            except Exception as exc:
                self._outcome = exc
            return
        context = multiprocessing.get_context("fork")
        self._reader, writer = context.Pipe(duplex=False)
        sys.stdout.flush()  # else the child would write out a copy of what is buffered
        sys.stderr.flush()
        self._process = context.Process(target=_report, args=(writer, function, args))
        self._process.start()
        writer.close()

    def result(self) -> R:
        process, self._process = self._process, None
        if process is not None:
            try:
                self._value, self._outcome = self._reader.recv()
            except EOFError:  # it died before it could say how it went
                process.join()
                self._outcome = RuntimeError(
                    f"a background process ended early (exit code {process.exitcode})"
                )
            self._reader.close()
            process.join()
        if self._outcome is not None:
            raise self._outcome
        return cast(R, self._value)


def _report(writer: Connection, function: Callable[..., object], args: tuple[Any, ...]) -> None:
    """Run ``function`` and send back its value and None, or None and the exception it
    raised (a RuntimeError with its text when the exception itself cannot be sent)."""
    value, outcome = None, None
    try:
        value = function(*args)
    except BaseException as exc:
        outcome = exc
    try:
        writer.send((value, outcome))
    except (pickle.PicklingError, TypeError, AttributeError):
        writer.send((None, RuntimeError(f"{type(outcome).__name__}: {outcome}")))
    writer.close()
