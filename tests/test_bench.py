"""The benchmark corpus (bench/corpus.py) is deterministic, valid content and uses the
forms authors write; bench/peers.py reads it the way timeline does. No peer runs here."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import REPO, bench_script, run_cli, snapshot

CORPUS = REPO / "bench" / "corpus.py"


def generate(folder: Path, n: int = 50, seed: int = 7) -> dict[str, bytes]:
    done = subprocess.run(
        [sys.executable, str(CORPUS), "--n", str(n), "--seed", str(seed), str(folder)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return snapshot(folder)


def peers() -> ModuleType:
    return bench_script("peers")


def run_script(name: str, *args: str, cwd: Path | None = None) -> str:
    """bench/<name>.py run as a script with the checkout importable; its stdout."""
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / f"{name}.py"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_same_seed_writes_the_same_bytes(tmp_path: Path) -> None:
    first = generate(tmp_path / "first")
    second = generate(tmp_path / "second")
    other = generate(tmp_path / "other", seed=8)
    events = [p for p in first if p.startswith("content/events/")]
    actors = [p for p in first if p.startswith("content/actors/")]
    assert (len(events), len(actors)) == (50, 2)  # N events, about N/20 actors
    assert first == second
    assert first != other


def test_the_corpus_uses_the_forms_authors_write(tmp_path: Path) -> None:
    files = generate(tmp_path / "site", n=200)
    events = [v.decode() for p, v in files.items() if p.startswith("content/events/")]
    text = "\n".join(events)
    dates = re.findall(r"^date: (\S+)$", text, re.M)
    assert {len(d) for d in dates} == {4, 7, 10}  # year, month and day precision
    assert max(int(d[:4]) for d in dates) - min(int(d[:4]) for d in dates) > 50
    assert re.search(r"^actors: \[.*Actor \d{5}", text, re.M)  # by name
    assert re.search(r"^actors: \[.*actor-\d{5}", text, re.M)  # by slug
    assert re.search(r"^  - https://", text, re.M)  # a plain URL source
    assert re.search(r"^  - \{title: .*, url: ", text, re.M)  # a {title, url} source
    assert re.search(r"^## \w", text, re.M)  # headings
    assert re.search(r"^- \S", text, re.M) and re.search(r"^1\. \S", text, re.M)  # lists
    assert re.search(r"\]\(https://example\.org/", text)  # external links
    assert re.search(r"\]\(\d{4}-\d\d-\d\d-event-\d{5}\.md\)", text)  # links to events
    words = [len(body.split("\n---\n", 1)[1].split()) for body in events]
    assert min(words) > 140 and max(words) < 500


def test_timeline_accepts_the_corpus_and_writes_every_page_a_peer_must(tmp_path: Path) -> None:
    site = tmp_path / "site"
    generate(site)
    check = run_cli("check", "--strict", cwd=site)
    assert (check.code, check.err) == (0, "")
    assert run_cli("build", "--quiet", cwd=site).code == 0
    bench = peers()
    corpus = bench.read_corpus(site)
    # Every actor named by slug resolves to its file's name, as timeline resolves it.
    assert {a for e in corpus.events for a in e.actors} == {a.name for a in corpus.actors}
    expected = bench.expected_pages(corpus)
    assert len(expected) == 1 + 50 + 2 + len({t for e in corpus.events for t in e.tags})
    assert bench.check_pages("timeline", site / "output", corpus) >= len(expected)


def test_a_tool_slower_than_the_timeout_is_stopped_and_its_row_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = bench_script("run")
    monkeypatch.setattr(run, "TRASH", tmp_path / "trash")
    late = tmp_path / "late"
    tool = run.Tool("pelican", tmp_path, ("sh", "-c", f"sleep 2; touch {late}"), "out", (), "")
    started = time.monotonic()
    assert run.timed_cold_build(tool, timeout=0.5) is None
    assert time.monotonic() - started < 2
    time.sleep(2.5)
    assert not late.exists()  # the build itself was stopped, not only its timer
    stopped = {"over": 900.0}
    assert run.cell(stopped, "cold", None) == "over 900 s"
    assert run.cell(stopped, "rss", {"rss": 100.0}) == "not measured"
    timed = {"cold": 4.0, "rss": 50.0}
    assert run.cell(timed, "cold", {"cold": 8.0}) == "4.00 s (×2.0)"
    assert run.cell(timed, "cold", stopped) == "4.00 s"  # no ratio to a stopped timeline


def test_the_bare_loop_writes_each_content_file_as_a_page(tmp_path: Path) -> None:
    site = tmp_path / "site"
    files = generate(site, n=30)
    run_script("floor", "content", "out", "--workers", "2", cwd=site)
    sources = [p for p in files if p.startswith("content/") and p.endswith(".md")]
    pages = {p.relative_to(site / "out").as_posix() for p in (site / "out").rglob("*.html")}
    assert pages == {p[len("content/") : -len(".md")] + "/index.html" for p in sources}
    event = next(p for p in sources if p.startswith("content/events/"))
    title = re.search(r"^title: (.*)$", files[event].decode(), re.M)
    assert title
    page = (site / "out" / event[len("content/") : -len(".md")] / "index.html").read_text()
    assert f"<title>{title[1].strip(chr(34))}</title>" in page
    assert "<h2>" in page and "<li>" in page  # the body's Markdown, rendered


def test_the_phases_script_times_a_real_build(tmp_path: Path) -> None:
    site = tmp_path / "site"
    generate(site, n=30)
    out = run_script("phases", cwd=site)
    times = dict(re.findall(r"^(\S.*?)\s+(\d+\.\d\d) s", out, re.M))
    assert float(times["Markdown"]) > 0
    assert float(times["pages (templates, writing, link notes)"]) > 0
    assert "(exit 0)" in out
    assert (site / "output" / "index.html").is_file()


def test_the_rebuild_stages_script_times_real_edits_and_puts_the_file_back(
    tmp_path: Path,
) -> None:
    site = tmp_path / "site"
    before = generate(site, n=30)
    out = run_script("rebuild_stages", "--edits", "2", "--gap", "0", cwd=site)
    edits = re.findall(
        r"^edit \d: (\d+) ms, shown at \d+ ms \(.*linking \d+.*\); (\d+) pages;", out, re.M
    )
    assert len(edits) == 2 and all(int(pages) > 1 for _, pages in edits)  # its page, its lists
    assert "median" in out and "shown early: median" in out
    assert snapshot(site) == before  # the edited event is as it was


IDLE_ARGS = ["--pauses", "0", "0.05", "--strings", "100", "--rounds", "2", "--other-mb", "1"]


def test_the_idle_memory_script_times_each_step_after_each_pause() -> None:
    out = run_script("idle_memory", *IDLE_ARGS)
    lines = re.findall(
        r"^pause ([\d.]+) s: arithmetic [\d.]+ ms, first pass over the strings [\d.]+ ms, "
        r"copying the dict [\d.]+ ms$",
        out,
        re.M,
    )
    assert lines == ["0.0", "0.0", "0.05", "0.05"]


def test_the_results_name_the_libraries_timeline_ran_with() -> None:
    run = bench_script("run")
    found = run.library_versions(run.working_tree())
    for name in run.LIBRARIES:
        assert re.search(rf"\b{name} \d+\.\d+", found), found
