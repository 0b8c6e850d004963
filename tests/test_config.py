"""timeline.toml: every problem at once, typo hints, the user's words."""

from __future__ import annotations

import json

import pytest

from generator.config import Config, base_url_ok, parse_config


def problems(text: str) -> list[str]:
    return [d.format() for d in parse_config(text)[1]]


def test_defaults_and_values() -> None:
    config, found = parse_config(
        'title = "T"\nhome_limit = 5\n[theme]\nname = "x"\naccent = "red"\n'
    )
    assert found == []
    assert config.title == "T" and config.home_limit == 5
    assert config.theme == "x" and dict(config.theme_options) == {"accent": "red"}
    assert parse_config("")[0] == Config()


def test_theme_as_a_name() -> None:
    config, found = parse_config('theme = "mine"\n')
    assert found == [] and config.theme == "mine" and dict(config.theme_options) == {}


def test_every_problem_is_reported_with_its_line() -> None:
    text = "\n".join(
        [
            'titel = "T"',
            "home_limit = true",
            'date_order = "ydm"',
            'base_url = "example.org"',
            'timezone = "Mars/Olympus"',
            'output_dir = "../elsewhere"',
            "unsafe_html = 1",
        ]
    )
    assert problems(text) == [
        "timeline.toml:1: unknown key 'titel'; did you mean 'title'?",
        "timeline.toml:2: 'home_limit' must be an integer, not a boolean",
        "timeline.toml:7: 'unsafe_html' must be true or false, not an integer",
        "timeline.toml:3: 'date_order' must be one of dmy, mdy",
        "timeline.toml:4: 'base_url' must be an absolute http(s) URL with no query, fragment "
        "or spaces, like https://example.org/",
        "timeline.toml:5: unknown timezone 'Mars/Olympus'; use an IANA name like Europe/Paris",
        "timeline.toml:6: 'output_dir' must be a folder inside the site: a relative path, "
        "without '..'",
    ]


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://example.org/", True),
        ("http://example.org", True),
        ("https://example.org/history/a%20b/", True),
        ("https://[::1]:8000/", True),
        ("https://例え.jp/歴史/", True),
        ("example.org", False),
        ("javascript:alert(1)//", False),
        ("ftp://example.org/", False),
        ("https:///path", False),
        ("https://example.org/?", False),
        ("https://example.org/?page=1", False),
        ("https://example.org/#top", False),
        ("https://example.org/a b/", False),
        ('https://example.org/"onload="x', False),
        ("https://example.org/<b>/", False),
        ("https://example.org\\evil.org/", False),
        ("https://example.org/\n", False),
        ("https://[::1/", False),
    ],
)
def test_a_base_url_must_start_every_absolute_url_of_the_site(url: str, ok: bool) -> None:
    assert base_url_ok(url) is ok
    assert bool(problems(f"base_url = {json.dumps(url)}")) is not ok


@pytest.mark.parametrize(
    ("folder", "ok"),
    [
        ("output", True),
        ("build/site", True),
        ("out\\site", True),
        ("", False),
        ("  ", False),
        ("../output", False),
        ("a/../../b", False),
        ("/tmp/elsewhere", False),
        ("C:/site", False),
        ("C:\\site", False),
        ("\\\\server\\share", False),
    ],
)
def test_the_site_s_folders_are_relative_paths_inside_it(folder: str, ok: bool) -> None:
    found = problems(f"output_dir = {json.dumps(folder)}")
    assert (found == []) is ok, found


def test_toml_syntax_error_names_the_line() -> None:
    found = problems('title = "T"\nbroken = \n')
    assert len(found) == 1 and found[0].startswith("timeline.toml:2: invalid TOML")


def test_unknown_key_without_a_close_match_lists_the_known_ones() -> None:
    (found,) = problems("zzz = 1\n")
    assert "known keys: base_url" in found


def test_page_size_has_a_default_and_a_floor() -> None:
    assert Config().page_size == 100
    assert parse_config("page_size = 50\n")[0].page_size == 50
    assert problems("page_size = 3\n") == ["timeline.toml:1: 'page_size' must be at least 10"]
    assert problems('page_size = "ten"\n') == [
        "timeline.toml:1: 'page_size' must be an integer, not a string"
    ]
