"""The dev server over real HTTP on 127.0.0.1, with the real watcher and real file edits."""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from generator import markup
from generator.config import parse_config
from generator.server import Preview, inject, is_loopback, request_path
from tests.conftest import bench_script, event_file

Site = Callable[[dict[str, str | bytes]], Path]
WAIT = 15.0  # seconds: generous bound for a rebuild on a loaded machine
EVENT = "content/events/visit.md"


@pytest.fixture
def preview(site: Site) -> Iterator[Preview]:
    root = site(
        {
            EVENT: event_file("Lavrov visits Tehran", "2023-10-23", actors="[Lavrov]"),
            "content/events/talks.md": event_file("Talks in Beijing", "2023-10-18"),
            "content/actors/lavrov.md": "---\nname: Lavrov\n---\nForeign minister.\n",
        }
    ).absolute()
    os.chdir(root)  # where `timeline serve` runs; tmp_path is removed after the test
    config, problems = parse_config((root / "timeline.toml").read_text("utf-8"))
    assert problems == []
    args = argparse.Namespace(
        host="127.0.0.1",
        port=0,
        drafts=False,
        quiet=True,
        config="timeline.toml",
        output=None,
        base_url=None,
    )
    server = Preview(root, config, args)
    server.start()
    yield server
    server.stop()


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def getheader(self, name: str) -> str | None:
        return self.headers.get(name.lower())


