"""Paths, slugs, links and odd files: nothing climbs out, nothing crashes."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.slugs import MAX_LENGTH, is_slug, slugify
from tests.conftest import MakeSite, run_cli, snapshot, write_files


@given(st.text(max_size=200))
@settings(max_examples=1000)
def test_any_text_gives_a_safe_slug(text: str) -> None:
    slug = slugify(text)
    assert slug and len(slug) <= MAX_LENGTH + 2
    assert "/" not in slug and "\\" not in slug and "\x00" not in slug
    assert slug not in (".", "..") and not slug.startswith(".")
    assert is_slug(slug)
    assert slugify(slug) == slug


def test_file_names_with_spaces_and_other_scripts(site: MakeSite) -> None:
    root = site(
        {
            "content/events/Встреча в Москве.md": "---\ntitle: Встреча\ndate: 2023\n"
            "actors: [Сергей Лавров]\n---\nТекст.\n",
            "content/events/sub folder/東京 会議.md": "---\ntitle: 会議\ndate: 2024\n---\n",
            "content/actors/сергей лавров.md": "---\nname: Сергей Лавров\n---\n",
        },
    )
    result = run_cli("build", "--quiet", cwd=root)
    assert result.code == 0, result.err
    out = root / "output"
    assert (out / "events" / "встреча-в-москве" / "index.html").is_file()
    assert (out / "events" / "東京-会議" / "index.html").is_file()
    assert (out / "actors" / "сергей-лавров" / "index.html").is_file()


def test_symlinks_out_of_the_content_folder_are_refused(tmp_path: Path) -> None:
    secret = write_files(tmp_path / "secret", {"passwords.md": "---\ntitle: x\ndate: 2023\n---\n"})
    root = write_files(
        tmp_path / "site",
        {
            "timeline.toml": 'title = "T"\n',
            "content/events/a.md": "---\ntitle: A\ndate: 2023\n---\n",
        },
    )
    os.symlink(secret / "passwords.md", root / "content" / "events" / "leak.md")
    os.symlink(secret, root / "content" / "events" / "leakdir")
    os.symlink(root / "content" / "events", root / "content" / "events" / "loop")
    result = run_cli("build", cwd=root)
    assert result.code == 1
    assert sorted(x for x in result.err.splitlines() if x.startswith("content")) == [
        "content/events/leak.md: this link points outside its folder; copy the file in instead "
        "of linking to it",
        "content/events/leakdir: this link points outside its folder; copy the file in instead "
        "of linking to it",
    ]
    assert not (root / "output").exists()


def test_a_site_folder_linked_out_of_the_site_is_refused(tmp_path: Path) -> None:
    """A cloned repository's ``static -> ../private`` would publish a folder beside the site;
    ``content/actors`` or ``templates`` linked elsewhere would read them."""
    around = write_files(
        tmp_path,
        {
            "private/secret.txt": "mine",
            "notes/actors/me.md": "---\nname: Me\n---\nPrivate.\n",
            "notes/templates/base.html": "{{ 1 }}",
        },
    )
    root = write_files(
        around / "site",
        {
            "timeline.toml": 'title = "T"\n',
            "content/events/a.md": "---\ntitle: A\ndate: 2023\n---\n",
        },
    )
    os.symlink("../private", root / "static")
    os.symlink(around / "notes" / "actors", root / "content" / "actors")
    os.symlink(around / "notes" / "templates", root / "templates")
    result = run_cli("build", cwd=root)
    assert result.code == 1
    refused = "this link points outside its folder; copy the file in instead of linking to it"
    assert sorted(x for x in result.err.splitlines() if refused in x) == [
        f"content/actors: {refused}",
        f"static: {refused}",
        f"templates: {refused}",
    ]
    assert not (root / "output").exists()


def test_huge_and_deep_files_end_in_a_clear_answer(site: MakeSite) -> None:
    root = site(
        {
            "content/events/ok.md": "---\ntitle: OK\ndate: 2023\n---\n",
        },
    )
    assert run_cli("build", "-q", cwd=root).code == 0
    before = snapshot(root / "output")
    events = root / "content" / "events"
    (events / "huge.md").write_text("---\ntitle: H\ndate: 2023\n---\n" + "word " * 3_000_000)
    (events / "deep.md").write_text("---\ntitle: D\ndate: 2023\n---\n" + "> " * 5000 + "x\n")
    (events / "lists.md").write_text(
        "---\ntitle: L\ndate: 2023\n---\n" + "".join("  " * i + "- x\n" for i in range(2000))
    )
    result = run_cli("build", cwd=root)
    assert result.code == 1, result.err
    assert "Traceback" not in result.err
    assert "content/events/huge.md:1: the file is 15.0 MB" in result.err
    assert snapshot(root / "output") == before


def test_an_alias_bomb_in_front_matter_ends_in_a_clear_answer(site: MakeSite) -> None:
    """A few lines of YAML aliases stand for billions of values: the reader shares them,
    but every later stage (the cache's JSON, the templates) would write them all out."""
    levels = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        levels.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    root = site(
        {
            "content/events/ok.md": "---\ntitle: OK\ndate: 2023\n---\n",
            "content/events/bomb.md": "---\ntitle: B\ndate: 2023\n" + "\n".join(levels) + "\n---\n",
        },
    )
    result = run_cli("build", cwd=root)
    assert result.code == 1, result.err
    assert "Traceback" not in result.err
    assert "content/events/bomb.md:2: front matter holds more than 10,000 values" in result.err
    assert not (root / "output").exists()


def test_a_static_file_where_the_build_makes_its_own_is_named_in_a_warning(
    site: MakeSite,
) -> None:
    root = site(
        {
            "content/events/a.md": "---\ntitle: A\ndate: 2023-01-01\n---\nA.\n",
            "static/index.html": "<p>mine</p>",
            "static/events/a/index.html": "<p>mine</p>",
            "static/timeline.json": "{}",
            "static/pagefind/shards.json": "[]",
            "static/about.html": "<p>about</p>",
        },
    )
    result = run_cli("build", "-q", cwd=root)
    assert result.code == 0, result.err
    hidden = ["events/a/index.html", "index.html", "pagefind/shards.json", "timeline.json"]
    assert result.err.splitlines() == [
        f"static/{path}: warning: the build makes {path} itself, so this file is not copied "
        "there; rename it or move it into a folder of its own"
        for path in hidden
    ]
    out = root / "output"
    assert (out / "about.html").read_text() == "<p>about</p>"
    assert all(b"mine" not in (out / path).read_bytes() for path in hidden)


def test_a_template_cannot_run_code_on_the_machine_that_builds(site: MakeSite) -> None:
    marker = site({}).parent / "ran"
    escape = f"{{{{ cycler.__init__.__globals__.os.system('touch {marker}') }}}}"
    root = site(
        {
            "content/events/a.md": "---\ntitle: A\ndate: 2023\n---\nBody.\n",
            "templates/event.html": '{% extends "default/event.html" %}\n'
            f"{{% block main %}}\n{escape}\n{{% endblock %}}\n",
        }
    )
    result = run_cli("build", "--quiet", cwd=root)
    assert result.code == 1
    assert result.err.startswith("templates/event.html:3: template error: SecurityError")
    assert "__init__" in result.err and "Traceback" not in result.err
    assert not marker.exists()
    assert not (root / "output").exists()


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ('"x" * 10**10', "a repeat longer than 10,000,000 is not allowed"),
        ("10**10 * [0]", "a repeat longer than 10,000,000 is not allowed"),
        ("10 ** (10 ** 10)", "a power over 100,000 bits is not allowed"),
    ],
)
def test_a_template_cannot_ask_for_gigabytes_in_one_expression(
    site: MakeSite, expression: str, message: str
) -> None:
    """Gigabytes of text, or a number whose computation no time limit stops (one call
    into C): refused before they are made, at the template's line."""
    root = site(
        {
            "content/events/a.md": "---\ntitle: A\ndate: 2023\n---\nBody.\n",
            "templates/event.html": '{% extends "default/event.html" %}\n'
            f"{{% block main %}}\n{{{{ {expression} }}}}\n{{% endblock %}}\n",
        }
    )
    started = time.monotonic()
    result = run_cli("build", "--quiet", cwd=root)
    assert time.monotonic() - started < 30
    assert result.code == 1
    assert result.err.startswith(
        f"templates/event.html:3: template error: SecurityError: {message}"
    )
    assert "Traceback" not in result.err


