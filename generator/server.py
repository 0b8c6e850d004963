"""``timeline serve``: the author's live preview.

The site is built into memory (the output folder is never written, so a preview never
leaves a half-built site for a publisher to pick up) and served from there. A watchdog
observer reports changes; the build loop waits until the saves stop, rebuilds only what
changed (``generator.incremental``), bumps an epoch and wakes every waiting thread. Each
open page holds a Server-Sent Events stream that waits for a newer epoch and then tells
the page to reload. An edit is shown as soon as its own page renders with its links whole;
the other pages it changes are rendered when asked for, or right after. A build that
fails keeps the last good site and shows its errors over every page until a save fixes
them; a failure met in those later pages takes the preview back to the last good site.

Threads meet on one ``threading.Condition``: watcher callbacks only record a change and
notify; requests wait while a build runs, until it shows its pages; nothing sleeps.
"""

from __future__ import annotations

import argparse
import gc
import html
import ipaddress
import itertools
import mimetypes
import socket
import sys
import threading
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from generator import messages as M
from generator.build import BuildResult
from generator.config import Config
from generator.diagnostics import Diagnostic, Severity, has_errors
from generator.incremental import IncrementalBuilder, LazyPages
from generator.parallel import default_workers
from generator.watch import Folders, Kind, SiteFiles, Watcher, site_folders

# Saves arrive as bursts of file events (an editor's temporary file and rename, a file
# written in chunks, a delete and re-create). Build once they stop: after QUIET seconds
# without a change, or SETTLED_QUIET when every changed file's last event was a finished
# write (closed after writing, or renamed into place: see watch.Watcher), which only
# gathers the events of one save that arrive together; or BURST_QUIET if the changes
# began less than BURST_WINDOW after the last build, so a stream of saves costs at most
# two builds while a lone save shows at once.
QUIET = 0.02
SETTLED_QUIET = 0.003
BURST_QUIET = 0.1
BURST_WINDOW = 1.0
KEEPALIVE = 15.0  # seconds between SSE comments that keep idle streams open
REQUEST_WAIT = 30.0  # longest a request waits for a running build
# A connection that sends nothing for IDLE_TIMEOUT seconds (an idle keep-alive, a client
# that connects and goes quiet, a request trickling in byte by byte) is closed, so such
# clients cannot pile up threads forever; Apache's KeepAliveTimeout is the same 5 s.
IDLE_TIMEOUT = 5.0
# Each live-reload stream holds a thread for as long as its page is open, and a stream
# whose page has gone is only noticed at the next write. Keep at most MAX_STREAMS: a new
# stream closes the oldest one (a browser tab that is still open reconnects after a
# second), so many streams that are opened and never read cannot exhaust the threads.
MAX_STREAMS = 32
PREFIX = "/__timeline__/"
LOOPBACK_NAMES = ("localhost", "localhost.")


@dataclass(frozen=True)
class Snapshot:
    """What the server shows: the last good pages (or an edit's pages shown before they
    are all rendered, see ``Preview._show_early``), the errors of the last build (empty
    when it succeeded) and the epoch, which grows with every build that changed either."""

    pages: Mapping[str, bytes]
    errors: tuple[Diagnostic, ...]
    epoch: int


