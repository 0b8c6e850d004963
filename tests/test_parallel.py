"""Building on several processes gives exactly what one process gives."""

from __future__ import annotations

from pathlib import Path

from generator.build import build
from generator.cache import Cache
from generator.config import Config
from generator.parallel import MIN_ITEMS
from tests.helpers import event, sources

E = "content/events/"


def corpus(n: int) -> dict[str, str]:
    files = {
        f"{E}e{i:04d}.md": event(
            f"Event {i}",
            f"{1990 + i % 30}-{1 + i % 12:02d}",
            actors=f"[A{i % 17}, B{i % 5}]",
            tags=f"[t{i % 7}]",
        )
        + f"\nSee [the next one](e{i + 1:04d}.md).\n"
        for i in range(n)
    }
    files[f"{E}bad.md"] = "---\ntitle: Bad\ndate: 2023-02-30\n---\n"
    return files


def test_workers_change_nothing_but_speed() -> None:
    files = corpus(MIN_ITEMS + 100)  # the last event links to a file that does not exist
    one = build(Config(), sources(files), workers=1)
    two = build(Config(), sources(files), workers=2)
    assert len(one.pages) > MIN_ITEMS
    assert list(one.pages) == list(two.pages)
    assert dict(one.pages) == dict(two.pages)
    assert one.diagnostics == two.diagnostics
    errors = [d.format() for d in one.diagnostics if d.severity.value == "error"]
    assert errors == [
        "content/events/bad.md:3: bad 'date': February 2023 has no day 30 (it has 28)",
        "content/events/e0499.md:9: link to 'e0500.md' points to no event or actor file; "
        "check the file name",
    ]


def test_the_calendar_made_on_workers_and_read_from_the_cache_is_the_same(tmp_path: Path) -> None:
    n = MIN_ITEMS + 100
    files = {
        f"{E}e{i:04d}.md": event(f"Event {i}", f"{1990 + i % 30}-{1 + i % 12:02d}-{1 + i % 28:02d}")
        for i in range(n)
    }
    alone = build(Config(), sources(files), workers=1).pages["events.ics"]
    assert alone.count(b"BEGIN:VEVENT") == n
    cache = Cache(tmp_path / "cache")
    for _ in range(2):  # made on two processes, then read from the cache
        assert build(Config(), sources(files), cache=cache, workers=2).pages["events.ics"] == alone
