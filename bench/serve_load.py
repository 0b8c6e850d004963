"""Load test of ``timeline serve`` on 127.0.0.1, while a file changes every second.

    python bench/serve_load.py --n 1000 --clients 50 --seconds 20 --requests 20000

Generates a site with bench/corpus.py, starts the real ``timeline serve`` on a free port
and runs CLIENTS threads against it until SECONDS have passed or REQUESTS requests were
sent, whichever comes first. Each request opens a new connection (the hardest case for
the server's accept loop) and asks, in turn, for an event page, a year or actor page, a
stylesheet, a missing page (404) or the live-reload stream (SSE: timed to its first
line, then closed, as a tab that goes away). Meanwhile a thread retitles one event file
every second, so requests meet rebuilds. Prints, per kind of request: requests served,
errors (a refused or reset connection, a timeout, an unexpected status) and latency
percentiles; then checks the last edit is shown and the server's stderr has no traceback,
and stops it with Ctrl-C (SIGINT).

tests/test_server_hostile.py reuses ``start_serve``, ``load``, ``wait_for_text`` and
``summarize`` with a small site.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from corpus import generate  # noqa: E402

TIMEOUT = 30.0  # seconds: any single request slower than this counts as an error
EVENTS = "/__timeline__/events"
EXPECTED = {"page": 200, "asset": 200, "missing": 404, "sse": 200}


@dataclass(frozen=True)
class Sample:
    kind: str  # page, asset, missing or sse
    target: str
    status: int | None  # None: no answer (see error)
    seconds: float
    error: str = ""  # the exception, for a request that got no answer

    @property
    def ok(self) -> bool:
        return self.status == EXPECTED[self.kind]


@dataclass(frozen=True)
class Summary:
    kind: str
    served: int
    errors: int
    p50: float  # milliseconds
    p90: float
    p99: float
    max: float


def start_serve(site: Path, stderr: IO[str], *args: str) -> tuple[subprocess.Popen[str], int]:
    """``timeline serve --port 0`` in site; the process and the port it listens on."""
    process = subprocess.Popen(
        [sys.executable, "-m", "generator", "serve", "--port", "0", "--quiet", *args],
        cwd=site,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        preexec_fn=interruptible,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    while "Serving" not in line:
        if not line:
            process.wait(timeout=TIMEOUT)
            raise RuntimeError(f"timeline serve exited with {process.returncode}")
        line = process.stdout.readline()
    match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
    assert match is not None, line
    return process, int(match[1])


def interruptible() -> None:
    """Run in the child before the server starts: SIGINT as from a terminal. A command
    run in the background by a shell without job control (``make test &`` in a script, a
    CI runner's) starts with SIGINT ignored, Python then leaves it so, and Ctrl-C, as
    ``stop`` sends it, would not reach the server."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def stop(process: subprocess.Popen[str]) -> tuple[float, str]:
    """Ctrl-C: the seconds it took to exit, and what it printed."""
    begun = time.perf_counter()
    process.send_signal(signal.SIGINT)
    out, _ = process.communicate(timeout=TIMEOUT)
    return time.perf_counter() - begun, out


def request(port: int, kind: str, target: str) -> Sample:
    """One request on a new connection. An SSE stream is read up to its first line."""
    begun = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        conn.request("GET", target)
        response = conn.getresponse()
        if kind == "sse":
            if response.readline() != b"retry: 1000\n":
                return Sample(kind, target, None, time.perf_counter() - begun, "no retry line")
        else:
            response.read()
        return Sample(kind, target, response.status, time.perf_counter() - begun)
    except (OSError, http.client.HTTPException) as exc:
        return Sample(kind, target, None, time.perf_counter() - begun, repr(exc))
    finally:
        conn.close()


def load(
    port: int,
    targets: Sequence[tuple[str, str]],
    clients: int,
    seconds: float,
    requests: int,
    edit: Callable[[int], None] | None = None,
    every: float = 1.0,
) -> list[Sample]:
    """``clients`` threads send ``targets`` (kind, path) in turn until ``seconds`` have
    passed or ``requests`` were sent; meanwhile ``edit(i)`` runs every ``every`` seconds."""
    deadline = time.monotonic() + seconds
    counter = itertools.count()  # next() on it is atomic: no lock needed
    samples: list[Sample] = []  # list.append is atomic too
    done = threading.Event()

    def client() -> None:
        while time.monotonic() < deadline:
            i = next(counter)
            if i >= requests:
                return
            kind, target = targets[i % len(targets)]
            samples.append(request(port, kind, target))

    def editor() -> None:
        assert edit is not None
        for i in itertools.count():
            edit(i)
            if done.wait(every):
                return

    threads = [threading.Thread(target=client) for _ in range(clients)]
    if edit is not None:
        edit_thread = threading.Thread(target=editor)
        edit_thread.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    if edit is not None:
        edit_thread.join()
    return samples


def current_epoch(port: int, target: str) -> tuple[str, int]:
    """A page's text and the epoch it was built in (from the reload script's tag)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        conn.request("GET", target)
        html = conn.getresponse().read().decode("utf-8")
    finally:
        conn.close()
    match = re.search(r'data-epoch="(\d+)"', html)
    assert match is not None, f"{target} has no reload script"
    return html, int(match[1])


def wait_for_text(port: int, target: str, text: str, timeout: float) -> str:
    """Wait until a page shows text: on the server's own reload stream, not a clock."""
    deadline = time.monotonic() + timeout
    html, epoch = current_epoch(port, target)
    while text not in html:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"{text!r} never appeared in {target}")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=left)
        try:
            conn.request("GET", f"{EVENTS}?epoch={epoch}")
            stream = conn.getresponse()
            while stream.readline() not in (b"event: reload\n", b""):
                pass
        finally:
            conn.close()
        html, epoch = current_epoch(port, target)
    return html


