"""``timeline import``: turn a TimelineJS3 JSON file or a TimelineJS Google Sheets CSV
export into event (and actor) Markdown files.

Reading is pure: ``read_slides`` turns the file's bytes into Slides with diagnostics, and
``plan_files`` turns Slides into {path inside the content folder: text}. Only
``import_file`` touches the disk, and it writes nothing at all when any file it would
write already exists (unless forced) or any slide has an error.

Mapping: headline -> title, text (HTML, kept as it is: Markdown passes HTML through and
the build sanitises it) -> body, its plain text -> summary, dates at the precision given
(negative years are BC, as TimelineJS shows them), end date -> end, media and background
-> ``media:`` and ``background:`` front matter, display date -> ``display_date:``, group
-> an actor (with an actor file) or a tag, unique_id -> slug.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.dates import DateError, PartialDate, Precision, make_date
from generator.diagnostics import Diagnostic, error, has_errors, warning
from generator.exports import DATE_FIELDS, FIELD_PRECISIONS, MEDIA_KEYS
from generator.markup import shorten
from generator.slugs import is_slug, slugify

GROUPINGS = ("actors", "tags")
_TAGS = re.compile(r"<[^>]*>")
_TIME = re.compile(
    r"(\d{1,2})(?::(\d{2}))?(?::(\d{2}))?(?:[.,]\d+)?\s*([ap])?\.?\s*(?:m\.?)?", re.IGNORECASE
)


@dataclass(frozen=True)
class Slide:
    """One TimelineJS event, read and checked. ``line`` is where it starts in the file."""

    line: int
    title: str
    date: PartialDate
    end: PartialDate | None = None
    text: str = ""
    group: str = ""
    display_date: str = ""
    unique_id: str = ""
    media: Mapping[str, str] = field(default_factory=dict)
    background: Mapping[str, str] = field(default_factory=dict)


# --- reading ----------------------------------------------------------------------------


def read_slides(data: bytes, name: str) -> tuple[list[Slide], list[Diagnostic]]:
    """Slides of a TimelineJS3 JSON file or a Google Sheets CSV export (by content: JSON
    starts with '{')."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return [], [
            error(
                name,
                data.count(b"\n", 0, exc.start) + 1,
                "the file is not UTF-8 text; export it again as UTF-8",
            )
        ]
    if text.lstrip().startswith("{"):
        return _read_json(text, name)
    return _read_csv(text, name)


