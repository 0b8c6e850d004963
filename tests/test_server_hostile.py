"""``timeline serve`` under load and hostile requests: it keeps serving.

The real ``timeline serve`` runs in a child process on 127.0.0.1 with its stderr captured;
clients are threads and raw sockets in this process. Every test ends by checking the
server is alive, still serves the home page and has printed no traceback.
"""

from __future__ import annotations

import itertools
import re
import select
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import IO

import pytest

from generator import server as preview_server
from tests.conftest import SITES, bench_script

WAIT = 15.0  # seconds: bound on anything a test waits for
MARK = b"x7f3a"  # in every file the server must never send
SECRETS = {
    "site/secret.txt": "secret-root-x7f3a\n",
    "secret.txt": "secret-parent-x7f3a\n",
}
FAST = 2.0  # seconds: the slowest answer an ordinary request may get beside slow clients


def bench() -> ModuleType:
    return bench_script("serve_load")


@dataclass
class Served:
    root: Path
    process: subprocess.Popen[str]
    port: int
    stderr: IO[str]

    @property
    def host(self) -> bytes:
        return f"Host: 127.0.0.1:{self.port}\r\n".encode()

    def errors(self) -> str:
        self.stderr.seek(0)
        return self.stderr.read()

    def threads(self) -> int:
        status = Path(f"/proc/{self.process.pid}/status").read_text("utf-8")
        match = re.search(r"^Threads:\s+(\d+)$", status, re.M)
        assert match is not None
        return int(match[1])

    def assert_healthy(self) -> None:
        assert self.process.poll() is None, "the server died"
        reply = exchange(self, b"GET / HTTP/1.1\r\n" + self.host + b"\r\n")
        assert status_of(reply) == 200
        assert "Traceback" not in self.errors()


def start(root: Path, stderr: IO[str]) -> Served:
    for name, text in SECRETS.items():
        (root.parent / name).write_text(text, "utf-8")
    with open(root / "timeline.toml", "a", encoding="utf-8") as config:
        config.write("# secret-config-x7f3a\n")
    process, port = bench().start_serve(root, stderr)
    return Served(root, process, port, stderr)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("hostile")
    root = shutil.copytree(SITES / "basic", folder / "site")
    with open(folder / "stderr.txt", "w+", encoding="utf-8") as stderr:
        server = start(root, stderr)
        yield server
        bench().stop(server.process)


def exchange(served: Served, data: bytes, timeout: float = WAIT) -> bytes:
    """Send raw bytes, half-close, read until the server closes. A reset counts as a
    close; a server that has not closed within timeout (in all) fails the test."""
    deadline = time.monotonic() + timeout
    with socket.create_connection(("127.0.0.1", served.port), timeout=timeout) as sock:
        try:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
        except OSError:  # a pipe or connection error: it answered and closed before
            pass  # reading everything (then its kernel resets the connection): allowed
        reply = b""
        while True:
            try:
                sock.settimeout(max(deadline - time.monotonic(), 0.001))
                chunk = sock.recv(65536)
            except ConnectionResetError:
                return reply
            except TimeoutError:
                pytest.fail(f"no close within {timeout} s: {data[:60]!r} got {reply[:60]!r}")
            if not chunk:
                return reply
            reply += chunk


def status_of(reply: bytes) -> int | None:
    """The status of a raw reply; None when the server closed without answering. An error
    to a request too broken to have a version comes as a bare page (HTTP/0.9 style)."""
    if reply.startswith(b"HTTP/1."):
        return int(reply[9:12])
    match = re.search(rb"<p>Error code: (\d+)</p>", reply)
    if match is not None:
        return int(match[1])
    assert reply == b"", f"an answer without a status: {reply[:200]!r}"
    return None


def header(reply: bytes, name: str) -> str | None:
    head = reply.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    match = re.search(rf"^{name}:\s*(.*?)\s*$", head, re.M | re.I)
    return match[1] if match else None


# --- load -------------------------------------------------------------------------------