def percentile(values: Sequence[float], p: int) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def summarize(samples: Sequence[Sample]) -> list[Summary]:
    rows = []
    for kind in EXPECTED:
        mine = [s for s in samples if s.kind == kind]
        if not mine:
            continue
        ms = sorted(s.seconds * 1000 for s in mine)
        served = sum(s.ok for s in mine)
        rows.append(
            Summary(
                kind,
                served,
                len(mine) - served,
                percentile(ms, 50),
                percentile(ms, 90),
                percentile(ms, 99),
                ms[-1],
            )
        )
    return rows


def table(rows: Sequence[Summary]) -> str:
    lines = [
        "| request | served | errors | p50 ms | p90 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.kind} | {r.served} | {r.errors} | {r.p50:.1f} | {r.p90:.1f} | "
            f"{r.p99:.1f} | {r.max:.1f} |"
        )
    return "\n".join(lines)


def site_targets(site: Path) -> list[tuple[str, str]]:
    """What the clients ask for, in turn: pages of every kind, assets, 404s, SSE."""
    events = sorted((site / "content" / "events").glob("*.md"))[:20]
    actors = sorted((site / "content" / "actors").glob("*.md"))[:5]
    pages = ["/", "/actors/", *(f"/events/{_slug(p)}/" for p in events)]
    pages += [f"/actors/{p.stem}/" for p in actors]
    targets = [("page", p) for p in pages]
    targets += [("asset", "/static/style.css"), ("asset", "/static/filter.js")]
    targets += [("missing", "/no/such/page/"), ("sse", f"{EVENTS}?epoch=0")]
    # Interleave so every client meets every kind within a few requests.
    kinds = [[t for t in targets if t[0] == k] for k in EXPECTED]
    return [t for group in itertools.zip_longest(*kinds) for t in group if t is not None]


def _slug(path: Path) -> str:
    # corpus.py names files <date>-event-NNNNN.md and derives no slug field
    return path.stem


TITLE = re.compile(r"^title: .*$", re.M)


class Retitler:
    """An edit function for ``load``: sets an event's title to ``prefix i``."""

    def __init__(self, path: Path, prefix: str) -> None:
        self.path = path
        self.prefix = prefix
        self.original = path.read_text("utf-8")
        self.last = ""  # the title of the last edit
        self.edits = 0

    def __call__(self, i: int) -> None:
        self.last = f"{self.prefix} {i}"
        self.path.write_text(TITLE.sub(f"title: {self.last}", self.original, count=1), "utf-8")
        self.edits += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="events in the generated site")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0, help="longest run")
    parser.add_argument("--requests", type=int, default=20000, help="most requests")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="timeline-serve-load-") as tmp:
        site = Path(tmp) / "site"
        generate(args.n, args.seed, site)
        edited = sorted((site / "content" / "events").glob("*.md"))[0]
        edit = Retitler(edited, "Retitled under load")
        with open(Path(tmp) / "stderr.txt", "w+", encoding="utf-8") as err:
            begun = time.perf_counter()
            process, port = start_serve(site, err)
            print(f"{args.n} events: first build and serve in {time.perf_counter() - begun:.1f} s")
            try:
                begun = time.perf_counter()
                samples = load(
                    port, site_targets(site), args.clients, args.seconds, args.requests, edit
                )
                took = time.perf_counter() - begun
                wait_for_text(port, f"/events/{_slug(edited)}/", edit.last, TIMEOUT)
            finally:
                alive = process.poll() is None  # still running after the load
                stopped = stop(process)[0] if alive else float("nan")
            err.seek(0)
            stderr = err.read()
        print(
            f"{len(samples)} requests from {args.clients} clients in {took:.1f} s "
            f"({len(samples) / took:.0f}/s), {edit.edits} edits; last edit shown; "
            f"Ctrl-C stopped the server in {stopped:.2f} s (exit {process.returncode}); "
            f"tracebacks in its stderr: {stderr.count('Traceback')}"
        )
        print(table(summarize(samples)))
        failures = [s for s in samples if not s.ok]
        for sample in failures[:10]:
            print(f"  {sample.kind} {sample.target}: {sample.status} {sample.error}")


if __name__ == "__main__":
    main()