def _read_json(text: str, name: str) -> tuple[list[Slide], list[Diagnostic]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return [], [error(name, exc.lineno, f"invalid JSON: {exc.msg}")]
    if not isinstance(data, dict) or not isinstance(data.get("events"), list):
        return [], [error(name, 1, "not a TimelineJS3 file: it needs an 'events' list")]
    problems: list[Diagnostic] = []
    if data.get("title"):
        problems.append(
            warning(
                name,
                1,
                "the title slide is not imported; put its headline "
                "and text in timeline.toml's title and description",
            )
        )
    if data.get("eras"):
        problems.append(
            warning(name, 1, f"{len(data['eras'])} eras are not imported; timeline has no eras")
        )
    lines = _event_lines(text, len(data["events"]))
    slides = []
    for number, item in enumerate(data["events"], 1):
        slide, found = _json_slide(item, name, lines[number - 1], number)
        problems += found
        if slide is not None:
            slides.append(slide)
    return slides, problems


def _event_lines(text: str, count: int) -> list[int]:
    """The line of each event's "start_date", when they can be told apart, else 0."""
    lines = [text.count("\n", 0, m.start()) + 1 for m in re.finditer(r'"start_date"', text)]
    return lines if len(lines) == count else [0] * count  # eras have dates too: unsure


def _json_slide(
    item: Any, name: str, line: int, number: int
) -> tuple[Slide | None, list[Diagnostic]]:
    if not isinstance(item, dict):
        return None, [error(name, line, f"event {number} is not a JSON object")]
    text = _mapping(item.get("text"))
    return _slide(
        name,
        line,
        f"event {number}: ",
        start=_mapping(item.get("start_date")),
        end=_mapping(item.get("end_date")) or None,
        headline=text.get("headline", ""),
        body=text.get("text", ""),
        group=_string(item.get("group")),
        display_date=_string(item.get("display_date")),
        unique_id=_string(item.get("unique_id")),
        media=_mapping(item.get("media")),
        background=_mapping(item.get("background")),
    )


def _read_csv(text: str, name: str) -> tuple[list[Slide], list[Diagnostic]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not reader.fieldnames or "Year" not in reader.fieldnames:
        return [], [
            error(
                name,
                1,
                "not a TimelineJS sheet: the first row must name the "
                "columns, with at least Year and Headline",
            )
        ]
    problems: list[Diagnostic] = []
    slides = []
    line = reader.line_num + 1
    for row in reader:
        cells = {k.strip(): (v or "").strip() for k, v in row.items() if isinstance(k, str)}
        kind = cells.get("Type", "").lower()
        if kind in ("title", "era"):
            problems.append(warning(name, line, f"the {kind} row is not imported"))
        elif any(cells.values()):
            slide, found = _csv_slide(cells, name, line)
            problems += found
            if slide is not None:
                slides.append(slide)
        line = reader.line_num + 1
    return slides, problems


def _csv_slide(
    cells: dict[str, str], name: str, line: int
) -> tuple[Slide | None, list[Diagnostic]]:
    def date(prefix: str) -> dict[str, str]:
        found = {k: cells.get(f"{prefix}{k.title()}", "") for k in ("year", "month", "day")}
        found |= _split_time(cells.get(f"{prefix}Time", ""))
        return found

    media = {
        "url": cells.get("Media", ""),
        "caption": cells.get("Media Caption", ""),
        "credit": cells.get("Media Credit", ""),
        "thumbnail": cells.get("Media Thumbnail", ""),
        "alt": cells.get("Alt Text", ""),
    }
    background = cells.get("Background", "")
    return _slide(
        name,
        line,
        "",
        start=date(""),
        end=date("End ") if cells.get("End Year") else None,
        headline=cells.get("Headline", ""),
        body=cells.get("Text", ""),
        group=cells.get("Group") or cells.get("Tag", ""),
        display_date=cells.get("Display Date", ""),
        unique_id="",
        media=media,
        background={"url" if re.match(r"(https?:)?//", background) else "color": background},
    )


def _split_time(text: str) -> dict[str, str]:
    """ "14:30", "2:30 PM", "9 am", "14:30:05" -> hour, minute, second."""
    match = _TIME.fullmatch(text.strip())
    if not text.strip():
        return {}
    if not match:
        return {"hour": text}  # reported as a bad hour by _date
    hour, minute, second, half = match.groups()
    value = int(hour)
    if half:
        value = value % 12 + (12 if half.lower() == "p" else 0)
    found = {"hour": str(value), "minute": minute or "0"}
    if second:
        found["second"] = second
    return found


def _slide(
    name: str,
    line: int,
    where: str,
    *,
    start: Mapping[str, Any],
    end: Mapping[str, Any] | None,
    headline: str,
    body: str,
    group: str,
    display_date: str,
    unique_id: str,
    media: Mapping[str, Any],
    background: Mapping[str, Any],
) -> tuple[Slide | None, list[Diagnostic]]:
    problems: list[Diagnostic] = []
    try:
        date = _date(start)
    except DateError as exc:
        return None, [error(name, line, f"{where}bad start date: {exc}")]
    end_date = None
    if end is not None:
        try:
            end_date = _date(end)
        except DateError as exc:
            return None, [error(name, line, f"{where}bad end date: {exc}")]
        if end_date.stop() <= date.start():
            problems.append(
                warning(
                    name,
                    line,
                    f"{where}the end ({end_date.display()}) is before the "
                    f"start ({date.display()}); the end is left out",
                )
            )
            end_date = None
    title = " ".join(_plain(_string(headline)).split())
    if not title:
        title = shorten(_plain(_string(body)), 60) or f"Event of {date.display()}"
        problems.append(
            warning(name, line, f"{where}an event has no headline; titled it '{title}'")
        )
    slide = Slide(
        line=line,
        title=title,
        date=date,
        end=end_date,
        text=_string(body).strip(),
        group=" ".join(_plain(group).split()),
        display_date=_plain(display_date).strip(),
        unique_id=unique_id.strip(),
        media=_kept(media, MEDIA_KEYS),
        background=_kept(background, ("url", "color", "alt")),
    )
    return slide, problems


def _date(fields: Mapping[str, Any]) -> PartialDate:
    """A TimelineJS date object at the precision of its last field given. Years are kept as
    written: TimelineJS shows year -44 as 44 BCE, and has no year 0 either."""
    values = [re.sub(r"[\s,]+", "", _string(fields.get(k))) for k in DATE_FIELDS]
    if not values[0]:
        raise DateError("it has no year")
    numbers: list[int] = []
    precision = Precision.YEAR
    for key, value, level in zip(DATE_FIELDS, values, FIELD_PRECISIONS, strict=True):
        if not value:
            break
        if not re.fullmatch(r"-?\d+", value):
            raise DateError(f"{key} '{value}' is not a whole number")
        numbers.append(int(value))
        precision = level
    if len(numbers) == 4:  # an hour alone means that hour, on the minute
        numbers.append(0)
    return make_date(*numbers, precision=precision)


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _string(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return ""
    return str(value) if isinstance(value, str | int | float) else ""


def _kept(values: Mapping[str, Any], keys: tuple[str, ...]) -> dict[str, str]:
    return {
        k: " ".join(_string(values.get(k)).split()) for k in keys if _string(values.get(k)).strip()
    }


def _plain(text: str) -> str:
    return html.unescape(_TAGS.sub(" ", text))


# --- planning ---------------------------------------------------------------------------


def plan_files(slides: list[Slide], groups: str = "actors") -> dict[str, str]:
    """{path inside the content folder: file text} for every slide (events/) and, when
    groups become actors, every group (actors/)."""
    files: dict[str, str] = {}
    slugs: set[str] = set()
    for slide in slides:
        stem = _unique(f"{_date_prefix(slide.date)}-{slugify(slide.title)}", files, "events")
        files[f"events/{stem}.md"] = event_text(slide, groups, _slug(slide, slugs))
        if groups == "actors" and slide.group:
            files.setdefault(f"actors/{slugify(slide.group)}.md", actor_text(slide.group))
    return files


def _date_prefix(date: PartialDate) -> str:
    """The day as ISO text, "bc-0044-03-15" for BC so that 44 BC and AD 44 never share a
    name; no time of day, since ':' is not allowed in file names everywhere."""
    iso = date.iso().partition("T")[0]
    return "bc" + iso if iso.startswith("-") else iso


def _unique(stem: str, files: Mapping[str, str], folder: str) -> str:
    candidate, n = stem, 1
    while f"{folder}/{candidate}.md" in files:
        n += 1
        candidate = f"{stem}-{n}"
    return candidate


def _slug(slide: Slide, taken: set[str]) -> str:
    if not slide.unique_id:
        return ""
    slug = slide.unique_id if is_slug(slide.unique_id) else slugify(slide.unique_id)
    if slug in taken:
        return ""  # a repeated unique_id: the file name gives this one its slug
    taken.add(slug)
    return slug


def event_text(slide: Slide, groups: str, slug: str = "") -> str:
    lines = [f"title: {_quote(slide.title)}", f"date: {_quote(slide.date.iso())}"]
    if slide.end is not None:
        lines.append(f"end: {_quote(slide.end.iso())}")
    if slide.group:
        lines.append(f"{groups}: [{_quote(slide.group)}]")
    summary = shorten(_plain(slide.text))
    if summary:
        lines.append(f"summary: {_quote(summary)}")
    if slide.display_date:
        lines.append(f"display_date: {_quote(slide.display_date)}")
    for key, values in (("media", slide.media), ("background", slide.background)):
        if values:
            lines.append(f"{key}:")
            lines += [f"  {k}: {_quote(v)}" for k, v in values.items()]
    if slug:
        lines.append(f"slug: {slug}")
    body = slide.text + "\n" if slide.text else ""
    return "---\n" + "\n".join(lines) + "\n---\n" + body


def actor_text(name: str) -> str:
    return f"---\nname: {_quote(name)}\nkind: group\n---\n"


def _quote(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


# --- writing ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    written: tuple[Path, ...]
    kept: tuple[Path, ...]  # actor files that already existed and were left as they were
    problems: tuple[Diagnostic, ...]


def import_file(
    source: Path, content: Path, force: bool = False, groups: str = "actors"
) -> ImportResult:
    """Read ``source`` and write its events under ``content``: all of them, or nothing."""
    name = source.name
    try:
        data = source.read_bytes()
    except OSError as exc:
        return ImportResult((), (), (error(name, 0, f"cannot read: {exc.strerror}"),))
    slides, problems = read_slides(data, name)
    if not slides and not has_errors(problems):
        problems.append(error(name, 0, "the file holds no events"))
    if has_errors(problems):
        return ImportResult((), (), tuple(problems))
    files = plan_files(slides, groups)
    folder = content.resolve()
    targets = {rel: folder / rel for rel in files}
    kept = [p for rel, p in targets.items() if rel.startswith("actors/") and p.exists()]
    clashes = [p for rel, p in targets.items() if rel.startswith("events/") and p.exists()]
    outside = [p for p in targets.values() if not p.resolve().is_relative_to(folder)]
    problems += [error(str(p), 0, "refusing to write outside the content folder") for p in outside]
    if clashes and not force:
        problems += [
            error(str(p), 0, "already exists; pass --force to overwrite it") for p in clashes
        ]
    if has_errors(problems):
        return ImportResult((), (), tuple(problems))
    written = []
    for rel, path in targets.items():
        if path in kept:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(files[rel], "utf-8")
        written.append(path)
    return ImportResult(tuple(written), tuple(kept), tuple(problems))
