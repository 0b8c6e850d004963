"""timeline.json (TimelineJS3) and events.ics (iCalendar), read back by independent
readers: the json module and TimelineJS3 itself in chromium, and the icalendar package."""

from __future__ import annotations

import html
import json
from datetime import UTC, date, datetime
from pathlib import Path

import icalendar
import pytest

from generator.config import Config
from tests.conftest import REPO
from tests.helpers import build_files, event
from tests.static_server import serve_folder

TIMELINEJS = REPO / "tests" / ".node" / "node_modules" / "@knight-lab" / "timelinejs" / "dist"

FILES = {
    "content/events/year.md": event("A year", "2021", actors="[Iran, Russia]"),
    "content/events/month.md": event("A month", "2022-04", end="2023-10", circa="true"),
    "content/events/day.md": event("A day", "2023-10-07", places="[Israel, Gaza]", tags="war"),
    "content/events/range.md": event("A range", "2023-10-17", end="2023-10-19"),
    "content/events/timed.md": event(
        "A time", "2023-10-23T14:30+02:00", end="2023-10-23T16:00+02:00"
    ),
    "content/events/local.md": event("Local time", "2023-10-24T09:15"),
    "content/events/ides.md": event("Ides", "-0044-03-15"),
    "content/events/draft.md": event("Draft", "2023-10-25", draft="true"),
    "content/events/future.md": event("Future", "2999-01-01"),
    "content/events/media.md": event(
        "With media", "2023-11-01", media="{url: 'https://example.org/a.jpg', caption: Photo}"
    ),
}


def _built(**config: str) -> dict[str, bytes]:
    result = build_files(FILES, Config(title="T", timezone="Europe/Paris", **config))
    assert result.ok, result.diagnostics
    return dict(result.pages)


def test_timeline_json_keeps_each_date_at_its_precision() -> None:
    data = json.loads(_built()["timeline.json"])
    assert data["title"]["text"]["headline"] == "T"
    slides = {s["text"]["headline"]: s for s in data["events"]}
    assert "Draft" not in slides and "Future" in slides  # drafts out; the future is built
    assert slides["A year"]["start_date"] == {"year": "2021", "display_date": "2021"}
    assert slides["A year"]["group"] == "Iran"  # the first actor is the row
    month = slides["A month"]
    assert month["start_date"] == {"year": "2022", "month": "4", "display_date": "April 2022"}
    assert (
        month["end_date"]["month"] == "10"
        and month["display_date"] == "c. April 2022 – October 2023"
    )
    assert slides["A range"]["end_date"] == {
        "year": "2023",
        "month": "10",
        "day": "19",
        "display_date": "19 October 2023",
    }
    assert slides["A time"]["start_date"] == {
        "year": "2023",
        "month": "10",
        "day": "23",
        "hour": "14",
        "minute": "30",
        "display_date": "23 October 2023, 14:30 +02:00",
    }
    # BC years as TimelineJS shows them: year -44 is labelled "44 BCE"
    assert slides["Ides"]["start_date"]["year"] == "-44"
    assert slides["With media"]["media"] == {"url": "https://example.org/a.jpg", "caption": "Photo"}
    assert [s["unique_id"] for s in data["events"]][:2] == ["ides", "year"]  # in time order


def test_media_urls_that_cannot_be_read_are_left_out_not_a_crash() -> None:
    files = {
        "content/events/a.md": event(
            "A", "2023-01-01", media="'http://[bad'", background="{url: 'https://[::1', color: red}"
        ),
        "content/events/b.md": event("B", "2023-01-02", media="{url: 'javascript:x', link: 'x'}"),
    }
    result = build_files(files)
    assert result.ok, result.diagnostics
    slides = {s["text"]["headline"]: s for s in json.loads(result.pages["timeline.json"])["events"]}
    assert "media" not in slides["A"] and "media" not in slides["B"]
    assert slides["A"]["background"] == {"color": "red"}


def test_timeline_json_links_back_to_the_site_when_it_has_a_base_url() -> None:
    data = json.loads(_built(base_url="https://example.org/")["timeline.json"])
    text = data["events"][0]["text"]["text"]
    assert 'href="https://example.org/events/ides/"' in text


