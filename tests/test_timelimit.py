"""The time limit on one body's Markdown: slow work is stopped in any thread and in
forked workers, fast work is not touched, and no stray exception is left behind."""

from __future__ import annotations

import re
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from generator import markup, render, timelimit
from generator.build import build
from generator.cache import Cache
from generator.config import Config
from generator.parallel import MIN_ITEMS
from generator.timelimit import POLL, OutOfTime, TimeLimitExceeded, within
from tests.conftest import REPO
from tests.helpers import event, sources

# Python-Markdown and Python 3.11.7's HTML parser take time in the square of the number
# of these in one paragraph: 6,000 take about 1.7 s here, 20,000 about 20 s.
HOSTILE = "<a " * 6000
E = "content/events/"


def spin(seconds: float) -> int:
    """Python code that runs for ``seconds``, as Markdown does."""
    end = time.monotonic() + seconds
    rounds = 0
    while time.monotonic() < end:
        rounds += 1
    return rounds


def test_work_within_the_limit_gives_its_result() -> None:
    assert within(5, lambda: "done") == "done"
    assert within(5, lambda: spin(0.05)) > 0


def test_work_that_fails_fails_as_it_would_and_ends_its_limit() -> None:
    with pytest.raises(ValueError, match="bad"):
        within(5, lambda: int("bad"))
    assert within(5, lambda: "next") == "next"  # its deadline went with it


def test_the_watchdog_leaves_when_no_work_is_under_way() -> None:
    """So that a process forking its workers after some work runs no thread of ours."""
    within(5, lambda: spin(3 * POLL))
    assert timelimit._watchdog is not None
    spin(3 * POLL)
    watchdogs = [t for t in threading.enumerate() if t.name == "timeline time limits"]
    assert timelimit._watchdog is None and watchdogs == []
    assert within(5, lambda: "again") == "again"


def test_work_past_the_limit_is_stopped_soon_after() -> None:
    started = time.monotonic()
    with pytest.raises(TimeLimitExceeded):
        within(0.2, lambda: spin(30))
    assert time.monotonic() - started < 0.2 + 5 * POLL


def test_work_in_another_thread_is_stopped() -> None:
    """The dev server builds in a thread of its own, where no signal can reach."""
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(within(0.2, lambda: spin(30)))
        except TimeLimitExceeded as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(10)
    assert not thread.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], TimeLimitExceeded)


def test_work_that_catches_the_exception_is_stopped_again() -> None:
    caught: list[BaseException] = []

    def stubborn() -> None:
        try:
            spin(30)
        except BaseException as exc:  # as careless library code might
            caught.append(exc)
        spin(30)

    with pytest.raises(TimeLimitExceeded):
        within(0.2, stubborn)
    assert len(caught) == 1 and isinstance(caught[0], OutOfTime)


class SlowToDelete:
    def __del__(self) -> None:
        spin(POLL)  # where the watchdog's exception cannot be passed on