def test_a_template_may_still_repeat_and_raise_to_a_power(site: MakeSite) -> None:
    root = site(
        {
            "content/events/a.md": "---\ntitle: A\ndate: 2023\n---\nBody.\n",
            "templates/event.html": '{% extends "default/event.html" %}\n'
            '{% block main %}<p>{{ "ab" * 3 }} {{ 2 ** 10 }} {{ [1] * 2 }} {{ 3 * 4 }}</p>'
            "{% endblock %}\n",
        }
    )
    assert run_cli("build", "--quiet", cwd=root).code == 0
    page = (root / "output" / "events" / "a" / "index.html").read_text()
    assert "<p>ababab 1024 [1, 1] 12</p>" in page


@pytest.mark.parametrize("target", ["elsewhere", "nowhere/yet"])
def test_an_output_folder_linked_out_of_the_site_is_refused(
    tmp_path: Path, site: MakeSite, target: str
) -> None:
    """A cloned repository's ``output`` link to an empty or missing folder elsewhere must
    not make the build create or fill it; the author can still name it with --output."""
    root = site({"content/events/a.md": "---\ntitle: A\ndate: 2023\n---\n"})
    outside = tmp_path / "outside"
    (outside / "elsewhere").mkdir(parents=True)
    (root / "output").symlink_to(outside / target)
    result = run_cli("build", cwd=root)
    assert result.code == 1
    refused = "output: the output folder leads out of the site through a symbolic link"
    assert f"{refused}, to {outside / target};" in result.err
    assert sorted(p.relative_to(outside).as_posix() for p in outside.rglob("*")) == ["elsewhere"]
    (root / "output").unlink()
    chosen = outside / "elsewhere"
    result = run_cli("build", "--output", str(chosen), cwd=root)
    assert result.code == 0, result.err
    assert (chosen / "events" / "a" / "index.html").is_file()


