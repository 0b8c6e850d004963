"""Which changes the dev server acts on, and sources kept in step with the disk."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from generator.config import Config
from generator.sources import load_sources
from generator.watch import Kind, SiteFiles, Watcher, classify, site_folders
from tests.conftest import event_file

ROOT = Path("/site")
FOLDERS = site_folders(ROOT, Config())


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("timeline.toml", Kind.CONFIG),
        ("content/events/a.md", Kind.CONTENT),
        ("content/events/2023/a.md", Kind.CONTENT),
        ("content/actors/iran.md", Kind.CONTENT),
        ("content/events/2023", Kind.CONTENT),  # a folder, created or removed
        ("content/events/.a.md.swp", Kind.IGNORED),
        ("content/events/a.md~", Kind.IGNORED),
        ("content/events/#a.md#", Kind.IGNORED),
        ("content/events/.#a.md", Kind.IGNORED),
        ("content/events/a.md.tmp", Kind.IGNORED),
        ("content/events/4913", Kind.IGNORED),  # vim's probe file
        ("content/events/a.md___jb_tmp___", Kind.IGNORED),
        ("content/events/.hidden/a.md", Kind.IGNORED),
        ("content/events/photo.jpg", Kind.IGNORED),
        ("templates/event.html", Kind.THEME),
        ("static/logo.svg", Kind.THEME),
        ("themes/mine/templates/base.html", Kind.THEME),
        ("themes/mine/templates/.base.html.swp", Kind.IGNORED),
        ("output/index.html", Kind.IGNORED),
        ("output", Kind.IGNORED),
        (".timeline-cache/entries", Kind.IGNORED),
        (".git/index", Kind.IGNORED),
        ("README.md", Kind.IGNORED),
        ("notes.txt", Kind.IGNORED),
    ],
)
def test_classify(path: str, kind: Kind) -> None:
    assert classify(ROOT / path, FOLDERS) is kind


def test_a_moved_output_folder_is_still_ignored() -> None:
    folders = site_folders(ROOT, Config(output_dir="public"))
    assert classify(ROOT / "public/index.html", folders) is Kind.IGNORED
    assert classify(ROOT / "output/index.html", folders) is Kind.IGNORED


Site = Callable[[dict[str, str | bytes]], Path]


def test_site_files_follow_the_disk_file_by_file(site: Site) -> None:
    root = site(
        {
            "content/events/b.md": event_file("B", "2001"),
            "content/events/z.md": event_file("Z", "2002"),
            "content/events/sub/a.md": event_file("A", "2000"),
            "content/actors/ann.md": "---\nname: Ann\n---\n",
        }
    ).absolute()
    files = SiteFiles(root, Config())
    events = root / "content/events"
    (events / "b.md").write_text(event_file("B2", "2001"), "utf-8")
    (events / "z.md").unlink()
    (events / "sub/c.md").write_text(event_file("C", "2003"), "utf-8")
    (events / "bad.md").write_bytes(b"\xff\xfe")
    (events / "a.md.tmp").write_text("x", "utf-8")
    changed = ["b.md", "z.md", "sub/c.md", "bad.md", "a.md.tmp", "missing.md"]
    files.update(events / name for name in changed)
    expected, problems = load_sources(root, Config())
    assert files.sources == expected
    assert files.problems == problems
    (root / "content/actors/ann.md").write_text("---\nname: Anne\n---\n", "utf-8")
    files.update([root / "content/actors/ann.md"])  # new bytes, in a place that moved
    assert files.sources == load_sources(root, Config())[0]
    (events / "sub").rename(events / "moved")  # a folder: everything is read again
    files.update([events / "sub", events / "moved"])
    expected, problems = load_sources(root, Config())
    assert files.sources == expected
    for name in ("b.md", "moved/c.md"):  # new bytes only: each file keeps its place
        (events / name).write_text(event_file(f"{name} again", "1999"), "utf-8")
    files.update([events / "b.md", events / "moved/c.md"])
    expected, problems = load_sources(root, Config())
    assert files.sources == expected
    assert files.problems == problems


def test_a_link_out_of_the_content_folder_is_refused(site: Site, tmp_path: Path) -> None:
    root = site({"content/events/a.md": event_file("A", "2000")}).absolute()
    secret = tmp_path / "secret.md"
    secret.write_text(event_file("Secret", "2000"), "utf-8")
    files = SiteFiles(root, Config())
    (root / "content/events/link.md").symlink_to(secret)
    files.update([root / "content/events/link.md"])
    expected, problems = load_sources(root, Config())
    assert files.sources == expected
    assert files.problems == problems
    assert [p.path for p in problems] == ["content/events/link.md"]


def test_the_watcher_says_which_changes_are_finished_writes(site: Site) -> None:
    """A file closed after writing or renamed into place is settled; a file deleted (and
    maybe about to be created again) is not."""
    root = site({"content/events/a.md": event_file("A", "2023-10-23")}).absolute()
    events = root / "content" / "events"
    seen: list[tuple[Kind, str, bool]] = []
    arrived = threading.Condition()

    def changed(kind: Kind, path: Path, settled: bool) -> None:
        with arrived:
            seen.append((kind, path.name, settled))
            arrived.notify_all()

    def settles(name: str, settled: bool) -> bool:
        """Whether the calls for ``name`` come to end with ``settled`` (10 s at most)."""
        with arrived:
            return arrived.wait_for(
                lambda: [s for s in seen if s[1] == name][-1:] == [(Kind.CONTENT, name, settled)],
                10,
            )

    watcher = Watcher(site_folders(root, Config()), changed)
    watcher.start()
    try:
        (events / "b.md").write_text(event_file("B", "2023-10-24"), "utf-8")
        assert settles("b.md", True)  # created, modified, then closed
        assert (Kind.CONTENT, "b.md", False) in seen
        (events / "a.md").unlink()
        assert settles("a.md", False)
        (events / ".c.md.tmp").write_text(event_file("C", "2023-10-25"), "utf-8")
        os.replace(events / ".c.md.tmp", events / "c.md")
        assert settles("c.md", True)
    finally:
        watcher.stop()
    assert not [s for s in seen if s[1].endswith(".tmp")]  # temporary files are ignored
