"""`timeline import`: TimelineJS3 JSON and Google Sheets CSV into Markdown files that our
own reader reads back, and that build into a site with every imported event on it."""

from __future__ import annotations

import html
import json
import os
from pathlib import Path

import pytest

from generator.dates import DateError, Precision, display_range, make_date, parse_date
from generator.entries import read_event
from generator.frontmatter import read_front_matter
from generator.importer import read_slides
from tests.conftest import REPO, MakeSite, run_cli, snapshot

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "import"
TIMELINE = FIXTURES / "timelinejs.json"
SHEET = FIXTURES / "sheet.csv"


def _event(path: Path) -> object:
    from zoneinfo import ZoneInfo

    matter, problems = read_front_matter(path.read_text("utf-8"), path.name)
    assert problems == [] and matter is not None
    event, problems = read_event(matter, path.name, "", ZoneInfo("UTC"))
    assert problems == [], problems
    return event


def _date_error(*fields: int) -> str:
    with pytest.raises(DateError) as caught:
        make_date(*fields, precision=Precision.YEAR)
    return str(caught.value)


def test_the_json_fixture_covers_every_precision_bc_and_ranges() -> None:
    slides, _ = read_slides(TIMELINE.read_bytes(), TIMELINE.name)
    assert len(slides) >= 20
    assert {s.date.precision for s in slides} == set(Precision)
    assert any(s.date.year < 0 for s in slides) and any(s.end for s in slides)


def test_a_timelinejs_file_imports_builds_and_shows_every_event(site: MakeSite) -> None:
    root = site({})
    result = run_cli("import", str(TIMELINE), cwd=root)
    assert result.code == 0, result.err
    events = sorted((root / "content" / "events").glob("*.md"))
    data = json.loads(TIMELINE.read_text("utf-8"))
    assert len(events) == len(data["events"]) == 22
    assert "the title slide is not imported" in result.err and "1 eras" in result.err
    built = run_cli("build", "--base-url", "https://example.org/", cwd=root)
    assert built.code == 0, built.err
    out = root / "output"
    pages = [p.read_text("utf-8") for p in (out / "events").glob("*/index.html")]
    assert len(pages) == 22
    headlines = [e["text"]["headline"] for e in data["events"] if e["text"]["headline"]]
    for headline in headlines:
        escaped = headline.replace("&", "&amp;").replace('"', "&#34;").replace("'", "&#39;")
        assert sum(f"<h1>{escaped}</h1>" in page for page in pages) == 1, headline
    home = (out / "index.html").read_text("utf-8")
    for written in ("-3200", "-0044-03-15", "0079-10", "1844-05-24T09:30", "1969-07-20T20:17:40"):
        assert parse_date(written).display() in home, written
    assert display_range(parse_date("1337"), parse_date("1453")) in home
    # groups became actors with files of their own
    assert (root / "content" / "actors" / "telegraph.md").is_file()
    assert (out / "actors" / "telegraph" / "index.html").is_file()
    # and the export gives the same events back to TimelineJS
    again = json.loads((out / "timeline.json").read_text("utf-8"))
    again_headlines = [html.unescape(e["text"]["headline"]) for e in again["events"]]
    assert sorted(h for h in again_headlines if h in headlines) == sorted(headlines)


def test_imported_files_keep_dates_text_media_and_groups(site: MakeSite) -> None:
    root = site({})
    assert run_cli("import", str(TIMELINE), "--groups", "tags", cwd=root).code == 0
    folder = root / "content" / "events"
    ides = _event(folder / "bc-0044-03-15-caesar-killed-on-the-ides-of-march.md")
    assert ides.date.iso() == "-0044-03-15" and ides.tags == ("Rome",)  # type: ignore[attr-defined]
    assert ides.extra["media"] == {  # type: ignore[attr-defined]
        "url": "https://example.org/images/ides.jpg",
        "caption": "A denarius minted by Brutus",
        "credit": "Example museum",
    }
    moon = _event(folder / "1969-07-20-eagle-lands-on-the-moon.md")
    assert moon.date.iso() == "1969-07-20T20:17:40"  # type: ignore[attr-defined]
    war = _event(folder / "1337-hundred-years-war.md")
    assert (war.date.iso(), war.end.iso()) == ("1337", "1453")  # type: ignore[attr-defined]
    assert "<p>England and France fight" in war.body  # type: ignore[attr-defined]
    uruk = _event(folder / "bc-3200-proto-cuneiform-tablets-in-uruk.md")
    assert uruk.slug == "uruk-tablets"  # type: ignore[attr-defined]
    hammurabi = _event(folder / "bc-1754-laws-of-hammurabi-set-in-stone.md")
    assert hammurabi.extra["display_date"] == "around 1754 BCE"  # type: ignore[attr-defined]
    assert not (root / "content" / "actors").exists()  # tags, not actors