def _calendar(pages: dict[str, bytes]) -> dict[str, icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(pages["events.ics"])
    return {str(e["SUMMARY"]): e for e in calendar.walk("VEVENT")}


def test_events_ics_has_day_events_all_day_and_timed_events_in_utc() -> None:
    events = _calendar(_built(base_url="https://example.org/"))
    # no day (year, month) or no Gregorian calendar date (BC): left out; drafts too
    assert sorted(events) == ["A day", "A range", "A time", "Future", "Local time", "With media"]
    day = events["A day"]
    assert day.decoded("DTSTART") == date(2023, 10, 7)
    assert day.decoded("DTEND") == date(2023, 10, 8)  # exclusive, as RFC 5545 wants
    assert str(day["LOCATION"]) == "Israel, Gaza"
    assert str(day["URL"]) == "https://example.org/events/day/"
    assert events["A range"].decoded("DTEND") == date(2023, 10, 20)
    timed = events["A time"]
    assert timed.decoded("DTSTART") == datetime(2023, 10, 23, 12, 30, tzinfo=UTC)
    assert timed.decoded("DTEND") == datetime(2023, 10, 23, 14, 0, tzinfo=UTC)
    # no offset written: the site's time zone (Paris, UTC+2 in October 2023)
    local = events["Local time"].decoded("DTSTART")
    assert local == datetime(2023, 10, 24, 7, 15, tzinfo=UTC)
    assert {str(e["UID"]) for e in events.values()} >= {"day@example.org", "timed@example.org"}
    # DTSTAMP is required; it comes from the event, not from the clock
    assert day.decoded("DTSTAMP") == datetime(2023, 10, 7, tzinfo=UTC)


@pytest.fixture(scope="session")
def timelinejs() -> Path:
    if not (TIMELINEJS / "js" / "timeline.js").is_file():
        pytest.fail("TimelineJS3 is not installed: run `make test` (it installs tests/.node)")
    return TIMELINEJS


HARNESS = """<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,">
<link rel="stylesheet" href="tl/css/timeline.css">
<script src="tl/js/timeline.js"></script></head>
<body><div id="timeline-embed" style="width: 1000px; height: 600px"></div>
<script>
window.timeline = new TL.Timeline("timeline-embed", "site/timeline.json",
                                  {script_path: new URL("tl/js/", location.href).href,
                                   font: null});  // the default font comes from a font CDN
</script></body></html>
"""


@pytest.mark.browser
def test_timelinejs3_renders_the_example_timeline(
    example_site: Path, timelinejs: Path, tmp_path: Path, browser_context: object
) -> None:
    from playwright.sync_api import BrowserContext

    assert isinstance(browser_context, BrowserContext)
    data = json.loads((example_site / "timeline.json").read_bytes())
    headlines = [html.unescape(e["text"]["headline"]) for e in data["events"]]
    assert len(headlines) == len(list((REPO / "content" / "events").glob("*.md")))
    www = tmp_path / "www"
    www.mkdir()
    (www / "tl").symlink_to(timelinejs)
    (www / "site").symlink_to(example_site)
    (www / "index.html").write_text(HARNESS, "utf-8")
    page = browser_context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        with serve_folder(www) as url:
            outside: list[str] = []
            page.on("request", lambda r: None if r.url.startswith(url) else outside.append(r.url))
            page.goto(url + "index.html")
            page.wait_for_function(
                f"document.querySelectorAll('.tl-timemarker').length >= {len(headlines)}",
                timeout=20_000,
            )
            shown = page.eval_on_selector_all(
                ".tl-timemarker .tl-headline", "els => els.map(e => e.textContent.trim())"
            )
            slides = page.eval_on_selector_all(
                ".tl-slide-content .tl-headline", "els => els.map(e => e.textContent.trim())"
            )
    finally:
        page.close()
    assert sorted(shown) == sorted(headlines)
    assert set(headlines) <= set(slides)
    assert errors == [], (errors, outside)
    assert outside == []