class Preview:
    """The build loop, the watcher and the HTTP server of one site."""

    def __init__(self, root: Path, config: Config, args: argparse.Namespace) -> None:
        self.root = root
        self.config = config
        self.args = args
        self.config_path = Path(getattr(args, "config", "timeline.toml")).absolute()
        self.quiet = bool(getattr(args, "quiet", False))
        self.cond = threading.Condition()
        self.pending: dict[Path, Kind] = {}
        self.unsettled: set[Path] = set()  # pending files that may still change
        self.first_change = 0.0  # of the changes not yet built
        self.last_change = 0.0
        self.last_build = 0.0  # when the last build began
        self.building = False
        self.shown_early = False  # the build under way has shown its pages
        self.stopping = False
        self.rebuilds = 0  # builds after the first, for tests
        self.snapshot = Snapshot({}, (), 0)
        self.good: Mapping[str, bytes] = {}  # the pages of the last build without errors
        self.files = SiteFiles(root, config)
        self.builder = IncrementalBuilder(drafts=bool(getattr(args, "drafts", False)))
        server_class = _Server6 if ":" in args.host else _Server
        self.server = server_class((args.host.strip("[]"), args.port), _Handler)
        self.server.preview = self
        self.host = args.host
        self.port: int = self.server.server_address[1]
        self.watcher: Watcher | None = None
        self.threads: list[threading.Thread] = []
        self.streams: dict[int, None] = {}  # open SSE streams, oldest first
        self.stream_ids = itertools.count()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    def start(self) -> None:
        """Build, then watch and serve in background threads."""
        # Only the first build may fork workers: no other thread runs yet.
        self.builder.workers = default_workers()
        try:
            self._publish(self._build_all())
        finally:
            self.builder.workers = 1
        self._start_watcher()
        for name, target in [("build", self._build_loop), ("http", self._serve_http)]:
            thread = threading.Thread(target=target, name=f"timeline-{name}")
            thread.daemon = True
            thread.start()
            self.threads.append(thread)

    def _serve_http(self) -> None:
        self.server.serve_forever(poll_interval=0.05)  # how soon stop() is noticed

    def stop(self) -> None:
        with self.cond:
            self.stopping = True
            self.cond.notify_all()
        if self.watcher is not None:
            self.watcher.stop()
        self.server.shutdown()
        self.server.server_close()
        for thread in self.threads:
            thread.join(timeout=5)

    # --- watching and building ------------------------------------------------------

    def _start_watcher(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
        self.watcher = Watcher(self._folders(), self.changed)
        self.watcher.start()

    def _folders(self) -> Folders:
        return site_folders(self.root, self.config, self.config_path)

    def changed(self, kind: Kind, path: Path, settled: bool = False) -> None:
        """Called from the watcher's thread: record and wake the build loop."""
        with self.cond:
            if not self.pending:
                self.first_change = time.monotonic()
            if self.pending.get(path) is not Kind.CONFIG:
                self.pending[path] = kind
            if settled:
                self.unsettled.discard(path)
            else:
                self.unsettled.add(path)
            self.last_change = time.monotonic()
            self.cond.notify_all()

    def _build_loop(self) -> None:
        while True:
            with self.cond:
                changes = self._wait_for_quiet()
                if changes is None:
                    return
                self.building, self.shown_early = True, False
            try:
                self._publish(self._rebuild(changes))
            except Exception as exc:  # a bug in timeline: say so, keep the last good site
                traceback.print_exc()
                self._publish((None, [Diagnostic("timeline", 0, f"internal error: {exc!r}")]))
            finally:
                with self.cond:
                    self.building = self.shown_early = False
                    self.rebuilds += 1
                    self.cond.notify_all()

    def _wait_for_quiet(self) -> dict[Path, Kind] | None:
        """With the lock held: wait for changes, then until they stop; take them."""
        while not self.stopping:
            if not self.pending:
                self.cond.wait()
                continue
            now = time.monotonic()
            left = self.last_change + self.quiet_time() - now
            if left > 0:
                self.cond.wait(left)
                continue
            changes, self.pending = self.pending, {}
            self.unsettled.clear()
            self.last_build = now  # changes from now on come after this build began
            return changes
        return None

    def quiet_time(self) -> float:
        """With the lock held: how long the pending changes must rest before a build."""
        if self.first_change - self.last_build < BURST_WINDOW:
            return BURST_QUIET
        return QUIET if self.unsettled else SETTLED_QUIET

    def _rebuild(self, changes: dict[Path, Kind]) -> tuple[BuildResult | None, list[Diagnostic]]:
        kinds = set(changes.values())
        if Kind.CONFIG in kinds:
            return self._build_all(reload_config=True)
        if Kind.THEME in kinds:
            return self._build_all()
        self.files.update(changes)
        return self._build()

    def _build_all(
        self, reload_config: bool = False
    ) -> tuple[BuildResult | None, list[Diagnostic]]:
        if reload_config:
            from generator.cli import UsageError, load_config

            try:
                _, config, problems = load_config(self.args)
            except UsageError as exc:
                return None, [Diagnostic(self.config_path.name, 0, str(exc))]
            if has_errors(problems):
                return None, problems
            if config != self.config:
                self.config = config
                self.files = SiteFiles(self.root, config)
                self._start_watcher()  # the folders may have moved
                return self._build()
        self.files.reload()
        return self._build()

    def _build(self) -> tuple[BuildResult | None, list[Diagnostic]]:
        result = self.builder.build(self.config, self.files.sources, early=self._show_early)
        return result, [*self.files.problems, *result.diagnostics]

    def _show_early(self, result: BuildResult) -> None:
        """Show an edit's pages before the pages it affects are all rendered: the
        builder renders each when it is asked for, and the rest right after. If those
        then have problems, ``_publish`` goes back to the last good pages."""
        if has_errors(self.files.problems):
            return
        with self.cond:
            old = self.snapshot
            if old.errors:
                return  # the errors go once the whole build is known to be good
            if not _same_pages(result.pages, old.pages):
                self.snapshot = Snapshot(result.pages, (), old.epoch + 1)
            self.shown_early = True  # requests need not wait for the rest of the build
            self.cond.notify_all()

    def _publish(self, outcome: tuple[BuildResult | None, list[Diagnostic]]) -> None:
        result, problems = outcome
        errors = tuple(d for d in problems if d.severity is Severity.ERROR)
        shown = [d for d in problems if d.severity is not Severity.LINT]
        if shown:
            from generator.cli import report

            report(self.root, shown)
        with self.cond:
            old = self.snapshot
            if result is not None and not errors:
                self.good = result.pages
            pages = self.good
            # Only what the reader sees changing asks the pages to reload.
            changed = errors != old.errors or not _same_pages(pages, old.pages)
            self.snapshot = Snapshot(pages, errors, old.epoch + changed)
            self.cond.notify_all()
        # Exempt the site just built from the garbage collector: its full collections
        # would pause the next build (and hold the lock the reload needs) for a third of
        # a second at 10,000 events. What a build leaves behind is freed by reference
        # counting (the model is acyclic), so little is kept that could have been freed.
        gc.freeze()
        if not self.quiet and result is not None and not errors:
            print(f"Built {len(result.pages)} pages ({len(self.builder.rendered)} rendered).")
            sys.stdout.flush()

    # --- serving ------------------------------------------------------------------------

    def current(self) -> Snapshot:
        """The snapshot to serve, once any build under way has shown its pages."""
        with self.cond:
            self.cond.wait_for(
                lambda: not self.building or self.shown_early or self.stopping, REQUEST_WAIT
            )
            return self.snapshot

    def wait_newer(self, epoch: int, timeout: float, stream: int | None = None) -> int | None:
        """The current epoch once it is newer than ``epoch``; None on timeout or stop, or
        when ``stream`` was closed to make room for newer ones."""

        def ended() -> bool:
            return self.stopping or (stream is not None and stream not in self.streams)

        with self.cond:
            self.cond.wait_for(lambda: self.snapshot.epoch > epoch or ended(), timeout)
            newer = self.snapshot.epoch > epoch and not ended()
            return self.snapshot.epoch if newer else None

    def open_stream(self) -> int:
        """Register a new SSE stream; close the oldest beyond MAX_STREAMS."""
        with self.cond:
            stream = next(self.stream_ids)
            self.streams[stream] = None
            while len(self.streams) > MAX_STREAMS:
                del self.streams[next(iter(self.streams))]
                self.cond.notify_all()  # its thread wakes, sees it is gone and ends
            return stream

    def streaming(self, stream: int) -> bool:
        with self.cond:
            return stream in self.streams and not self.stopping

    def close_stream(self, stream: int) -> None:
        with self.cond:
            self.streams.pop(stream, None)

    def allowed_host(self, header: str | None) -> bool:
        """Refuse requests for other host names, so a web page cannot reach the preview
        through a DNS name rebound to 127.0.0.1. IP literals cannot be rebound."""
        if not header:
            return False
        try:
            name = urlsplit(f"//{header}").hostname or ""
        except ValueError:
            return False
        if name in LOOPBACK_NAMES or name == self.host.lower().strip("[]"):
            return True
        try:
            ipaddress.ip_address(name)
        except ValueError:
            return False
        return True


def serve(root: Path, config: Config, args: argparse.Namespace) -> int:
    """Run the preview until Ctrl-C. Exit code 0, or 2 when the address is unusable."""
    try:
        preview = Preview(root, config, args)
    except OSError as exc:
        print(
            f"timeline: cannot listen on {args.host}:{args.port}: {exc.strerror}; "
            "choose another --port",
            file=sys.stderr,
        )
        return 2
    if not is_loopback(args.host):
        print(
            f"WARNING: listening on {args.host}, not 127.0.0.1: anyone who can reach this "
            f"machine on port {preview.port} can read the site and its drafts.",
            file=sys.stderr,
        )
    try:
        preview.start()
        print(f"Serving {root.name or root} at {preview.url} (Ctrl-C to stop)")
        sys.stdout.flush()
        threading.Event().wait()  # the main thread waits for Ctrl-C
    except KeyboardInterrupt:
        pass
    finally:
        preview.stop()
    print("Stopped.")
    return 0


def _same_pages(new: Mapping[str, bytes], old: Mapping[str, bytes]) -> bool:
    if new is old:
        return True
    if isinstance(new, LazyPages):
        return new.same_pages(old)
    return new == old


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # The listen backlog. socketserver's default of 5 drops the connections of a burst
    # of clients (a page loading its assets, tabs reloading together) while the accept
    # thread waits for the GIL, and a dropped connection is retried only after 1, 3, 7...
    # seconds. The kernel caps this at net.core.somaxconn.
    request_queue_size = 128
    preview: Preview

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            return  # a browser closed its tab or stream
        super().handle_error(request, client_address)


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "timeline-preview"
    timeout = IDLE_TIMEOUT  # on every read and write of the connection's socket

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the author watches the build, not the requests

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        preview = self.server.preview
        hosts = self.headers.get_all("Host") or []
        if len(hosts) != 1:  # RFC 9112 3.2: a missing or repeated Host is a bad request
            self.send_error(HTTPStatus.BAD_REQUEST, "One Host header is required")
            return
        if not preview.allowed_host(hosts[0]):
            self._send(HTTPStatus.FORBIDDEN, b"Unknown host name.\n", "text/plain")
            return
        path = request_path(self.path)
        if path == PREFIX + "live.js":
            self._send(HTTPStatus.OK, LIVE_JS, "text/javascript")
        elif path == PREFIX + "events":
            self._events()
        elif path is None or path.startswith(PREFIX):
            self._not_found(preview.current())
        else:
            self._page(preview.current(), path)

    def _page(self, snapshot: Snapshot, path: str) -> None:
        key = path[1:]
        if key == "" or key.endswith("/"):
            key += "index.html"
        data = snapshot.pages.get(key)
        if data is None and snapshot.pages.get(key + "/index.html") is not None:
            # A folder without its slash: same-host, path-only redirect.
            self.send_response(HTTPStatus.MOVED_PERMANENTLY)
            self.send_header("Location", _quote(path) + "/")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if data is None:
            self._not_found(snapshot)
            return
        kind = mimetypes.guess_type(key)[0] or "application/octet-stream"
        if kind == "text/html":
            data = inject(data, snapshot)
        self._send(HTTPStatus.OK, data, kind)

    def _not_found(self, snapshot: Snapshot) -> None:
        page = snapshot.pages.get("404.html")
        if page is None:
            body = b"<!doctype html><title>Not found</title><body><h1>Not found</h1></body>"
        else:
            body = page
        self._send(HTTPStatus.NOT_FOUND, inject(body, snapshot), "text/html")

    def _send(self, status: HTTPStatus, data: bytes, kind: str) -> None:
        self.send_response(status)
        charset = "; charset=utf-8" if kind.startswith("text/") or kind.endswith("json") else ""
        self.send_header("Content-Type", kind + charset)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _events(self) -> None:
        """A Server-Sent Events stream: 'reload' once the site is newer than the page."""
        preview = self.server.preview
        query = urlsplit(self.path).query
        try:
            seen = int(dict(p.split("=", 1) for p in query.split("&") if "=" in p)["epoch"])
        except (KeyError, ValueError):
            seen = preview.snapshot.epoch
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        if self.command == "HEAD":
            return  # headers only: a stream would never end
        self.wfile.write(b"retry: 1000\n\n")
        self.wfile.flush()
        stream = preview.open_stream()
        try:
            while preview.streaming(stream):
                epoch = preview.wait_newer(seen, KEEPALIVE, stream)
                if epoch is not None:
                    self.wfile.write(f"event: reload\ndata: {epoch}\n\n".encode())
                    seen = epoch
                elif preview.streaming(stream):
                    self.wfile.write(b": keepalive\n\n")
                self.wfile.flush()
        finally:
            preview.close_stream(stream)


def request_path(target: str) -> str | None:
    """The decoded path of a request target, or None for anything that could reach
    outside the site or another host: '..', '.', empty segments ('//host'), backslashes,
    NUL and other control characters, absolute URLs."""
    if not target.startswith("/"):
        return None
    raw = target.split("?", 1)[0].split("#", 1)[0]
    try:
        path = unquote(raw, errors="strict")
    except UnicodeDecodeError:
        return None
    if any(c == "\\" or ord(c) < 32 or c == "\x7f" for c in path):
        return None
    segments = path.split("/")[1:]
    if any(s in ("", ".", "..") for s in segments[:-1]) or segments[-1] in (".", ".."):
        return None
    return path


def _quote(path: str) -> str:
    return quote(path, safe="/")


def inject(page: bytes, snapshot: Snapshot) -> bytes:
    """The live-reload script, and the errors of a failed build, before </body>."""
    parts = [f'<script src="{PREFIX}live.js" data-epoch="{snapshot.epoch}"></script>']
    if snapshot.errors:
        parts.append(overlay(snapshot.errors))
    extra = "\n".join(parts).encode("utf-8")
    at = page.lower().rfind(b"</body>")
    if at < 0:
        return page + extra
    return page[:at] + extra + b"\n" + page[at:]


def overlay(errors: tuple[Diagnostic, ...]) -> str:
    items = "".join(f"<li><code>{html.escape(d.format())}</code></li>" for d in errors)
    count = M.plural(len(errors), "error")
    return (
        '<div id="timeline-errors" role="alert" style="position:fixed;inset:auto 0 0 0;'
        "max-height:60vh;overflow:auto;z-index:2147483647;margin:0;padding:1em 1.5em;"
        "background:#2b0a0a;color:#ffe9e9;font:14px/1.5 ui-monospace,monospace;"
        'border-top:4px solid #e5484d">'
        f'<p style="margin:0 0 .5em;font-weight:bold">The last save broke the build '
        f"({count}); this page is the last good version. Fix the file and save.</p>"
        f'<ul style="margin:0;padding-left:1.2em">{items}</ul></div>'
    )


LIVE_JS = b"""// timeline serve: reload this page when the site is rebuilt.
(function () {
  "use strict";
  var script = document.currentScript;
  var epoch = script ? script.getAttribute("data-epoch") : "0";
  var source = new EventSource("/__timeline__/events?epoch=" + encodeURIComponent(epoch));
  source.addEventListener("reload", function () {
    source.close();
    window.location.reload();
  });
})();
"""
