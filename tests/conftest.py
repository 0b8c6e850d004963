"""Shared fixtures: tiny sites written into tmp_path, the real CLI, and a real browser."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

from generator.cache import CACHE_DIR

REPO = Path(__file__).resolve().parent.parent
SITES = Path(__file__).resolve().parent / "sites"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

MINIMAL_CONFIG = 'title = "Test timeline"\n'
MakeSite = Callable[[dict[str, str | bytes]], Path]


def bench_script(stem: str) -> ModuleType:
    """A script of bench/ (not part of the package) imported as a module, once."""
    name = f"bench_{stem}"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REPO / "bench" / f"{stem}.py")
        assert spec is not None and spec.loader is not None
        sys.modules[name] = importlib.util.module_from_spec(spec)  # dataclasses look it up
        spec.loader.exec_module(sys.modules[name])
    return sys.modules[name]


def write_files(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write {relative path: text} (dedented) or {path: bytes} under root."""
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content).lstrip("\n"), "utf-8")
    return root


def event_file(title: str, date: str, body: str = "Body.", **fields: str) -> str:
    """Front matter with title and date, extra fields as raw YAML values."""
    lines = [f"title: {title}", f"date: {date}", *(f"{k}: {v}" for k, v in fields.items())]
    return "---\n" + "\n".join(lines) + "\n---\n" + body + "\n"


@pytest.fixture
def site(tmp_path: Path) -> MakeSite:
    """Make a site in tmp_path/site from files; timeline.toml is added if missing."""

    def make(files: dict[str, str | bytes]) -> Path:
        root = tmp_path / "site"
        files = {"timeline.toml": MINIMAL_CONFIG, **files}
        return write_files(root, files)

    return make


@dataclass
class Run:
    code: int
    out: str
    err: str


def run_cli(*args: str, cwd: Path) -> Run:
    """The real command line in a child process, as an author runs it."""
    done = subprocess.run(
        [sys.executable, "-m", "generator", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return Run(done.returncode, done.stdout, done.stderr)


def cold_copy(root: Path, tmp_path: Path) -> Path:
    """A copy of the site at ``root`` without its output and cache, in ``tmp_path/cold``
    (emptied first), for a cold build to compare a cached one with."""
    fresh = tmp_path / "cold"
    shutil.rmtree(fresh, ignore_errors=True)
    shutil.copytree(root, fresh, ignore=shutil.ignore_patterns("output", CACHE_DIR))
    return fresh


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under folder, for before/after comparisons."""
    if not folder.exists():
        return {}
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


@pytest.fixture(scope="session")
def browser_context() -> Iterator[object]:
    """Debian's chromium driven by Playwright, with a fresh profile."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as profile, sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
        )
        yield context
        context.close()


@pytest.fixture(scope="session")
def example_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example site of the repository, built once per test run into a temporary folder."""
    out = tmp_path_factory.mktemp("example") / "output"
    result = run_cli("build", "--quiet", "--output", str(out), cwd=REPO)
    assert result.code == 0, result.err
    return out
