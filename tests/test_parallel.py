"""Building on several processes gives exactly what one process gives."""

from __future__ import annotations

import gc
import os
import time
from pathlib import Path
from typing import Any

import pytest

from generator import render
from generator.build import build
from generator.cache import Cache
from generator.config import Config
from generator.parallel import MIN_ITEMS, Background, collector_frozen
from tests.conftest import REPO
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


CARD = (REPO / "themes/default/templates/partials/card.html").read_text("utf-8")


@pytest.mark.parametrize(
    ("change", "ahead"),
    [
        ("", "all"),
        # Fails for one event only: the list pages that show it report it, at its line.
        ("{% if event.title == 'Event 7' %}{{ event.nothing }}{% endif %}\n", "some"),
        # Uses its heading otherwise than printing it: no card is made ahead.
        ("{% if heading > 3 %}<!-- deep -->{% endif %}\n", "none"),
    ],
)
def test_cards_made_ahead_on_workers_change_nothing(
    change: str, ahead: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With two workers every card is made before the pages (see render._cards_ahead):
    the same pages and the same problems as one process that makes each as it comes."""
    made: list[int] = []  # the cards made ahead, by build
    monkeypatch.setattr(render, "_cards_ahead", _counting(render._cards_ahead, made))
    n = MIN_ITEMS + 20
    files = corpus(n)
    templates = {"partials/card.html": CARD + change}
    one = build(Config(), sources(files, templates), workers=1)
    two = build(Config(), sources(files, templates), workers=2)
    # One process makes none ahead; a card that fails stops them: the pages make the rest.
    assert made[0] == 0
    assert made[1] == n if ahead == "all" else made[1] < n if ahead == "some" else made[1] == 0
    assert dict(one.pages) == dict(two.pages)
    assert one.diagnostics == two.diagnostics
    if "nothing" in change:
        assert any("partials/card.html:" in d.format() for d in two.diagnostics)
        assert "events/e0007/index.html" in two.pages
    else:
        assert "Event 7" in two.pages["actors/a7/index.html"].decode()


def _counting(function: Any, made: list[int]) -> Any:
    """``function`` (_cards_ahead), noting how many cards the renderer then holds."""

    def counted(renderer: Any, *args: Any) -> Any:
        function(renderer, *args)
        made.append(len(renderer.level_free))

    return counted


def test_frozen_blocks_nest_and_a_build_leaves_nothing_frozen() -> None:
    gc.unfreeze()  # what a dev server of an earlier test froze after its builds
    assert gc.get_freeze_count() == 0
    with collector_frozen():
        with collector_frozen():
            assert gc.get_freeze_count() > 0
        assert gc.get_freeze_count() > 0  # the outer block still holds them
    assert gc.get_freeze_count() == 0
    build(Config(), sources(corpus(MIN_ITEMS + 10)), workers=2)
    assert gc.get_freeze_count() == 0 and gc.isenabled()


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


def _write(path: Path, text: str) -> int:
    return path.write_text(text, "utf-8")


def _fail(message: str) -> None:
    raise ValueError(message)


class _Unsendable(Exception):
    def __reduce__(self) -> Any:
        raise TypeError("cannot be pickled")


def _fail_unsendably() -> None:
    raise _Unsendable("kept as text")


def _die() -> None:
    os._exit(3)


@pytest.mark.parametrize("at_once", [False, True])
def test_background_work_is_done_and_its_errors_come_back(tmp_path: Path, at_once: bool) -> None:
    parent = os.getpid()
    done = Background(_write, tmp_path / "done", "yes", at_once=at_once)
    assert done.result() == 3  # the work's value
    assert (tmp_path / "done").read_text("utf-8") == "yes"
    with pytest.raises(ValueError, match=r"^told to fail$"):
        Background(_fail, "told to fail", at_once=at_once).result()
    assert os.getpid() == parent


def test_background_errors_that_cannot_travel_come_back_as_text() -> None:
    with pytest.raises(RuntimeError, match="_Unsendable: kept as text"):
        Background(_fail_unsendably).result()


def test_a_background_process_that_dies_is_an_error() -> None:
    with pytest.raises(RuntimeError, match=r"ended early \(exit code 3\)"):
        Background(_die).result()


def test_background_work_runs_beside_the_caller(tmp_path: Path) -> None:
    """Not at once: the caller goes on while the other process waits for a file."""
    flag, seen = tmp_path / "go", tmp_path / "seen"
    waiting = Background(_wait_then_write, flag, seen)
    flag.write_text("", "utf-8")  # only after Background returned
    waiting.result()
    assert seen.read_text("utf-8") == "seen"


def _wait_then_write(flag: Path, seen: Path) -> None:
    for _ in range(500):
        if flag.exists():
            seen.write_text("seen", "utf-8")
            return
        time.sleep(0.01)
    raise TimeoutError("the caller never went on")
