"""The command line as an author meets it: help, exit codes, summaries, `new`, `check`."""

from __future__ import annotations

import html
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from generator.cli import main
from tests.conftest import REPO, SITES, MakeSite, event_file, run_cli, snapshot


@pytest.fixture
def basic(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    shutil.copytree(SITES / "basic", root)
    return root


@pytest.mark.parametrize("command", ["build", "check", "new", "serve"])
def test_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([command, "--help"]) == 0
    assert f"usage: timeline {command}" in capsys.readouterr().out


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "timeline"
    done = subprocess.run([script, "--version"], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and done.stdout.startswith("timeline ")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "the following arguments are required"),
        (["frobnicate"], "invalid choice"),
        (["build", "--nope"], "unrecognized arguments"),
        (["new", "Title"], "--date"),
        (["new", "Title", "--date", "someday"], "--date: 'someday' is not a date"),
        (["build", "--config", "missing.toml"], "no missing.toml here"),
        (["build", "--base-url", "javascript:alert(1)//"], "--base-url: 'base_url' must be"),
        (["build", "--base-url", "https://x.org/?p=1"], "no query, fragment or spaces"),
    ],
)
def test_usage_errors_exit_2(basic: Path, args: list[str], message: str) -> None:
    result = run_cli(*args, cwd=basic)
    assert result.code == 2
    assert message in result.err
    assert "Traceback" not in result.err
    assert not (basic / "output").exists()


def test_build_prints_a_summary_and_quiet_silences_it(basic: Path) -> None:
    result = run_cli("build", cwd=basic)
    assert result.code == 0, result.err
    assert result.out.startswith("Built 3 events, 3 actors, 3 tags, 2 places: ")
    assert result.out.rstrip().endswith("-> output/")
    quiet = run_cli("build", "--quiet", cwd=basic)
    assert (quiet.code, quiet.out, quiet.err) == (0, "", "")


