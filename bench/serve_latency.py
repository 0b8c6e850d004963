"""Save-to-reload latency of ``timeline serve``, beside ``hugo server``'s rebuild time.

    python bench/serve_latency.py --n 1000 10000 --edits 10 [--hugo bench/.tools/bin/hugo]

For each size: generate a site with bench/corpus.py, start the real ``timeline serve`` on
127.0.0.1, hold a Server-Sent Events stream open as a browser tab does, then edit one
event's title at a time and time from just before the write to the ``reload`` event
(watcher, debounce, incremental rebuild and notification included), and to the edited
event's page received whole, asked for after the reload event as the reloading tab asks
for it (the server may render that page only then: save-to-page is what an author waits
for). Edits are spaced by more than the server's burst window, as an author's saves are.
Prints the medians, minimums and maximums, and the same edits' rebuild times that
``hugo server`` reports ("Total in N ms") on the same corpus laid out for Hugo with
minimal templates.
"""

from __future__ import annotations

import argparse
import http.client
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from corpus import generate  # noqa: E402

GAP = 1.2  # seconds between edits: longer than the server's burst window (1 s)
TITLE = re.compile(r"^title: .*$", re.M)


def wait_for_line(server: subprocess.Popen[str], marker: str) -> str:
    """The first line of the server's output that contains ``marker``."""
    assert server.stdout is not None
    line = server.stdout.readline()
    while marker not in line:
        assert line, f"the server exited before printing {marker!r}"
        line = server.stdout.readline()
    return line


def edited_files(site: Path, count: int) -> list[Path]:
    files = sorted((site / "content" / "events").glob("*.md"))
    step = max(1, len(files) // count)
    return files[::step][:count]


def retitle(path: Path, title: str) -> None:
    text = path.read_text("utf-8")
    path.write_text(TITLE.sub(f"title: {title}", text, count=1), "utf-8")


def fetch(port: int, target: str) -> bytes:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request("GET", target)
        response = conn.getresponse()
        assert response.status == 200, (target, response.status)
        return response.read()
    finally:
        conn.close()


def timeline_latencies(site: Path, edits: int) -> tuple[float, list[float], list[float]]:
    """The first build's time, and each edit's save-to-reload and save-to-page times."""
    started = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "-m", "generator", "serve", "--port", "0", "--quiet"],
        cwd=site,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = wait_for_line(server, "Serving")
        first_build = time.perf_counter() - started
        match = re.search(r":(\d+)/", line)
        assert match is not None
        port = int(match.group(1))
        epoch = re.search(rb'data-epoch="(\d+)"', fetch(port, "/"))
        assert epoch is not None
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        conn.request("GET", f"/__timeline__/events?epoch={epoch[1].decode()}")  # as a tab does
        stream = conn.getresponse()
        latencies, shown = [], []
        for i, path in enumerate(edited_files(site, edits)):
            time.sleep(GAP)
            begun = time.perf_counter()
            retitle(path, f"Edited title {i}")
            while stream.readline() != b"event: reload\n":
                pass
            latencies.append(time.perf_counter() - begun)
            stream.readline()  # the data line
            page = fetch(port, f"/events/{path.stem}/")  # the corpus gives no slugs
            shown.append(time.perf_counter() - begun)
            assert f"Edited title {i}".encode() in page, path
        conn.close()
        return first_build, latencies, shown
    finally:
        server.terminate()
        server.wait(timeout=30)


# --- Hugo ------------------------------------------------------------------------------

