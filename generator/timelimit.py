"""A time limit on one piece of work, in whichever thread of this process runs it: the
build renders Markdown in its render workers' main threads, the dev server in a thread
of its own, so a signal (which only the main thread receives) would not do.

A watchdog thread looks at the work under way a few times a second and, once its limit
has passed, raises ``OutOfTime`` in the thread doing it (CPython's
``PyThreadState_SetAsyncExc``). The exception comes at the thread's next Python
instruction: work that runs Python code (every slow pattern of Python-Markdown and of
the standard library's HTML parser found so far) is stopped; a single call into C that
runs long is stopped only when it returns.
"""

from __future__ import annotations

import ctypes
import os
import random
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from sys import UnraisableHookArgs

T = TypeVar("T")
POLL = 0.1  # seconds between the watchdog's looks, on average: how late a limit may come


class OutOfTime(BaseException):
    """Raised in the thread whose work ran past its limit. A BaseException, so that a
    library's ``except Exception`` does not swallow it and carry on."""


class TimeLimitExceeded(Exception):
    """What ``within`` raises when its work ran past the limit; its cause is the
    OutOfTime that stopped it, whose traceback shows where."""


_lock = threading.Lock()
_deadlines: dict[int, float] = {}  # thread id -> when its work must have ended
_raised: set[int] = set()  # the threads the watchdog raised OutOfTime in
_watchdog: threading.Thread | None = None


def within(seconds: float, work: Callable[[], T]) -> T:
    """``work()``, or TimeLimitExceeded if it has not returned after ``seconds``."""
    global _watchdog
    thread = threading.get_ident()
    if not getattr(sys.unraisablehook, "quiet_out_of_time", False):
        sys.unraisablehook = _quiet_out_of_time(sys.unraisablehook)
    with _lock:
        assert thread not in _deadlines, "within() does not nest"
        _deadlines[thread] = time.monotonic() + seconds
        if _watchdog is None:
            _watchdog = threading.Thread(target=_watch, name="timeline time limits", daemon=True)
            _watchdog.start()
    stopped: OutOfTime | None = None
    try:
        result = work()
    except OutOfTime as exc:  # its traceback says where the work was
        stopped = exc
    finally:  # whatever the work did, its deadline goes
        late = _withdraw(thread)
    stopped = stopped or late
    if stopped is not None:
        raise TimeLimitExceeded(f"still running after {seconds:g} s") from stopped
    return result


def _withdraw(thread: int) -> OutOfTime | None:
    """End the time limit of ``thread``'s work; the OutOfTime that came meanwhile, if
    any. The watchdog may have raised one just as the work ended: it is then pending,
    and comes at this thread's next instruction. Once the deadline is withdrawn no
    other can come, so a round of this loop that ends without one has cleared it."""
    came = None
    while True:
        try:
            with _lock:
                _deadlines.pop(thread, None)
                raised = thread in _raised
                _raised.discard(thread)
            if raised:
                _set_exception(thread, None)
            return came
        except OutOfTime as stopped:
            came = stopped


def _watch() -> None:
    """Look at the work under way until there is none: a process that forks (the build
    starts its workers after rendering Markdown here) then has no thread left."""
    global _watchdog
    while True:
        # At uneven times: work that loses the exception in a finalizer (see
        # _quiet_out_of_time) and then runs as long as the watchdog sleeps would
        # otherwise meet every later one in a finalizer too.
        time.sleep(POLL * random.uniform(0.5, 1.5))
        now = time.monotonic()
        with _lock:
            if not _deadlines:
                _watchdog = None  # within() starts another when work comes
                return
            for thread, deadline in _deadlines.items():
                if now >= deadline:
                    # Again at each look while the work goes on, in case code it runs
                    # caught the exception.
                    _set_exception(thread, OutOfTime)
                    _raised.add(thread)


def _quiet_out_of_time(
    hook: Callable[[UnraisableHookArgs], object],
) -> Callable[[UnraisableHookArgs], object]:
    """``hook``, but silent about an OutOfTime raised where Python cannot pass it on (a
    finalizer, a garbage collector callback): it would print "Exception ignored in ..."
    to the user, while the watchdog raises it again at its next look."""

    def quiet(unraisable: UnraisableHookArgs) -> object:
        if isinstance(unraisable.exc_value, OutOfTime):
            return None
        return hook(unraisable)

    quiet.quiet_out_of_time = True  # type: ignore[attr-defined]
    return quiet


def _set_exception(thread: int, exception: type[BaseException] | None) -> None:
    """Have ``thread`` raise ``exception`` at its next instruction; None withdraws the one
    pending, if any."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread), ctypes.py_object(exception) if exception else None
    )


def _after_fork() -> None:
    # The watchdog does not live on in a forked process, and may have held the lock.
    global _lock, _watchdog
    _lock = threading.Lock()
    _deadlines.clear()
    _raised.clear()
    _watchdog = None


os.register_at_fork(after_in_child=_after_fork)
