"""Writing: atomic swap, ownership, and nothing written outside the output folder."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest
from hypothesis import given
from hypothesis import strategies as st

from generator.output import (
    MANIFEST,
    OutputError,
    Staging,
    _stays_inside,
    check_output_folder,
    folder_fingerprint,
    write_site,
)
from tests.conftest import snapshot


def test_write_then_replace(tmp_path: Path) -> None:
    out = tmp_path / "output"
    write_site(out, {"index.html": b"one", "a/index.html": b"a"})
    write_site(out, {"index.html": b"two"})
    assert snapshot(out) == {"index.html": b"two", MANIFEST: b"index.html\n"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["output"]
    assert oct(out.stat().st_mode & 0o777) == "0o755"


def test_a_failed_write_leaves_the_old_output(tmp_path: Path) -> None:
    out = tmp_path / "output"
    write_site(out, {"index.html": b"old"})
    before = snapshot(out)
    with pytest.raises(OutputError):
        write_site(out, {"index.html": b"new", "../escape.html": b"x"})
    assert snapshot(out) == before
    assert not (tmp_path / "escape.html").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["output"]


def test_ownership(tmp_path: Path) -> None:
    root = tmp_path
    content = root / "content"
    content.mkdir()
    protected = {"content": content}
    out = root / "output"
    check_output_folder(out, root, protected)  # missing: fine
    out.mkdir()
    check_output_folder(out, root, protected)  # empty: fine
    (out / "mine.txt").write_text("x")
    with pytest.raises(OutputError, match="did not write"):
        check_output_folder(out, root, protected)
    (out / "mine.txt").unlink()
    write_site(out, {"index.html": b"x"})
    check_output_folder(out, root, protected)  # ours: fine
    (out / "sub").mkdir()
    (out / "sub" / "added.txt").write_text("x")
    with pytest.raises(OutputError, match=r"sub/added\.txt"):
        check_output_folder(out, root, protected)


@pytest.mark.parametrize("name", [".", "content", "content/events", ".."])
def test_refused_folders(tmp_path: Path, name: str) -> None:
    root = tmp_path / "site"
    (root / "content" / "events").mkdir(parents=True)
    with pytest.raises(OutputError, match="output folder"):
        check_output_folder(root / name, root, {"content": root / "content"})


def test_unchanged_files_are_kept_changed_ones_rewritten(tmp_path: Path) -> None:
    out = tmp_path / "output"
    write_site(out, {"same.html": b"same", "changed.html": b"old"})
    same, changed = (out / "same.html").stat(), (out / "changed.html").stat()
    write_site(out, {"same.html": b"same", "changed.html": b"new"})
    assert (out / "same.html").stat().st_ino == same.st_ino
    assert (out / "changed.html").stat().st_ino != changed.st_ino
    assert snapshot(out) == {
        "same.html": b"same",
        "changed.html": b"new",
        MANIFEST: b"changed.html\nsame.html\n",
    }


def test_finish_adds_files_that_the_manifest_lists(tmp_path: Path) -> None:
    out = tmp_path / "output"
    write_site(
        out, {"index.html": b"x"}, finish=lambda staged: (staged / "extra.js").write_text("y")
    )
    assert sorted((out / MANIFEST).read_text().splitlines()) == ["extra.js", "index.html"]


def test_a_file_put_twice_never_writes_into_the_old_output(tmp_path: Path) -> None:
    out = tmp_path / "output"
    write_site(out, {"timeline.json": b"old"})
    with Staging(out) as staging:
        staging.put("timeline.json", b"old")  # hard-linked from the old output
        staging.put("timeline.json", b"new")
        assert (out / "timeline.json").read_bytes() == b"old"
        staging.commit()
    assert snapshot(out) == {"timeline.json": b"new", MANIFEST: b"timeline.json\n"}


@pytest.mark.parametrize(
    "path", ["../x.html", "/tmp/x.html", "a/../../x.html", "a/..", "", ".", "./", "a\\b.html"]
)
def test_no_file_is_put_outside_the_output(tmp_path: Path, path: str) -> None:
    out = tmp_path / "site" / "output"
    with Staging(out) as staging:
        with pytest.raises(OutputError, match="outside the output folder"):
            staging.put(path, b"x")
        with pytest.raises(OutputError, match="outside the output folder"):
            staging.put_parts(path, [b"x"])
    assert snapshot(tmp_path) == {}


@given(st.text(alphabet="a./\\", max_size=12))
def test_a_path_stays_inside_as_pathlib_reads_it(path: str) -> None:
    parts = PurePosixPath(path).parts
    inside = bool(parts) and not PurePosixPath(path).is_absolute() and ".." not in parts
    assert _stays_inside(path) == (inside and "\\" not in path)


def test_a_path_with_empty_or_dot_parts_is_put_where_it_leads(tmp_path: Path) -> None:
    out = tmp_path / "output"
    with Staging(out) as staging:
        staging.put("a/./b.html", b"1")
        staging.put("a//c.html", b"2")
        staging.commit()
    assert snapshot(out) == {"a/b.html": b"1", "a/c.html": b"2", MANIFEST: b"a/b.html\na/c.html\n"}


def test_a_file_put_in_parts_is_written_whole_and_linked_when_unchanged(tmp_path: Path) -> None:
    out = tmp_path / "output"
    write_site(out, {"same.json": b"[1,2]", "changed.json": b"[1]"})
    same = (out / "same.json").stat().st_ino
    with Staging(out) as staging:
        staging.put_parts("same.json", iter([b"[1,", b"2]"]))
        staging.put_parts("changed.json", iter([b"[1,", b"3]"]))
        staging.commit()
    assert (out / "same.json").stat().st_ino == same
    assert snapshot(out) == {
        "same.json": b"[1,2]",
        "changed.json": b"[1,3]",
        MANIFEST: b"changed.json\nsame.json\n",
    }


def test_a_staging_folder_left_without_commit_is_removed(tmp_path: Path) -> None:
    out = tmp_path / "output"
    with pytest.raises(OutputError), Staging(out) as staging:
        staging.put("index.html", b"x")
        staging.put("../escape.html", b"x")
    assert sorted(tmp_path.iterdir()) == []


def test_the_fingerprint_of_a_write_is_the_one_read_back(tmp_path: Path) -> None:
    out = tmp_path / "output"
    assert check_output_folder(out, tmp_path, {}) == folder_fingerprint(out) == ""
    written = write_site(out, {"index.html": b"x", "a/b/index.html": b"y"})
    assert written == folder_fingerprint(out) == check_output_folder(out, tmp_path, {})
    again = write_site(out, {"index.html": b"x", "a/b/index.html": b"y"})
    assert again == folder_fingerprint(out) != written  # a new manifest
    (out / "a" / "b" / "index.html").write_bytes(b"z")
    assert folder_fingerprint(out) != again
    (out / MANIFEST).write_bytes((out / MANIFEST).read_bytes() + b"\n")
    assert folder_fingerprint(out) == check_output_folder(out, tmp_path, {})