def test_build_into_another_folder_and_config(basic: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    result = run_cli(
        "build", "--config", str(basic / "timeline.toml"), "--output", str(elsewhere), cwd=tmp_path
    )
    assert result.code == 0, result.err
    assert (elsewhere / "events" / "moon" / "index.html").is_file()
    assert not (basic / "output").exists()


@pytest.mark.parametrize(
    "output",
    [".", "content", "..", "content/events", "templates", ".timeline-cache", ".timeline-cache/out"],
)
def test_dangerous_output_folders_are_refused(basic: Path, output: str) -> None:
    before = snapshot(basic.parent)
    result = run_cli("build", "--output", output, cwd=basic)
    assert result.code == 1
    assert "the output folder" in result.err
    assert snapshot(basic.parent) == before


def test_rebuild_replaces_removed_pages(basic: Path) -> None:
    assert run_cli("build", "-q", cwd=basic).code == 0
    (basic / "content" / "events" / "moon.md").unlink()
    assert run_cli("build", "-q", cwd=basic).code == 0
    assert not (basic / "output" / "events" / "moon").exists()
    assert (basic / "output" / "events" / "vesuvius" / "index.html").is_file()


def test_check_writes_nothing_and_strict_reports_actors_without_files(basic: Path) -> None:
    before = snapshot(basic)
    plain = run_cli("check", cwd=basic)
    assert plain.code == 0, plain.err
    assert plain.out == "Checked 3 events and 3 actors: no problems.\n"
    strict = run_cli("check", "--strict", cwd=basic)
    assert strict.code == 1
    assert strict.err.splitlines() == [
        "content/events/moon.md:5: actor 'NASA' (1 event) has no actor file; "
        "add content/actors/nasa.md",
    ]
    assert snapshot(basic) == before


def test_strict_suggests_the_actor_meant(basic: Path) -> None:
    (basic / "content" / "events" / "typo.md").write_text(
        "---\ntitle: T\ndate: 2023\nactors: [Julius Ceasar]\n---\n", "utf-8"
    )
    strict = run_cli("check", "--strict", cwd=basic)
    assert (
        "content/events/typo.md:4: actor 'Julius Ceasar' (1 event) has no actor file; "
        "did you mean 'Julius Caesar'?" in strict.err.splitlines()
    )


def test_new_creates_an_event_that_builds(basic: Path) -> None:
    result = run_cli(
        "new",
        'Lavrov: a visit to "Tehran"',
        "--date",
        "October 23, 2023",
        "--actor",
        "Sergei Lavrov",
        "--actor",
        "Iran",
        "--tag",
        "diplomacy",
        cwd=basic,
    )
    assert result.code == 0, result.err
    path = basic / "content" / "events" / "2023-10-23-lavrov-a-visit-to-tehran.md"
    assert result.out == f"Created {path.relative_to(basic)}\n"
    assert run_cli("build", "-q", cwd=basic).code == 0
    page = basic / "output" / "events" / "2023-10-23-lavrov-a-visit-to-tehran" / "index.html"
    assert "Lavrov: a visit to &#34;Tehran&#34;" in page.read_text("utf-8")
    assert (basic / "output" / "actors" / "sergei-lavrov" / "index.html").is_file()
    again = run_cli("new", 'Lavrov: a visit to "Tehran"', "--date", "2023-10-23", cwd=basic)
    assert again.code == 1 and "already exists" in again.err


def test_drafts_are_left_out_unless_asked(basic: Path) -> None:
    (basic / "content" / "events" / "draft.md").write_text(
        "---\ntitle: Not yet\ndate: 2023\ndraft: true\n---\n", "utf-8"
    )
    assert run_cli("build", "-q", cwd=basic).code == 0
    assert not (basic / "output" / "events" / "draft").exists()
    assert run_cli("build", "-q", "--drafts", cwd=basic).code == 0
    assert (basic / "output" / "events" / "draft" / "index.html").is_file()


def test_all_problems_of_a_build_are_reported_together(basic: Path) -> None:
    for name in ("a", "b", "c"):
        (basic / "content" / "events" / f"{name}.md").write_text(
            f"---\ntitle: {name}\ndate: 2023-02-3{(name == 'a' and 0) or 1}\n---\n", "utf-8"
        )
    result = run_cli("build", cwd=basic)
    assert result.code == 1
    lines = result.err.splitlines()
    assert [line.split(":")[0] for line in lines[:3]] == [
        "content/events/a.md",
        "content/events/b.md",
        "content/events/c.md",
    ]
    assert "Found 3 errors." in lines


def test_the_example_site_builds_with_make_site_command() -> None:
    result = run_cli("check", cwd=REPO)
    assert result.code == 0, result.err


def test_links_from_the_root_in_bodies_sources_and_profiles_work_under_a_sub_path(
    site: MakeSite,
) -> None:
    body = "![The venue](/images/map.png) and [the tags](/tags/diplomacy/)."
    fields = {"tags": "diplomacy", "actors": "Alice", "sources": "[/docs/r.pdf#page=2]"}
    root = site(
        {
            "content/events/summit.md": event_file("Summit", "2023-06-14", body, **fields),
            "content/actors/alice.md": "---\nname: Alice\nlinks: [/docs/]\n---\nA.\n",
            "static/images/map.png": b"\x89PNG\r\n\x1a\n",
            "static/docs/r.pdf": b"%PDF",
            "static/docs/index.html": "<!doctype html><title>Docs</title>",
        }
    )
    done = run_cli("build", "--quiet", "--base-url", "https://example.org/sub/", cwd=root)
    assert (done.code, done.err) == (0, "")
    page = (root / "output/events/summit/index.html").read_text()
    assert '<img alt="The venue" src="../../images/map.png">' in page
    assert '<a href="../../tags/diplomacy/index.html"' in page
    assert '<a href="../../docs/r.pdf#page=2" rel="noopener">' in page
    profile = (root / "output/actors/alice/index.html").read_text()
    assert '<a href="../../docs/index.html" rel="noopener">' in profile
    feed = (root / "output/feed.xml").read_text()
    assert 'src="https://example.org/sub/images/map.png"' in html.unescape(feed)
