"""Hostile text in every field comes out of every export as the same text, read back by an
independent parser of each format: nothing breaks out of its context."""

from __future__ import annotations

import html
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import icalendar

from tests.conftest import MakeSite, run_cli, write_files

NASTY = "Tom & \"Jerry\" <script>alert('x')</script> ]]> --> \\ ; , :\u202e \U0001f600"
ATOM = "{http://www.w3.org/2005/Atom}"


def yaml_quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def test_every_export_keeps_hostile_text_as_text(tmp_path: Path) -> None:
    value = yaml_quoted(NASTY)
    root = write_files(
        tmp_path / "site",
        {
            "timeline.toml": 'title = "T"\nbase_url = "https://example.org/t/"\n',
            "content/events/e.md": f"---\ntitle: {value}\ndate: 2023-10-23\n"
            f"summary: {value}\nactors: [{value}]\nplaces: [{value}]\n---\nBody.\n",
        },
    )
    result = run_cli("build", "--quiet", cwd=root)
    assert result.code == 0, result.err
    out = root / "output"

    feed = ET.parse(out / "feed.xml").getroot()
    entry = feed.find(f"{ATOM}entry")
    assert entry is not None
    assert entry.findtext(f"{ATOM}title") == NASTY

    ET.parse(out / "sitemap.xml")  # well-formed

    data = json.loads((out / "timeline.json").read_text("utf-8"))
    (event,) = data["events"]
    # TimelineJS puts headlines, group names and display dates into the page as HTML:
    # they must arrive escaped, and read back whole.
    for shown in (event["text"]["headline"], event["group"]):
        assert "<" not in shown
        assert html.unescape(shown) == NASTY

    calendar = icalendar.Calendar.from_ical((out / "events.ics").read_bytes())
    (vevent,) = calendar.walk("VEVENT")
    assert str(vevent["SUMMARY"]) == NASTY

    page = (out / "events" / "e" / "index.html").read_text("utf-8")
    assert "<script>alert('x')</script>" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page


def test_timelinejs_media_captions_are_sanitised(site: MakeSite) -> None:
    root = site(
        {
            "content/events/e.md": "---\ntitle: E\ndate: 2023\nmedia:\n"
            "  url: https://example.org/a.jpg\n"
            "  caption: '<img src=x onerror=alert(1)><b>ok</b>'\n"
            "  credit: '<script>alert(2)</script>Agency'\n---\nBody.\n",
        },
    )
    assert run_cli("build", "--quiet", cwd=root).code == 0
    (event,) = json.loads((root / "output" / "timeline.json").read_text("utf-8"))["events"]
    assert event["media"]["caption"] == '<img src="x"><b>ok</b>'
    assert event["media"]["credit"] == "Agency"