TARGETS = [
    ("page", "/"),
    ("asset", "/static/style.css"),
    ("missing", "/nowhere/"),
    ("sse", "/__timeline__/events?epoch=0"),
    ("page", "/events/moon/"),
    ("asset", "/__timeline__/live.js"),
    ("page", "/actors/brutus/"),
    ("asset", "/static/filter.js"),
    ("page", "/years/0079/"),
    ("missing", "/events/moon/nothing.css"),
]


@pytest.mark.slow
def test_fifty_clients_while_files_change(served: Served) -> None:
    load = bench()
    edit = load.Retitler(served.root / "content/events/moon.md", "Moon edit")
    samples = load.load(served.port, TARGETS, 50, seconds=8, requests=5000, edit=edit, every=0.2)
    failed = [s for s in samples if not s.ok]
    assert failed == [], failed[:5]  # no refused or reset connection, no wrong status
    assert len(samples) >= 1000 and edit.edits >= 3, (len(samples), edit.edits)
    # A connection the server is too slow to accept is retried after 1 s, then 3 s...
    table = load.table(load.summarize(samples))
    assert all(row.p99 < 1000 and row.max < 5000 for row in load.summarize(samples)), table
    html = load.wait_for_text(served.port, "/events/moon/", f"<h1>{edit.last}</h1>", WAIT)
    assert "timeline-errors" not in html
    served.assert_healthy()


# --- slow clients -------------------------------------------------------------------------


def drip(served: Served, seconds: float, result: list[bytes]) -> None:
    """A request sent one byte at a time over ``seconds``."""
    data = b"GET /events/moon/ HTTP/1.1\r\n" + served.host + b"Connection: close\r\n\r\n"
    with socket.create_connection(("127.0.0.1", served.port), timeout=WAIT) as sock:
        for byte in data:
            sock.sendall(bytes([byte]))
            time.sleep(seconds / len(data))  # the slowness is the point here
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    result.append(reply)


def never_reading_stream(served: Served) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", served.port), timeout=WAIT)
    sock.sendall(b"GET /__timeline__/events?epoch=0 HTTP/1.1\r\n" + served.host + b"\r\n")
    return sock