def test_a_google_sheets_csv_imports(site: MakeSite) -> None:
    root = site({})
    result = run_cli("import", str(SHEET), cwd=root)
    assert result.code == 0, result.err
    assert "title row is not imported" in result.err and "era row is not imported" in result.err
    folder = root / "content" / "events"
    assert len(list(folder.glob("*.md"))) == 4
    morse = _event(folder / "1844-05-24-what-hath-god-wrought.md")
    assert morse.date.iso() == "1844-05-24T09:30"  # type: ignore[attr-defined]
    assert "<p>It runs from Washington to Baltimore.</p>" in morse.body  # type: ignore[attr-defined]
    assert morse.actors == ("Telegraph",)  # type: ignore[attr-defined]
    assert morse.extra["media"]["caption"] == "The register tape"  # type: ignore[attr-defined]
    cable = _event(folder / "1858-08-05-transatlantic-cable.md")
    assert cable.end.iso() == "1858-09-01"  # type: ignore[attr-defined]
    assert cable.extra["background"] == {"color": "#112233"}  # type: ignore[attr-defined]
    marathon = _event(folder / "bc-0490-runner-from-marathon.md")
    assert marathon.date.display() == "490 BC"  # type: ignore[attr-defined]
    call = _event(folder / "1876-03-10-first-telephone-call.md")
    assert call.date.iso() == "1876-03-10T14:15"  # type: ignore[attr-defined]
    assert run_cli("build", cwd=root).code == 0


def test_import_refuses_to_overwrite_unless_forced(site: MakeSite) -> None:
    root = site({})
    assert run_cli("import", str(SHEET), cwd=root).code == 0
    path = root / "content" / "events" / "1876-03-10-first-telephone-call.md"
    path.write_text(path.read_text("utf-8") + "An author's edit.\n", "utf-8")
    before = snapshot(root / "content")
    again = run_cli("import", str(SHEET), cwd=root)
    assert again.code == 1
    assert "1876-03-10-first-telephone-call.md: already exists; pass --force" in again.err
    assert "nothing was written" in again.err
    assert snapshot(root / "content") == before
    forced = run_cli("import", str(SHEET), "--force", cwd=root)
    assert forced.code == 0, forced.err
    assert "An author's edit." not in path.read_text("utf-8")


def test_import_with_a_bad_date_writes_nothing(site: MakeSite, tmp_path: Path) -> None:
    root = site({})
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "events": [
                    {"start_date": {"year": "2023"}, "text": {"headline": "Fine"}},
                    {"start_date": {"year": "2023", "month": "13"}, "text": {"headline": "Bad"}},
                    {"start_date": {"year": "0"}, "text": {"headline": "No year zero"}},
                ]
            },
            indent=1,
        ),
        "utf-8",
    )
    result = run_cli("import", str(bad), cwd=root)
    assert result.code == 1
    shown = os.path.relpath(bad, root)
    assert result.err.splitlines()[:2] == [  # the reasons are the dates module's own words
        f"{shown}:12: event 2: bad start date: {_date_error(2023, 13)}",
        f"{shown}:21: event 3: bad start date: {_date_error(0)}",
    ]
    assert not (root / "content" / "events").exists()


def test_import_writes_into_the_content_option_without_a_config(tmp_path: Path) -> None:
    result = run_cli("import", str(SHEET), "--content", "elsewhere", cwd=tmp_path)
    assert result.code == 0, result.err
    assert len(list((tmp_path / "elsewhere" / "events").glob("*.md"))) == 4


def test_the_example_site_round_trips_through_timelinejs(
    example_site: Path, site: MakeSite
) -> None:
    root = site({})
    result = run_cli("import", str(example_site / "timeline.json"), cwd=root)
    assert result.code == 0, result.err
    built = run_cli("build", cwd=root)
    assert built.code == 0, built.err
    ours = json.loads((example_site / "timeline.json").read_text("utf-8"))["events"]
    theirs = json.loads((root / "output" / "timeline.json").read_text("utf-8"))["events"]
    keys = ("unique_id", "start_date", "end_date", "display_date")
    assert [{k: e.get(k) for k in keys} for e in theirs] == [
        {k: e.get(k) for k in keys} for e in ours
    ]
    assert len(list((REPO / "content" / "events").glob("*.md"))) == len(theirs)
