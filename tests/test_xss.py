"""Hostile content: script in every field of an event and an actor must never run in a
reader's browser, and must still be shown as the text the author wrote."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import MakeSite, run_cli, write_files

pytestmark = pytest.mark.browser

ATTACKS = [
    "<script>alert('s1')</script>",
    "<img src=x onerror=alert('s2')>",
    '"><svg onload=alert("s3")>',
    "javascript:alert('s4')",
    "{{ 7*7 }}</title><script>alert('s5')</script>",
    "'-alert('s6')-'",
]
PAYLOAD = " ".join(ATTACKS)
MARKER = re.compile(r"\bs\d+\b|alert")


def yaml_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def hostile_site(root: Path) -> Path:
    value = yaml_text(PAYLOAD)
    event = f"""\
---
title: {value}
date: 2023-10-23
actors: [{value}, Mallory]
places: [{value}]
tags: [{value}]
summary: {value}
sources:
  - {{title: {value}, url: "https://example.org/?q=<script>alert('s7')</script>"}}
  - "https://example.org/a\\"onmouseover=\\"alert('s8')"
extra_field: {value}
---
{PAYLOAD}

<a href="javascript:alert('s9')">click</a> <iframe src="javascript:alert('s10')"></iframe>
<div onclick="alert('s11')" style="background:url(javascript:alert('s12'))">x</div>
[md link](javascript:alert('s13')) ![img](javascript:alert('s14'))
<form action="javascript:alert('s15')"><button>go</button></form>
"""
    actor = f"""\
---
name: Mallory
aliases: [{value}]
kind: {value}
role: {value}
summary: {value}
links:
  - {{title: {value}, url: "https://example.org/"}}
---
{PAYLOAD}
"""
    return write_files(
        root,
        {
            "timeline.toml": "title = \"<script>alert('s0')</script>\"\n",
            "content/events/hostile.md": event,
            "content/events/second.md": "---\ntitle: Second\ndate: 2023-10-24\n"
            "actors: [Mallory]\n---\nPlain.\n",
            "content/actors/mallory.md": actor,
        },
    )


def test_no_script_runs_on_any_page(tmp_path: Path, browser_context: Any) -> None:
    root = hostile_site(tmp_path / "site")
    result = run_cli("build", "--quiet", cwd=root)
    assert result.code == 0, result.err
    pages = sorted((root / "output").rglob("*.html"))
    assert len(pages) >= 10
    page = browser_context.new_page()
    fired: list[str] = []
    page.on("dialog", lambda d: (fired.append(d.message), d.dismiss()))
    # an <img src=x> failing to load is expected; only our markers count
    page.on("console", lambda m: fired.append(m.text) if MARKER.search(m.text) else None)
    page.on("pageerror", lambda e: fired.append(str(e)))
    try:
        for path in pages:
            page.goto(path.as_uri())
            page.mouse.move(10, 10)
            for link in page.locator("main a, main img, main div").all()[:40]:
                link.hover(timeout=1000, force=True)
            page.evaluate("document.querySelectorAll('main *').forEach(e => e.click && 0)")
        event = root / "output" / "events" / "hostile" / "index.html"
        page.goto(event.as_uri())
        # what the author wrote is shown as text
        assert "<script>alert('s1')</script>" in page.locator("h1").inner_text()
        assert page.locator("main script, main iframe, main form, main [onclick]").count() == 0
        assert page.locator('a[href^="javascript:"]').count() == 0
    finally:
        page.close()
    assert fired == []


def test_hostile_urls_are_refused_with_their_line(site: MakeSite) -> None:
    root = site(
        {
            "content/events/a.md": "---\ntitle: A\ndate: 2023\nsources:\n"
            "  - 'JaVaScRiPt:alert(1)'\n  - data:text/html,<script>alert(1)</script>\n"
            "  - vbscript:msgbox\n  - ' javascript:alert(1)'\n---\n",
        },
    )
    result = run_cli("build", cwd=root)
    assert result.code == 1
    lines = [line for line in result.err.splitlines() if line.startswith("content/")]
    assert [line.split(": ")[0] for line in lines] == [
        "content/events/a.md:5",
        "content/events/a.md:6",
        "content/events/a.md:7",
        "content/events/a.md:8",
    ]