def closed_by_server(socks: list[socket.socket], want: int, timeout: float) -> int:
    """How many of socks the server closes, waiting (at most timeout in all) until want
    of them have closed. What it sends before closing is read and dropped."""
    deadline = time.monotonic() + timeout
    waiting = set(socks)
    closed = 0
    while closed < want and (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select(list(waiting), [], [], left)
        for sock in ready:
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                data = b""
            if not data:
                waiting.discard(sock)
                closed += 1
    return closed


@pytest.mark.slow
def test_slow_clients_do_not_hold_up_the_others(served: Served) -> None:
    dripped: list[bytes] = []
    dripper = threading.Thread(target=drip, args=(served, 3.0, dripped))
    idle = socket.create_connection(("127.0.0.1", served.port), timeout=WAIT)  # sends nothing
    idle_since = time.monotonic()
    streams = [never_reading_stream(served) for _ in range(100)]
    dripper.start()
    latencies = []
    while dripper.is_alive():
        begun = time.perf_counter()
        assert status_of(exchange(served, b"GET / HTTP/1.1\r\n" + served.host + b"\r\n")) == 200
        latencies.append(time.perf_counter() - begun)
    dripper.join()
    assert len(latencies) >= 10 and max(latencies) < FAST, latencies
    assert status_of(dripped[0]) == 200 and b"<h1>" in dripped[0]
    # The oldest streams are closed to make room for new ones: the server keeps a bounded
    # number of threads however many streams a client opens and never reads.
    evicted = len(streams) - preview_server.MAX_STREAMS
    assert closed_by_server(streams, evicted, WAIT) == evicted
    assert served.threads() < preview_server.MAX_STREAMS + 20
    # A connection that never sends a request is closed after the idle timeout.
    assert closed_by_server([idle], 1, preview_server.IDLE_TIMEOUT + WAIT) == 1
    assert time.monotonic() - idle_since >= preview_server.IDLE_TIMEOUT - 0.5
    for sock in [idle, *streams]:
        sock.close()
    served.assert_healthy()


# --- malformed requests -------------------------------------------------------------------

HOST = b"Host: 127.0.0.1\r\n"
# None: closed without an answer. The server may answer and close before it has read all
# of a bad request; the kernel then resets the connection, and the answer can be lost.
MALFORMED: list[tuple[str, bytes, set[int | None]]] = [
    ("garbage", b"\x00\xff\xfe\x80 garbage \x01\r\n\r\n", {400, None}),
    ("binary", bytes(range(256)) * 16, {400, None}),
    ("only line ends", b"\r\n\r\n\r\n", {None}),
    ("nothing", b"", {None}),
    ("http/0.9", b"GET /\r\n", {400}),
    ("missing host", b"GET / HTTP/1.1\r\n\r\n", {400}),
    ("missing host, 1.0", b"GET / HTTP/1.0\r\n\r\n", {400}),
    ("two hosts", b"GET / HTTP/1.1\r\n" + HOST + b"Host: evil.example\r\n\r\n", {400}),
    ("other host", b"GET / HTTP/1.1\r\nHost: evil.example\r\n\r\n", {403}),
    ("bad host", b"GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", {403}),
    ("latin-1 host", b"GET / HTTP/1.1\r\nHost: \xff\xfe\r\n\r\n", {403}),
    ("absurd method", b"FROBNICATE / HTTP/1.1\r\n" + HOST + b"\r\n", {501}),
    ("lowercase method", b"get / HTTP/1.1\r\n" + HOST + b"\r\n", {501}),
    ("huge method", b"X" * 5000 + b" / HTTP/1.1\r\n" + HOST + b"\r\n", {501}),
    ("connect", b"CONNECT 127.0.0.1:22 HTTP/1.1\r\n" + HOST + b"\r\n", {501}),
    ("post", b"POST / HTTP/1.1\r\n" + HOST + b"Content-Length: 999999999\r\n\r\n", {501}),
    ("version 9.9", b"GET / HTTP/9.9\r\n" + HOST + b"\r\n", {505}),
    ("version garbage", b"GET / HTTP/1.x\r\n" + HOST + b"\r\n", {400}),
    ("no version word", b"GET / FTP/1.1\r\n" + HOST + b"\r\n", {400}),
    ("extra words", b"GET / / HTTP/1.1\r\n" + HOST + b"\r\n", {400}),
    ("100 KB line", b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\n" + HOST + b"\r\n", {414}),
    ("1000 headers", b"GET / HTTP/1.1\r\n" + HOST + b"X-A: b\r\n" * 1000 + b"\r\n", {431}),
    (
        "1 MB header",
        b"GET / HTTP/1.1\r\n" + HOST + b"X-A: " + b"b" * 2**20 + b"\r\n\r\n",
        {431, None},
    ),
    ("header without colon", b"GET / HTTP/1.1\r\nHost 127.0.0.1\r\n\r\n", {400}),
    ("bad percent", b"GET /%zz%4 HTTP/1.1\r\n" + HOST + b"\r\n", {404}),
    ("lone percent", b"GET /% HTTP/1.1\r\n" + HOST + b"\r\n", {404}),
    ("overlong utf-8", b"GET /%c0%ae%c0%ae/ HTTP/1.1\r\n" + HOST + b"\r\n", {404}),
    ("invalid utf-8", b"GET /%ff%fe/ HTTP/1.1\r\n" + HOST + b"\r\n", {404}),
    ("raw nul", b"GET /index.html\x00.css HTTP/1.1\r\n" + HOST + b"\r\n", {404}),
    ("encoded nul", b"GET /index.html%00 HTTP/1.1\r\n" + HOST + b"\r\n", {404}),
    ("raw high bytes", b"GET /\xff\xfe HTTP/1.1\r\n" + HOST + b"\r\n", {404}),
    ("absolute form", b"GET http://evil.example/ HTTP/1.1\r\n" + HOST + b"\r\n", {404}),
    ("asterisk", b"GET * HTTP/1.1\r\n" + HOST + b"\r\n", {404}),
    ("head stream", b"HEAD /__timeline__/events HTTP/1.1\r\n" + HOST + b"\r\n", {200}),
    (
        "bad epoch",
        b"HEAD /__timeline__/events?epoch=%ff&epoch HTTP/1.1\r\n" + HOST + b"\r\n",
        {200},
    ),
]


@pytest.mark.parametrize(
    ("data", "allowed"), [c[1:] for c in MALFORMED], ids=[c[0] for c in MALFORMED]
)
def test_malformed_requests_get_a_clean_answer(
    served: Served, data: bytes, allowed: set[int | None]
) -> None:
    reply = exchange(served, data)
    assert status_of(reply) in allowed, reply[:300]
    assert MARK not in reply
    assert "Traceback" not in served.errors()


# --- paths out of the site, in every encoding ---------------------------------------------

DOTS = [
    "..",
    "%2e%2e",
    "%2E%2E",
    ".%2e",
    "%2e.",
    "%252e%252e",  # encoded twice: decoded once, it is a name, not '..'
    "%c0%ae%c0%ae",  # overlong UTF-8
    "\uff0e\uff0e",  # fullwidth full stops, sent as UTF-8
    "%ef%bc%8e%ef%bc%8e",
    "%u002e%u002e",  # IIS's %u form
    "..;",
    ".;.",
    "...",
]
SEPARATORS = ["/", "%2f", "%2F", "%252f", "\\", "%5c", "%5C", "%255c", "%c0%af", ";/", "/;x=1/"]
NAMES = ["secret.txt", "timeline.toml", "site/secret.txt", "etc/passwd"]


def outside_targets(dots: str) -> Iterator[bytes]:
    for separator, depth, prefix, name in itertools.product(
        SEPARATORS, (1, 4), ("/", "/events/", "/static/"), NAMES
    ):
        yield (prefix + (dots + separator) * depth + name).encode("utf-8")


@pytest.mark.parametrize("dots", DOTS)
def test_nothing_outside_the_site_is_served(served: Served, dots: str) -> None:
    for target in outside_targets(dots):
        reply = exchange(served, b"GET " + target + b" HTTP/1.1\r\n" + served.host + b"\r\n")
        assert status_of(reply) in (400, 404), (target, reply[:200])
        assert header(reply, "Location") is None, target
        assert MARK not in reply and b"root:x:" not in reply, target
    assert "Traceback" not in served.errors()


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "//evil.example/events/moon",
        "/%2f%2fevil.example/",
        "/%2F/evil.example/",
        "/\\evil.example/",
        "/%5cevil.example/",
        "/%09/evil.example/",
        "/events/moon;//evil.example",
        "/events%2fmoon",
    ],
)
def test_no_redirect_leaves_the_host(served: Served, target: str) -> None:
    reply = exchange(served, f"GET {target} HTTP/1.1\r\n".encode() + served.host + b"\r\n")
    location = header(reply, "Location")
    assert location is None or re.fullmatch(r"/[^/\\][^\\]*", location), location
    assert status_of(reply) in (301, 404)


