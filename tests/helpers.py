"""Building sites in memory, without touching the disk: the pure core under test."""

from __future__ import annotations

import textwrap

from generator.build import BuildResult, build
from generator.config import Config
from generator.sources import SourceFile, Sources, Theme, load_sources
from tests.conftest import REPO


def default_theme() -> Theme:
    sources, problems = load_sources(REPO, Config())
    assert problems == []
    return sources.themes[-1]


def sources(files: dict[str, str], templates: dict[str, str] | None = None) -> Sources:
    """Sources from {content path: text}; the kind comes from the folder."""
    content = tuple(
        SourceFile(path, textwrap.dedent(text).lstrip("\n").encode("utf-8"), path.split("/")[1])
        for path, text in sorted(files.items())
    )
    site_templates = {name: (text, f"templates/{name}") for name, text in (templates or {}).items()}
    return Sources(content=content, site_templates=site_templates, themes=(default_theme(),))


def build_files(files: dict[str, str], config: Config | None = None, **kw: object) -> BuildResult:
    return build(config or Config(), sources(files, **kw))  # type: ignore[arg-type]


def event(title: str, date: str, **fields: str) -> str:
    extra = "".join(f"{k}: {v}\n" for k, v in fields.items())
    return f"---\ntitle: {title}\ndate: {date}\n{extra}---\nAbout {title}.\n"