def test_the_exception_lost_in_a_finalizer_is_not_shown_and_comes_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Raised in a finalizer, Python would print "Exception ignored in ..." and go on:
    the user sees nothing, and the watchdog stops the work at its next look."""
    shown: list[object] = []
    monkeypatch.setattr(sys, "unraisablehook", shown.append)

    def deleting() -> None:
        end = time.monotonic() + 30  # then the test fails rather than hang
        while time.monotonic() < end:
            SlowToDelete()  # deleted at once, its finalizer spinning half of the time
            spin(POLL)

    with pytest.raises(TimeLimitExceeded):
        within(0.2, deleting)
    assert shown == []
    other = SimpleNamespace(exc_type=ValueError, exc_value=ValueError("other"))
    sys.unraisablehook(other)  # type: ignore[arg-type]
    assert shown == [other]  # anything else still goes to the hook there was


def test_work_stopped_at_its_end_stops_nothing_after_it() -> None:
    """The exception raised as the work returns (here by the work itself, where the
    watchdog could do it) counts as stopping it, and is not met again later."""

    def ends_as_stopped() -> str:
        timelimit._set_exception(threading.get_ident(), OutOfTime)
        return "done"

    with pytest.raises(TimeLimitExceeded):
        within(5, ends_as_stopped)
    assert spin(0.2) > 0  # a stray OutOfTime would surface in this loop


def test_a_hostile_body_is_stopped_and_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(markup, "MARKDOWN_SECONDS", 0.3)
    started = time.monotonic()
    body = markup.render_markdown(HOSTILE, "content/events/slow.md", 5)
    assert time.monotonic() - started < 0.3 + 5 * POLL
    assert body.too_slow
    html, problems = markup.place_links(body, "content/events/slow.md", 5, {}, False)
    assert html == ""
    assert [p.format() for p in problems] == [
        "content/events/slow.md:5: rendering the body's Markdown took more than 0.3 s and was "
        "stopped; a pattern repeated thousands of times in one paragraph (such as unclosed "
        "'<a ' or '[a](') makes it slow: break the paragraph up, or put the text in a code block"
    ]
    # The next body renders as usual, with a fresh Markdown instance.
    after = markup.render_markdown("*fine*", "content/events/ok.md", 5)
    assert after.html == "<p><em>fine</em></p>"


def test_the_same_body_renders_whole_without_the_limit() -> None:
    """So the test above stops real work, not a body that fails at once."""
    body = markup.render_markdown(HOSTILE, "content/events/slow.md", 5)
    assert not body.too_slow and body.html.count("&lt;a") == 6000


def test_a_build_on_workers_reports_it_and_does_not_cache_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(markup, "MARKDOWN_SECONDS", 0.3)
    files = {f"{E}e{i:04d}.md": event(f"Event {i}", "2001-02") for i in range(MIN_ITEMS)}
    files[f"{E}slow.md"] = event("Slow", "2001-03") + "\n" + HOSTILE + "\n"
    cache = Cache(tmp_path / "cache")
    for _ in range(2):  # the second build renders it again: it was not cached
        started = time.monotonic()
        result = build(Config(), sources(files), cache=cache, workers=2)
        errors = [d.format() for d in result.diagnostics]
        assert len(errors) == 1
        assert errors[0].startswith("content/events/slow.md:5: rendering the body's Markdown")
        assert time.monotonic() - started < 20  # not the minutes of a 2 MB hostile body


SLOW_TEMPLATE = """{% extends "default/event.html" %}
{% block main %}
{% for i in range(100000) %}{% for j in range(100000) %}{{ i }}{% endfor %}{% endfor %}
{% endblock %}
"""


@pytest.mark.parametrize("workers", [1, 2])
def test_a_template_too_slow_is_stopped_at_its_line_and_ends_the_rendering(
    monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    """A site's template that loops for hours on every event page: each process stops
    at its first page past the limit, reports where the template was, and renders no
    more, so the build fails in about the limit, not hours times the pages."""
    monkeypatch.setattr(render, "PAGE_SECONDS", 0.3)
    files = {f"{E}e{i:04d}.md": event(f"Event {i}", "2001-02") for i in range(MIN_ITEMS)}
    started = time.monotonic()
    result = build(Config(), sources(files, {"event.html": SLOW_TEMPLATE}), workers=workers)
    assert time.monotonic() - started < 20
    errors = [d.format() for d in result.diagnostics]
    assert 1 <= len(errors) <= workers
    for text in errors:
        assert re.fullmatch(
            r"templates/event\.html:3: rendering events/e\d{4}/index\.html took more than "
            r"0\.3 s and was stopped here; a loop runs too long: make it shorter \(no more "
            r"pages were rendered\)",
            text,
        ), text


def test_a_card_too_slow_stops_the_cards_made_ahead(monkeypatch: pytest.MonkeyPatch) -> None:
    """On two workers every card is made before the pages (render._cards_ahead), each
    under a limit of its own: the first one past it stops them all, and the list page
    that shows it reports it, so the build still fails in about the page's limit, not in
    the card's limit times the events."""
    monkeypatch.setattr(render, "PAGE_SECONDS", 0.5)
    monkeypatch.setattr(render, "CARD_AHEAD_SECONDS", 0.2)
    card = (REPO / "themes/default/templates/partials/card.html").read_text("utf-8")
    slow = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}\n"
    files = {
        f"{E}e{i:04d}.md": event(f"Event {i}", "2001-02", actors="[A]") for i in range(MIN_ITEMS)
    }
    started = time.monotonic()
    result = build(Config(), sources(files, {"partials/card.html": card + slow}), workers=2)
    assert time.monotonic() - started < 20  # each card in turn: 0.2 s x 400 / 2 = 40 s
    errors = [d.format() for d in result.diagnostics if d.severity.value == "error"]
    assert 1 <= len(errors) <= 2
    for text in errors:
        assert text.startswith("templates/partials/card.html:14: rendering "), text
        assert "took more than 0.5 s and was stopped here" in text
