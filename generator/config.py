"""Site configuration: ``timeline.toml`` parsed into a frozen dataclass.

Parsing is a pure function of the file's text. Every problem is reported in one run,
with a suggestion when a key looks like a typo of a known one.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import tomllib
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath, PureWindowsPath
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from generator import messages as M
from generator.diagnostics import Diagnostic, error

CONFIG_NAME = "timeline.toml"
DATE_ORDERS = ("dmy", "mdy")


@dataclass(frozen=True)
class Config:
    """Settings of one site. Folder settings are relative to the folder of timeline.toml."""

    title: str = "Timeline"
    description: str = ""
    base_url: str = ""
    language: str = "en"
    theme: str = "default"
    content_dir: str = "content"
    output_dir: str = "output"
    templates_dir: str = "templates"
    static_dir: str = "static"
    timezone: str = "UTC"
    date_order: str = ""
    home_limit: int = 300
    page_size: int = 100  # events per page of a year, actor, tag or place
    unsafe_html: bool = False
    search: bool = True  # a Pagefind index; large sites may turn it off to build faster
    theme_options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


# The type each key must have, in the words a user knows (TOML's, not Python's).
_KINDS: dict[str, tuple[type, str]] = {
    "title": (str, "a string"),
    "description": (str, "a string"),
    "base_url": (str, "a string"),
    "language": (str, "a string"),
    "theme": (str, "a string"),
    "content_dir": (str, "a string"),
    "output_dir": (str, "a string"),
    "templates_dir": (str, "a string"),
    "static_dir": (str, "a string"),
    "timezone": (str, "a string"),
    "date_order": (str, "a string"),
    "home_limit": (int, "an integer"),
    "page_size": (int, "an integer"),
    "unsafe_html": (bool, "true or false"),
    "search": (bool, "true or false"),
}
_ALL_KEYS = sorted(_KINDS)


def parse_config(text: str, path: str = CONFIG_NAME) -> tuple[Config, list[Diagnostic]]:
    """Parse the text of timeline.toml. Returns the config (defaults where a value was bad)
    and every problem found."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return Config(), [
            error(path, _toml_error_line(exc), M.CONFIG_TOML(problem=_toml_message(exc)))
        ]
    lines = _key_lines(text)
    problems: list[Diagnostic] = []
    values: dict[str, Any] = {}
    for key, value in raw.items():
        problems.extend(_take(key, value, values, path, lines.get(key, 0)))
    config = Config(**values)
    problems.extend(_check_semantics(config, path, lines))
    return config, problems


def _take(key: str, value: Any, values: dict[str, Any], path: str, line: int) -> list[Diagnostic]:
    if key == "theme" and isinstance(value, dict):
        # TOML cannot hold both `theme = "name"` and a [theme] table, so the table names the
        # theme with its `name` key and passes every other key to the templates.
        options = dict(value)
        name = options.pop("name", "default")
        if not isinstance(name, str):
            return [
                error(
                    path,
                    line,
                    M.CONFIG_TYPE(key="theme.name", expected="a string", found=_toml_type(name)),
                )
            ]
        values["theme"] = name
        values["theme_options"] = MappingProxyType(options)
        return []
    if key not in _KINDS or key == "theme_options":
        hint = difflib.get_close_matches(key, _ALL_KEYS, n=1)
        fix = f"did you mean '{hint[0]}'?" if hint else f"known keys: {', '.join(_ALL_KEYS)}"
        return [error(path, line, M.CONFIG_UNKNOWN(key=key, fix=fix))]
    kind, words = _KINDS[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        return [error(path, line, M.CONFIG_TYPE(key=key, expected=words, found=_toml_type(value)))]
    values[key] = value
    return []


def _check_semantics(config: Config, path: str, lines: dict[str, int]) -> list[Diagnostic]:
    problems = []

    def bad(key: str, message: str) -> None:
        problems.append(error(path, lines.get(key, 0), message))

    if config.date_order and config.date_order not in DATE_ORDERS:
        bad("date_order", M.CONFIG_CHOICE(key="date_order", choices=", ".join(DATE_ORDERS)))
    if config.base_url and not base_url_ok(config.base_url):
        bad("base_url", M.CONFIG_BASE_URL())
    try:
        zoneinfo.ZoneInfo(config.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        bad("timezone", M.CONFIG_TIMEZONE(zone=config.timezone))
    if config.home_limit < 1:
        bad("home_limit", M.CONFIG_MINIMUM(key="home_limit", minimum=1))
    if config.page_size < 10:
        bad("page_size", M.CONFIG_MINIMUM(key="page_size", minimum=10))
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", config.theme):
        bad("theme", M.CONFIG_THEME_NAME())
    for key in ("content_dir", "output_dir", "templates_dir", "static_dir"):
        value = getattr(config, key)
        folder = PurePosixPath(value.replace("\\", "/"))
        if not value.strip() or ".." in folder.parts or folder.is_absolute() or _drive(value):
            bad(key, M.CONFIG_FOLDER(key=key))
    return problems


def _drive(value: str) -> bool:
    """Whether ``value`` starts with a Windows drive (``C:``), which is outside any site."""
    return bool(PureWindowsPath(value).drive)


def base_url_ok(value: str) -> bool:
    """Whether ``value`` can start every absolute URL of the site: http(s), a host, and
    nothing a page's path cannot follow (a query, a fragment) or that is no part of a URL
    as written (spaces, quotes, angle brackets, backslashes, control characters)."""
    try:
        parts = urlsplit(value)
    except ValueError:  # a malformed IPv6 host
        return False
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and not parts.query
        and not parts.fragment
        and not re.search(r'[\x00-\x20\x7f"<>\\^`{|}?#]', value)
    )


def with_overrides(config: Config, **changes: Any) -> Config:
    """Apply command-line overrides (``--output``, ``--base-url``)."""
    return dataclasses.replace(config, **{k: v for k, v in changes.items() if v is not None})


def _toml_type(value: Any) -> str:
    names = {str: "a string", bool: "a boolean", int: "an integer", float: "a number"}
    names |= {list: "an array", dict: "a table"}
    return names.get(type(value), "a date or time")


def _key_lines(text: str) -> dict[str, int]:
    """Line of each top-level key (and of the [theme] table), for error messages."""
    found: dict[str, int] = {}
    in_table = False
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("["):
            name = stripped.strip("[] ")
            found.setdefault(name, number)
            in_table = True
            continue
        match = re.match(r"""["']?([A-Za-z0-9_-]+)["']?\s*=""", stripped)
        if match and not in_table:
            found.setdefault(match.group(1), number)
    return found


def _toml_error_line(exc: tomllib.TOMLDecodeError) -> int:
    match = re.search(r"at line (\d+)", str(exc))
    return int(match.group(1)) if match else 0


def _toml_message(exc: tomllib.TOMLDecodeError) -> str:
    return re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc)) or "could not parse"