def test_the_one_redirect_stays_on_the_host(served: Served) -> None:
    reply = exchange(served, b"GET /events/moon HTTP/1.1\r\n" + served.host + b"\r\n")
    assert status_of(reply) == 301
    assert header(reply, "Location") == "/events/moon/"


# --- stopping -----------------------------------------------------------------------------


@pytest.mark.slow
def test_ctrl_c_stops_it_with_clients_still_connected(tmp_path: Path) -> None:
    root = shutil.copytree(SITES / "basic", tmp_path / "site")
    with open(tmp_path / "stderr.txt", "w+", encoding="utf-8") as stderr:
        server = start(root, stderr)
        try:
            streams = [never_reading_stream(server) for _ in range(5)]
            idle = socket.create_connection(("127.0.0.1", server.port), timeout=WAIT)
            half = socket.create_connection(("127.0.0.1", server.port), timeout=WAIT)
            half.sendall(b"GET / HTTP/1.1\r\nHo")
            server.assert_healthy()
            took, out = bench().stop(server.process)
        finally:
            server.process.kill()
            server.process.wait(timeout=WAIT)
        for sock in [idle, half, *streams]:
            sock.close()
        assert server.process.returncode == 0
        assert took < 5.0
        assert "Stopped." in out
        assert "Traceback" not in server.errors()
