"""`timeline build` streams: each render worker writes its pages straight into the staging
folder. It writes exactly the files of the in-memory build, hard-links unchanged ones, and a
build that fails at any stage (the link check, after every page is written, included)
leaves the previous output as it was and no staging folder behind."""

from __future__ import annotations

import gc
import shutil
import weakref
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from generator import build as building
from generator import cli, linkcheck, render
from generator.build import build
from generator.config import Config, parse_config, with_overrides
from generator.exports import in_calendar
from generator.output import MANIFEST, MemorySink, Staging, write_site
from generator.parallel import MIN_ITEMS
from generator.sources import SourceFile, Sources, load_sources
from tests.conftest import SITES, run_cli, snapshot, write_files
from tests.helpers import event

BASE_URL = "https://example.org/t/"


def site_config(root: Path) -> Config:
    config, problems = parse_config((root / "timeline.toml").read_text("utf-8"), "timeline.toml")
    assert problems == []
    return config


def written(output: Path) -> dict[str, bytes]:
    files = snapshot(output)
    del files[MANIFEST]
    return files


def basic_site(tmp_path: Path) -> Path:
    root = shutil.copytree(SITES / "basic", tmp_path / "site")
    with (root / "timeline.toml").open("a", encoding="utf-8") as toml:
        toml.write("search = false\n")
    write_files(root, {"static/about.html": '<a href="index.html">home</a>\n'})
    return root


def test_the_cli_writes_the_in_memory_build_byte_for_byte(tmp_path: Path) -> None:
    root = basic_site(tmp_path)
    result = run_cli("build", "-q", "--base-url", BASE_URL, cwd=root)
    assert result.code == 0, result.err
    config = with_overrides(site_config(root), base_url=BASE_URL)
    memory = build(config, load_sources(root, config)[0])
    assert {"feed.xml", "sitemap.xml", "timeline.json", "about.html"} <= memory.pages.keys()
    assert written(root / "output") == dict(memory.pages)


def test_two_workers_write_the_in_memory_build_byte_for_byte(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small caches in the workers (cards, resolved links) change nothing but speed.
    monkeypatch.setattr(render, "MAX_CARD_CHARS", 5_000)
    monkeypatch.setattr(linkcheck, "MAX_RESOLVED", 10)
    events = {
        f"content/events/e{i:04d}.md": event(
            f"Event {i}", f"{1990 + i % 30}-{1 + i % 12:02d}", actors=f"[A{i % 17}, B{i % 5}]"
        )
        + f"\nSee [the next one](e{(i + 1) % (MIN_ITEMS + 100):04d}.md).\n"
        for i in range(MIN_ITEMS + 100)  # enough to render on 2 workers
    }
    root = write_files(tmp_path / "site", {"timeline.toml": "", **events})
    config = Config(base_url=BASE_URL)
    sources = load_sources(root, config)[0]
    memory = build(config, sources, workers=1)
    output = root / "output"
    with Staging(output) as staging:
        streamed = build(config, sources, workers=2, sink=staging)
        assert streamed.ok and streamed.diagnostics == memory.diagnostics
        assert list(streamed.pages) == list(memory.pages)
        write_site(output, streamed.pages)
    assert written(output) == dict(memory.pages)
    assert dict(streamed.pages) == dict(memory.pages)  # read back from the output now


def test_unchanged_pages_are_hard_linked_from_the_old_output(tmp_path: Path) -> None:
    root = basic_site(tmp_path)
    assert run_cli("build", "-q", cwd=root).code == 0
    output = root / "output"
    moon, brutus = output / "events/moon/index.html", output / "actors/brutus/index.html"
    before = moon.stat().st_ino, brutus.stat().st_ino
    moon_file = root / "content/events/moon.md"
    moon_file.write_text(moon_file.read_text("utf-8").replace("Apollo 11", "Eagle"), "utf-8")
    assert run_cli("build", "-q", cwd=root).code == 0
    assert moon.stat().st_ino != before[0]
    assert brutus.stat().st_ino == before[1]


def test_a_broken_link_fails_the_build_and_writes_nothing(tmp_path: Path) -> None:
    root = basic_site(tmp_path)
    assert run_cli("build", "-q", cwd=root).code == 0
    before = snapshot(root / "output")
    write_files(
        root,
        {
            "templates/event.html": '{% extends "default/event.html" %}'
            "{% block head %}<link href=\"{{ url('gone.css') }}\">{% endblock %}"
        },
    )
    result = run_cli("build", "-q", cwd=root)
    assert result.code == 1
    assert "but the site has no gone.css" in result.err
    assert snapshot(root / "output") == before
    assert sorted(p.name for p in root.iterdir() if p.name.startswith(".output")) == []


class PartsSink(MemorySink):
    """Keeps the parts each file made in parts came in."""

    def __init__(self) -> None:
        self.parts: dict[str, list[bytes]] = {}

    def put_parts(self, path: str, parts: Iterable[bytes]) -> bytes:
        self.parts[path] = list(parts)
        return super().put_parts(path, self.parts[path])


def test_the_big_exports_reach_the_sink_an_event_at_a_time(tmp_path: Path) -> None:
    # timeline.json is 300 MB at 100,000 events: the sink writes it as it is made.
    root = basic_site(tmp_path)
    config = with_overrides(site_config(root), base_url=BASE_URL)
    sink = PartsSink()
    result = build(config, load_sources(root, config)[0], sink=sink)
    assert result.ok and result.timeline is not None
    events = result.timeline.events
    assert len(sink.parts["timeline.json"]) == len(events) + 2  # head, events, end
    assert (
        len(sink.parts["events.ics"])
        == len([e for e in events if in_calendar(e, ZoneInfo(config.timezone))]) + 2
    )
    assert result.pages["timeline.json"] == b"".join(sink.parts["timeline.json"])


def test_the_build_lets_go_of_the_content_files_once_it_has_read_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The files' bytes are 300 MB at 100,000 events; the render workers would copy them.
    root = basic_site(tmp_path)
    loaded: list[weakref.ref[SourceFile]] = []
    alive: list[SourceFile] = []

    def load(root: Path, config: Config) -> tuple[Sources, list[Any]]:
        sources, problems = load_sources(root, config)
        loaded.extend(weakref.ref(source) for source in sources.content)
        return sources, problems

    def render_site(*args: Any, **kwargs: Any) -> Any:
        gc.collect()
        alive.extend(source for ref in loaded if (source := ref()) is not None)
        return render.render_site(*args, **kwargs)

    monkeypatch.setattr(cli, "load_sources", load)
    monkeypatch.setattr(building, "render_site", render_site)
    monkeypatch.chdir(root)
    assert cli.main(["build", "-q"]) == 0
    assert loaded and alive == []
