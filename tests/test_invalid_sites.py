"""Bad input of every kind: the real CLI exits 1, names the file and line, and leaves the
previous output exactly as it was.

Each folder under tests/sites/invalid/ holds `files/`, laid over a copy of the valid
tests/sites/basic site after a first good build, and `expected.txt`: one line per error,
`PREFIX: FRAGMENT`, where the error line must start with `PREFIX: ` and contain FRAGMENT.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import SITES, run_cli, snapshot

CASES = sorted(p.name for p in (SITES / "invalid").iterdir() if p.is_dir())


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 20


@pytest.mark.parametrize("case", CASES)
def test_invalid_site(case: str, tmp_path: Path) -> None:
    root = tmp_path / "site"
    shutil.copytree(SITES / "basic", root)
    first = run_cli("build", "--quiet", cwd=root)
    assert first.code == 0, first.err
    before = snapshot(root / "output")
    assert before

    shutil.copytree(SITES / "invalid" / case / "files", root, dirs_exist_ok=True)
    if (root / "output").exists():
        before = snapshot(root / "output")  # the case may plant files in output/
    result = run_cli("build", cwd=root)

    assert result.code == 1, result.err
    assert "Traceback" not in result.err
    errors = [
        line
        for line in result.err.splitlines()
        if not line.startswith(("Found ", "Build failed", "warning"))
    ]
    expected = (SITES / "invalid" / case / "expected.txt").read_text("utf-8").splitlines()
    assert len(errors) == len(expected), result.err
    for line, want in zip(errors, expected, strict=True):
        prefix, fragment = want.split(": ", 1)
        assert line.startswith(prefix + ": "), (line, want)
        assert fragment in line, (line, want)
    assert snapshot(root / "output") == before
    assert not [p.name for p in root.iterdir() if p.name.startswith(".output.")]
