"""The same sources build byte-identical files: no build timestamps, no random order, no
trace of the folder the site was built in."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.conftest import REPO, run_cli, snapshot

FIXTURE = REPO / "tests" / "fixtures" / "import" / "timelinejs.json"


def _build_twice(root: Path, tmp_path: Path) -> tuple[dict[str, bytes], dict[str, bytes]]:
    outputs = [tmp_path / "first" / "output", tmp_path / "second-build" / "site"]
    for out in outputs:
        result = run_cli(
            "build", "-q", "--base-url", "https://example.org/t/", "--output", str(out), cwd=root
        )
        assert result.code == 0, result.err
    return snapshot(outputs[0]), snapshot(outputs[1])


def test_the_example_site_builds_byte_identical_twice(tmp_path: Path) -> None:
    first, second = _build_twice(REPO, tmp_path)
    expected = {"feed.xml", "sitemap.xml", "robots.txt", "timeline.json", "events.ics"}
    assert expected <= set(first)
    assert any(p.startswith("pagefind/") for p in first)
    assert sorted(first) == sorted(second)
    assert [p for p in first if first[p] != second[p]] == []


def test_an_imported_site_builds_byte_identical_twice(tmp_path: Path) -> None:
    root = tmp_path / "site"
    root.mkdir()
    (root / "timeline.toml").write_text('title = "Imported"\ntimezone = "Asia/Tokyo"\n', "utf-8")
    assert run_cli("import", str(FIXTURE), "-q", cwd=root).code == 0
    first, second = _build_twice(root, tmp_path)
    assert [p for p in sorted(set(first) | set(second)) if first.get(p) != second.get(p)] == []
    # moving the sources elsewhere changes nothing either
    moved = shutil.copytree(root, tmp_path / "moved" / "elsewhere")
    third, _ = _build_twice(moved, tmp_path / "again")
    assert third == first