def test_new_and_import_do_not_write_through_a_content_folder_linked_out(
    tmp_path: Path, site: MakeSite
) -> None:
    """What the build refuses to read, ``new`` and ``import`` refuse to write: a cloned
    repository's ``content`` link must not have them write where it leads."""
    root = site({})
    outside = tmp_path / "outside"
    (outside / "events").mkdir(parents=True)
    (root / "content").symlink_to(outside)
    refused = "this link points outside its folder"
    made = run_cli("new", "Planted", "--date", "2023-10-23", cwd=root)
    assert made.code == 1 and f"content/events/2023-10-23-planted.md: {refused}" in made.err
    sheet = Path(__file__).resolve().parent / "fixtures" / "import" / "sheet.csv"
    imported = run_cli("import", str(sheet), cwd=root)
    assert imported.code == 1 and f"content: {refused}" in imported.err
    assert [p.name for p in outside.rglob("*")] == ["events"]


def test_a_linked_timeline_toml_does_not_move_the_build_to_where_it_leads(
    tmp_path: Path,
) -> None:
    """The site is the folder that holds timeline.toml, even when that is a link."""
    other = write_files(
        tmp_path / "other",
        {
            "timeline.toml": 'title = "Other"\n',
            "content/events/o.md": "---\ntitle: O\ndate: 2023\n---\n",
        },
    )
    clone = write_files(
        tmp_path / "clone", {"content/events/c.md": "---\ntitle: C\ndate: 2024\n---\n"}
    )
    (clone / "timeline.toml").symlink_to("../other/timeline.toml")
    result = run_cli("build", cwd=clone)
    assert result.code == 0, result.err
    assert (clone / "output" / "events" / "c" / "index.html").is_file()
    assert sorted(p.name for p in other.iterdir()) == ["content", "timeline.toml"]