HUGO_CONFIG = """baseURL = "http://127.0.0.1/"
title = "Synthetic timeline"
disableKinds = ["RSS"]
[taxonomies]
actor = "actors"
tag = "tags"
place = "places"
"""
HUGO_LAYOUTS = {
    "_default/baseof.html": "<!doctype html><html><head><title>{{ .Title }}</title></head>"
    '<body><main>{{ block "main" . }}{{ end }}</main></body></html>\n',
    "_default/single.html": '{{ define "main" }}<h1>{{ .Title }}</h1>{{ .Content }}'
    '{{ with .PrevInSection }}<a href="{{ .RelPermalink }}">{{ .Title }}</a>{{ end }}'
    '{{ with .NextInSection }}<a href="{{ .RelPermalink }}">{{ .Title }}</a>{{ end }}'
    '{{ range .GetTerms "actors" }}<a href="{{ .RelPermalink }}">{{ .LinkTitle }}</a>'
    "{{ end }}{{ end }}\n",
    "_default/list.html": '{{ define "main" }}<h1>{{ .Title }}</h1><ul>{{ range .Pages }}'
    '<li><a href="{{ .RelPermalink }}">{{ .Title }}</a></li>{{ end }}</ul>{{ end }}\n',
}
DATE = re.compile(r"^date: (-?\d{4})(?:-(\d\d))?(?:-(\d\d))?$", re.M)


def hugo_site(site: Path, folder: Path) -> None:
    """The corpus in Hugo's layout: the same events with full dates (Hugo needs them)."""
    (folder / "layouts" / "_default").mkdir(parents=True)
    (folder / "hugo.toml").write_text(HUGO_CONFIG, "utf-8")
    for name, text in HUGO_LAYOUTS.items():
        (folder / "layouts" / name).write_text(text, "utf-8")
    events = folder / "content" / "events"
    events.mkdir(parents=True)
    for path in sorted((site / "content" / "events").glob("*.md")):
        text = DATE.sub(
            lambda m: f"date: {m[1]}-{m[2] or '01'}-{m[3] or '01'}", path.read_text("utf-8")
        )
        (events / path.name).write_text(text, "utf-8")


def hugo_rebuilds(hugo: Path, site: Path, edits: int) -> tuple[str, float, list[float]]:
    version = subprocess.run([hugo, "version"], capture_output=True, text=True).stdout.strip()
    started = time.perf_counter()
    server = subprocess.Popen(
        [
            hugo,
            "server",
            "--bind",
            "127.0.0.1",
            "--port",
            "1414",
            "--renderToMemory",
            "--disableFastRender",
            "--logLevel",
            "info",
        ],
        cwd=site,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for_line(server, "Web Server is available")
        first_build = time.perf_counter() - started
        times = []
        for i, path in enumerate(edited_files(site, edits)):
            time.sleep(GAP)
            retitle(path, f"Edited title {i}")
            while True:
                line = server.stdout.readline()
                assert line, "hugo server exited"
                match = re.search(r"Total in (\d+(?:\.\d+)?) ?ms", line)
                if match:
                    times.append(float(match.group(1)) / 1000)
                    break
        return version, first_build, times
    finally:
        server.terminate()
        server.wait(timeout=30)


def summary(values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return (
        f"median {statistics.median(ms):.0f} ms (min {min(ms):.0f}, max {max(ms):.0f}, n={len(ms)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--edits", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--hugo", type=Path, help="a hugo binary, to compare with")
    args = parser.parse_args()
    hugo = args.hugo.resolve() if args.hugo else None
    for n in args.n:
        with tempfile.TemporaryDirectory(prefix=f"timeline-bench-{n}-") as tmp:
            site = Path(tmp) / "site"
            generate(n, args.seed, site)
            hugo_folder = Path(tmp) / "hugo"
            if hugo:
                hugo_site(site, hugo_folder)
            first, latencies, shown = timeline_latencies(site, args.edits)
            print(
                f"{n} events: timeline serve first build {first:.1f} s; "
                f"save-to-reload {summary(latencies)}; save-to-page {summary(shown)}"
            )
            if hugo:
                version, first, times = hugo_rebuilds(hugo, hugo_folder, args.edits)
                print(
                    f"{n} events: hugo server first build {first:.1f} s; "
                    f"reported rebuild {summary(times)} [{version}]"
                )
            shutil.rmtree(site, ignore_errors=True)
        sys.stdout.flush()


if __name__ == "__main__":
    main()