def get(preview: Preview, target: str, host: str | None = None) -> Reply:
    """A request sent exactly as written (no client-side normalisation of the path)."""
    conn = http.client.HTTPConnection("127.0.0.1", preview.port, timeout=WAIT)
    try:
        conn.putrequest("GET", target, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", host if host is not None else f"127.0.0.1:{preview.port}")
        conn.endheaders()
        response = conn.getresponse()
        headers = {k.lower(): v for k, v in response.getheaders()}
        return Reply(response.status, headers, response.read())
    finally:
        conn.close()


def page(preview: Preview, target: str) -> str:
    reply = get(preview, target)
    assert reply.status == 200, target
    return reply.body.decode("utf-8")


def save(root: Path, name: str, text: str) -> None:
    (root / name).write_text(text, "utf-8")


def wait_for_build(preview: Preview, epoch: int) -> int:
    newer = preview.wait_newer(epoch, WAIT)
    assert newer is not None, "no rebuild"
    return newer


def wait_until_shown(preview: Preview, target: str, text: str) -> str:
    """Wait (on the server's build condition, not a clock) until a page shows text."""
    deadline = time.monotonic() + WAIT
    while True:
        epoch = preview.snapshot.epoch
        reply = get(preview, target)
        html = reply.body.decode("utf-8")
        if reply.status == 200 and text in html:
            return html
        assert time.monotonic() < deadline, f"{text!r} never appeared in {target}"
        preview.wait_newer(epoch, deadline - time.monotonic())


def test_the_site_is_served_with_the_reload_script(preview: Preview) -> None:
    html = page(preview, "/events/visit/")
    assert "<h1>Lavrov visits Tehran</h1>" in html
    script_tag = r'<script src="/__timeline__/live.js" data-epoch="\d+"></script>\n</body>'
    assert re.search(script_tag, html)
    assert not (preview.root / "output").exists()  # the preview never writes the output
    script = get(preview, "/__timeline__/live.js")
    assert script.status == 200
    assert script.getheader("Content-Type") == "text/javascript; charset=utf-8"


def test_editing_a_title_changes_the_served_page(preview: Preview) -> None:
    epoch = preview.snapshot.epoch
    save(preview.root, EVENT, event_file("Lavrov arrives in Tehran", "2023-10-23"))
    wait_for_build(preview, epoch)
    assert "<h1>Lavrov arrives in Tehran</h1>" in page(preview, "/events/visit/")
    assert "Lavrov arrives in Tehran" in page(preview, "/")


def test_the_exports_made_on_request_follow_each_edit(preview: Preview) -> None:
    """timeline.json and events.ics are made when asked for, from the latest build."""
    assert "Lavrov visits Tehran" in page(preview, "/timeline.json")
    epoch = preview.snapshot.epoch
    save(preview.root, EVENT, event_file("Lavrov arrives in Tehran", "2023-10-23"))
    wait_for_build(preview, epoch)
    served = json.loads(page(preview, "/timeline.json"))
    assert "Lavrov arrives in Tehran" in [e["text"]["headline"] for e in served["events"]]
    assert "SUMMARY:Lavrov arrives in Tehran" in page(preview, "/events.ics")


def test_the_reload_event_reaches_a_connected_client(preview: Preview) -> None:
    html = page(preview, "/")
    epoch = re.search(r'data-epoch="(\d+)"', html)
    assert epoch is not None
    conn = http.client.HTTPConnection("127.0.0.1", preview.port, timeout=WAIT)
    conn.request("GET", f"/__timeline__/events?epoch={epoch.group(1)}")
    stream = conn.getresponse()
    assert stream.getheader("Content-Type") == "text/event-stream"
    assert stream.readline() == b"retry: 1000\n"
    assert stream.readline() == b"\n"
    save(preview.root, EVENT, event_file("A new title", "2023-10-23"))
    assert stream.readline() == b"event: reload\n"
    assert stream.readline() == f"data: {preview.snapshot.epoch}\n".encode()
    conn.close()


def test_a_broken_save_keeps_the_last_good_site_and_shows_the_error(preview: Preview) -> None:
    epoch = preview.snapshot.epoch
    broken = "---\ntitle: Lavrov <script>alert(1)</script>\ndate: 03/04/2023\n---\n"
    save(preview.root, EVENT, broken)
    wait_for_build(preview, epoch)
    html = page(preview, "/events/visit/")
    assert "<h1>Lavrov visits Tehran</h1>" in html  # the last good page
    overlay = html[html.index('<div id="timeline-errors"') :]
    assert "content/events/visit.md:3: bad &#x27;date&#x27;" in overlay
    assert "<script>alert" not in html
    assert 'id="timeline-errors"' in page(preview, "/")  # on every page
    save(preview.root, EVENT, event_file("Lavrov is in Tehran", "2023-10-23"))
    html = wait_until_shown(preview, "/events/visit/", "<h1>Lavrov is in Tehran</h1>")
    assert "timeline-errors" not in html


def test_a_body_too_slow_to_render_is_stopped_and_shown_as_an_error(
    preview: Preview, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server renders in a thread of its own, where the time limit reaches too."""
    monkeypatch.setattr(markup, "MARKDOWN_SECONDS", 0.3)
    epoch = preview.snapshot.epoch
    slow = event_file("Lavrov visits Tehran", "2023-10-23") + "<a " * 6000 + "\n"
    save(preview.root, EVENT, slow)
    wait_for_build(preview, epoch)
    html = wait_until_shown(preview, "/events/visit/", 'id="timeline-errors"')
    assert "visit.md:5: rendering the body&#x27;s Markdown took more than 0.3 s" in html
    save(preview.root, EVENT, event_file("Lavrov is in Tehran", "2023-10-23"))
    html = wait_until_shown(preview, "/events/visit/", "<h1>Lavrov is in Tehran</h1>")
    assert "timeline-errors" not in html


def test_a_save_breaking_a_page_rendered_after_the_reload_goes_back_to_the_last_good_site(
    preview: Preview,
) -> None:
    """An edit is shown once its own page renders and its links are whole; the pages
    rendered after it (here the home page, whose card of it fails) can still fail."""
    (preview.root / "templates/partials").mkdir(parents=True)
    card = "{% if 'boom' in event.title %}{{ nothing() }}{% endif %}<p>{{ event.title }}</p>\n"
    save(preview.root, "templates/partials/card.html", card)
    wait_until_shown(preview, "/", "<p>Lavrov visits Tehran</p>")
    with preview.cond:
        preview.cond.wait_for(lambda: not preview.pending and not preview.building, WAIT)
        epoch = preview.snapshot.epoch
    save(preview.root, EVENT, event_file("Lavrov boom", "2023-10-23", actors="[Lavrov]"))
    html = wait_until_shown(preview, "/events/visit/", 'id="timeline-errors"')
    assert "<h1>Lavrov visits Tehran</h1>" in html  # the last good page
    assert "templates/partials/card.html" in html[html.index('id="timeline-errors"') :]
    with preview.cond:
        preview.cond.wait_for(lambda: not preview.pending and not preview.building, WAIT)
    assert preview.snapshot.epoch == epoch + 2  # shown early, then its errors
    save(preview.root, EVENT, event_file("Lavrov is back", "2023-10-23", actors="[Lavrov]"))
    html = wait_until_shown(preview, "/", "<p>Lavrov is back</p>")
    assert "timeline-errors" not in html


def test_a_save_that_changes_nothing_shown_does_not_reload(preview: Preview) -> None:
    with preview.cond:
        epoch, rebuilds = preview.snapshot.epoch, preview.rebuilds
    text = event_file("Lavrov visits Tehran", "2023-10-23", actors="[Lavrov]")
    save(preview.root, EVENT, text + "\n\n")  # blank lines after the body
    with preview.cond:
        assert preview.cond.wait_for(lambda: preview.rebuilds > rebuilds, WAIT)
        assert preview.snapshot.epoch == epoch


def test_an_atomic_rename_save_is_seen(preview: Preview) -> None:
    temporary = preview.root / "content/events/.visit.md.tmp1234"
    temporary.write_text(event_file("Renamed into place", "2023-10-23"), "utf-8")
    os.replace(temporary, preview.root / EVENT)
    html = wait_until_shown(preview, "/events/visit/", "<h1>Renamed into place</h1>")
    assert "timeline-errors" not in html


def test_delete_and_recreate_and_chunked_writes(preview: Preview) -> None:
    (preview.root / EVENT).unlink()
    text = event_file("Written in chunks", "2023-10-23", body="Word " * 2000)
    with open(preview.root / EVENT, "w", encoding="utf-8") as file:
        for start in range(0, len(text), 1000):
            file.write(text[start : start + 1000])
            file.flush()
    html = wait_until_shown(preview, "/events/visit/", "<h1>Written in chunks</h1>")
    assert "timeline-errors" not in html


def test_a_burst_of_saves_gives_at_most_two_rebuilds(preview: Preview) -> None:
    before = preview.rebuilds
    for i in range(50):  # 50 saves in about a second, as an editor's autosave might
        save(preview.root, EVENT, event_file(f"Save {i}", "2023-10-23"))
        time.sleep(0.02)
    wait_until_shown(preview, "/events/visit/", "<h1>Save 49</h1>")
    with preview.cond:  # every change has been taken and built
        preview.cond.wait_for(lambda: not preview.pending and not preview.building, WAIT)
    assert 1 <= preview.rebuilds - before <= 2


def test_a_finished_write_is_built_sooner_than_a_change_that_may_go_on(
    preview: Preview,
) -> None:
    from generator.server import QUIET, SETTLED_QUIET
    from generator.watch import Kind

    path = preview.root / EVENT
    with preview.cond:  # the build loop waits for the lock: nothing is taken meanwhile
        preview.last_build = time.monotonic() - 10  # not a burst
        preview.changed(Kind.CONTENT, path, settled=False)  # modified, or deleted
        assert preview.quiet_time() == QUIET
        preview.changed(Kind.CONTENT, path, settled=True)  # then closed after writing
        assert preview.quiet_time() == SETTLED_QUIET < QUIET
        other = preview.root / "content/events/talks.md"
        preview.changed(Kind.CONTENT, other, settled=False)  # another file still open
        assert preview.quiet_time() == QUIET
        epoch = preview.snapshot.epoch
    # The build the changes lead to leaves the site as it was.
    with preview.cond:
        preview.cond.wait_for(lambda: not preview.pending and not preview.building, WAIT)
    assert preview.snapshot.epoch == epoch and preview.snapshot.errors == ()


def test_a_new_file_and_a_theme_change_are_picked_up(preview: Preview) -> None:
    save(preview.root, "content/events/new.md", event_file("A new event", "2024"))
    wait_until_shown(preview, "/events/new/", "<h1>A new event</h1>")
    (preview.root / "templates").mkdir()
    save(preview.root, "templates/404.html", "<html><body>Custom missing page</body></html>\n")
    deadline = time.monotonic() + WAIT
    while b"Custom missing page" not in get(preview, "/nowhere/").body:
        assert time.monotonic() < deadline
        preview.wait_newer(preview.snapshot.epoch, deadline - time.monotonic())


TRAVERSALS = [
    "/../timeline.toml",
    "/%2e%2e/timeline.toml",
    "/%2E%2E%2Ftimeline.toml",
    "/events/%2e%2e/%2e%2e/timeline.toml",
    "/..%5ctimeline.toml",
    "/%5c..%5ctimeline.toml",
    "/static\\..\\timeline.toml",
    "/index.html%00.css",
    "/%00",
    "/content/events/visit.md",
    "/timeline.toml",
    "/etc/passwd",
    "//etc/passwd",
    "http://127.0.0.1/timeline.toml",
    "/static/outside.txt",
    "/%ff",
]


@pytest.mark.parametrize("target", TRAVERSALS)
def test_requests_outside_the_site_get_404(preview: Preview, target: str) -> None:
    response = get(preview, target)
    assert response.status == 404
    assert response.getheader("Location") is None


@pytest.mark.parametrize(
    "target", ["//evil.example/", "/\\evil.example/", "/%2f%2fevil.example", "/%5cevil.example/"]
)
def test_no_answer_redirects_to_another_host(preview: Preview, target: str) -> None:
    response = get(preview, target)
    assert response.status == 404
    assert response.getheader("Location") is None


def test_a_folder_without_its_slash_redirects_on_the_same_host(preview: Preview) -> None:
    response = get(preview, "/events/visit")
    assert response.status == 301
    assert response.getheader("Location") == "/events/visit/"


def test_a_symlink_out_of_the_site_is_never_served(preview: Preview, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("secret", "utf-8")
    (preview.root / "static").mkdir()
    (preview.root / "static/outside.txt").symlink_to(secret)
    save(preview.root, "static/inside.txt", "inside")
    page_html = wait_until_shown(preview, "/", "timeline-errors")  # the link is refused
    assert "static/outside.txt" in page_html
    response = get(preview, "/outside.txt")
    assert response.status == 404


@pytest.mark.parametrize(
    ("host", "status"),
    [
        ("evil.example", 403),
        ("evil.example:{port}", 403),
        ("127.0.0.1.evil.example", 403),
        ("", 403),
        ("localhost:{port}", 200),
        ("127.0.0.1:{port}", 200),
    ],
)
def test_other_host_names_are_refused(preview: Preview, host: str, status: int) -> None:
    assert get(preview, "/", host=host.format(port=preview.port)).status == status


def test_pure_helpers() -> None:
    assert request_path("/a/b/") == "/a/b/"
    assert request_path("/a%20b") == "/a b"
    assert request_path("/a/./b") is None
    assert inject(b"<p>x</p>", _snapshot()).startswith(b"<p>x</p><script")
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.2")


def _snapshot() -> object:
    from generator.server import Snapshot

    return Snapshot({}, (), 3)


def test_ctrl_c_stops_the_server_cleanly(site: Site) -> None:
    root = site({EVENT: event_file("Visit", "2023-10-23")})
    process = subprocess.Popen(
        [sys.executable, "-m", "generator", "serve", "--port", "0"],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=bench_script("serve_load").interruptible,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        while "Serving" not in line:
            assert line, "the server exited before serving"
            line = process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert match is not None
        conn = http.client.HTTPConnection("127.0.0.1", int(match.group(1)), timeout=WAIT)
        conn.request("GET", "/events/visit/")
        assert conn.getresponse().status == 200
        conn.close()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=WAIT)
    finally:
        process.kill()
    assert process.returncode == 0
    assert "Traceback" not in err
    assert "Stopped." in out


@pytest.mark.browser
def test_an_open_page_shows_a_save_without_a_manual_reload(
    preview: Preview, browser_context: Any
) -> None:
    from playwright.sync_api import expect

    tab = browser_context.new_page()
    problems: list[str] = []
    tab.on("console", lambda m: m.type in ("error", "warning") and problems.append(m.text))
    tab.on("pageerror", lambda e: problems.append(str(e)))
    try:
        tab.goto(preview.url + "events/visit/")
        expect(tab.locator("h1")).to_have_text("Lavrov visits Tehran")
        save(preview.root, EVENT, event_file("Seen in the browser", "2023-10-23"))
        expect(tab.locator("h1")).to_have_text("Seen in the browser", timeout=WAIT * 1000)
        save(preview.root, EVENT, "---\ntitle: [unclosed\n---\n")
        expect(tab.locator("#timeline-errors")).to_contain_text(
            "content/events/visit.md:3: invalid YAML", timeout=WAIT * 1000
        )
        expect(tab.locator("h1")).to_have_text("Seen in the browser")  # the last good page
        save(preview.root, EVENT, event_file("Fixed", "2023-10-23"))
        expect(tab.locator("h1")).to_have_text("Fixed", timeout=WAIT * 1000)
        expect(tab.locator("#timeline-errors")).to_have_count(0)
    finally:
        tab.close()
    assert problems == []
