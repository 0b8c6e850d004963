"""The `timeline` command line. ``main(argv)`` returns the exit code:
0 success, 1 content, template or output problems, 2 usage errors. Anything else that
escapes is a bug in timeline and keeps its traceback."""

from __future__ import annotations

import argparse
import functools
import os
import sys
import time
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from generator import __version__
from generator import messages as M
from generator.cache import CACHE_DIR, Cache, inputs_fingerprint, linked_path
from generator.config import CONFIG_NAME, Config, base_url_ok, parse_config, with_overrides
from generator.diagnostics import Diagnostic, Severity, error, has_errors, warning
from generator.output import OutputError, Staging, check_output_folder, write_site
from generator.parallel import Background, collector_frozen, default_workers
from generator.search import INDEX_FOLDER, SearchError, index_site
from generator.slugs import slugify
from generator.sources import leaves_site, load_sources

# The build's own modules (Jinja, Markdown, iCalendar, dates...) are imported where a
# build or a date is needed: they take about 0.2 s, half of a build with nothing
# changed, which needs none of them.
if TYPE_CHECKING:
    from generator.build import BuildResult

OK, FAILED, USAGE = 0, 1, 2
SPARE_OUTPUT = "spare-output"  # in the cache folder: see output.Staging


class UsageError(Exception):
    pass


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse has printed the usage message
        return int(exc.code or 0)
    try:
        result: int = args.run(args)
        return result
    except UsageError as exc:
        print(f"timeline: {exc}", file=sys.stderr)
        return USAGE
    except KeyboardInterrupt:
        print("timeline: stopped", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="timeline",
        description="Build a static website from a timeline of Markdown event files.",
    )
    parser.add_argument("--version", action="version", version=f"timeline {__version__}")
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")

    def command(name: str, help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help)
        sub.add_argument(
            "--config",
            default=CONFIG_NAME,
            metavar="FILE",
            help="the site's configuration file (default: %(default)s)",
        )
        sub.add_argument("-q", "--quiet", action="store_true", help="print only problems")
        return sub

    sub = command("build", "Build the site into the output folder.")
    sub.add_argument("--output", metavar="DIR", help="write here instead of output_dir")
    sub.add_argument("--drafts", action="store_true", help="include events with draft: true")
    sub.add_argument("--base-url", metavar="URL", help="the URL the site will be served at")
    sub.set_defaults(run=_build)

    sub = command("check", "Validate the content and templates; write nothing.")
    sub.add_argument(
        "--strict",
        action="store_true",
        help="also fail on actors without a file and other loose ends",
    )
    sub.add_argument("--drafts", action="store_true", help="include events with draft: true")
    sub.set_defaults(run=_check)

    sub = command("new", "Create a new event file.")
    sub.add_argument("title", help="the event's title")
    sub.add_argument("--date", required=True, help="when it happened: YYYY, YYYY-MM or YYYY-MM-DD")
    sub.add_argument(
        "--actor",
        action="append",
        default=[],
        metavar="NAME",
        help="an actor of the event (repeat for several)",
    )
    sub.add_argument("--tag", action="append", default=[], metavar="TAG", help="a tag (repeatable)")
    sub.add_argument(
        "--place", action="append", default=[], metavar="PLACE", help="a place (repeatable)"
    )
    sub.set_defaults(run=_new)

    sub = command(
        "import", "Turn a TimelineJS3 JSON file or TimelineJS sheet (CSV) into event files."
    )
    sub.add_argument("file", help="the .json or .csv file to import")
    sub.add_argument(
        "--content",
        metavar="DIR",
        help="the content folder to write into (default: content_dir of timeline.toml)",
    )
    sub.add_argument("--force", action="store_true", help="overwrite event files that exist")
    sub.add_argument(
        "--groups",
        choices=("actors", "tags"),
        default="actors",
        help="what TimelineJS groups become (default: %(default)s)",
    )
    sub.set_defaults(run=_import)

    sub = command("serve", "Build, serve the site and rebuild it on every change.")
    sub.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    sub.add_argument("--port", type=int, default=8000, help="port (default: %(default)s)")
    sub.add_argument("--drafts", action="store_true", help="include events with draft: true")
    sub.set_defaults(run=_serve)
    return parser


def load_config(args: argparse.Namespace) -> tuple[Path, Config, list[Diagnostic]]:
    """The site root, its config with command-line overrides, and the config's problems."""
    path = Path(args.config)
    if not path.is_file():
        raise UsageError(f"no {path} here; run timeline in your site's folder or pass --config")
    # The site is the folder that holds timeline.toml, even when the file is a link: a
    # cloned repository's timeline.toml linked elsewhere must not move the build there.
    root = path.absolute().parent.resolve()
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        return root, Config(), [error(path.name, 0, M.CONFIG_NOT_UTF8())]
    config, problems = parse_config(text, path.name)
    output = getattr(args, "output", None)
    if output:
        output = os.path.relpath(Path(output).resolve(), root)
    base_url = getattr(args, "base_url", None)
    if base_url and not base_url_ok(base_url):
        raise UsageError(f"--base-url: {M.CONFIG_BASE_URL()}")
    return root, with_overrides(config, output_dir=output, base_url=base_url), problems


def run_build(
    args: argparse.Namespace,
) -> tuple[Path, Config, BuildResult | None, list[Diagnostic]]:
    """Build without writing anything (for `check`), on every core."""
    from generator.build import build

    root, config, problems = load_config(args)
    if has_errors(problems):
        return root, config, None, problems
    sources, found = load_sources(root, config)
    result = build(config, sources, args.drafts, workers=default_workers())
    return root, config, result, [*problems, *found, *result.diagnostics]


def _build(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    root, config, problems = load_config(args)
    output = root / config.output_dir
    problems += _output_leaves_site(args, root, config)
    if has_errors(problems):
        return _failed(args, root, problems)
    # The output folder is checked (a walk of every file) in another process while this
    # one reads the sources: after one edit, or none, each is a tenth of the build.
    checking = Background(check_output_folder, output, root, _protected(root, config))
    sources, found = load_sources(root, config)
    output_state, refused = output_checked(checking, config)
    problems += refused  # a bad output folder is refused before the work, not after
    if has_errors(problems):
        return _failed(args, root, problems)
    problems += found
    # A cache folder that is a link (a cloned repository may hold one) is not followed:
    # the build would write its cache and move the old output wherever it leads.
    linked = linked_path(root / CACHE_DIR)
    if linked is not None:
        problems.append(warning(linked.relative_to(root).as_posix(), 0, M.CACHE_LINK()))
    folder = root / CACHE_DIR if linked is None else None
    cache = Cache(folder)
    staging: Staging | None = None
    try:
        inputs = inputs_fingerprint(config, sources, args.drafts)
        if not found and cache.up_to_date(inputs, output_state):
            _say(
                args,
                f"Nothing changed: {_shown(output)} is up to date "
                f"({time.perf_counter() - started:.2f} s)",
            )
            return OK
        from generator.build import build
        from generator.pagecache import PageReuse

        # Pages are kept from the output only as the last build left it.
        reuse = PageReuse.load(cache.pages(output_state))
        # The workers write the pages here as they render them.
        staging = Staging(output, folder / SPARE_OUTPUT if folder else None)
        workers = default_workers()

        def start_index(paths: Collection[str]) -> None:
            # While the parent writes the exports, in a process of its own (one core);
            # the commit waits for it.
            assert staging is not None
            index = functools.partial(index_site, previous=output, files=paths)
            staging.begin_finish(index, paths, INDEX_FOLDER, at_once=workers <= 1)

        # Handed over, not kept here, so that build() can let go of the files' bytes.
        handover = [sources]
        del sources
        result = build(
            config,
            handover.pop(),
            args.drafts,
            cache,
            workers,
            staging,
            reuse,
            rendered=start_index if config.search else None,
        )
        problems += result.diagnostics
        # What the build made lives until the pages are committed: the collector need not
        # walk it again (one pass over it took 1.5 s at 100,000 events).
        with collector_frozen():
            if not has_errors(problems):
                cache.record(inputs, write_site(output, result.pages), reuse.record())
                cache.prune()
    except (OutputError, SearchError) as exc:
        problems.append(error(config.output_dir, 0, str(exc)))
    finally:
        cache.close()
        if staging is not None:
            staging.discard()  # unless write_site swapped it in: a failed build writes nothing
    if has_errors(problems):
        return _failed(args, root, problems)
    report(root, problems)
    assert result.timeline is not None
    t = result.timeline
    elapsed = time.perf_counter() - started
    _say(
        args,
        f"Built {M.plural(len(t.events), 'event')}, {M.plural(len(t.actors), 'actor')}, "
        f"{M.plural(len(t.tags), 'tag')}, {M.plural(len(t.places), 'place')}: "
        f"{M.plural(len(result.pages), 'file')} in {elapsed:.2f} s "
        f"-> {_shown(output)}",
    )
    _export_notes(args, config, result)
    return OK


def _output_leaves_site(args: argparse.Namespace, root: Path, config: Config) -> list[Diagnostic]:
    """``output_dir`` is a path inside the site (config.py checks it), but a symbolic link
    on its way can lead elsewhere: a cloned repository could then have the build make and
    fill folders anywhere. ``--output`` may name any folder: the author chose it."""
    output = root / config.output_dir
    if args.output or not leaves_site(root, output):  # the site itself is refused later
        return []
    return [error(config.output_dir, 0, M.OUTPUT_LINK(target=output.resolve()))]


def output_checked(checking: Background[str], config: Config) -> tuple[str, list[Diagnostic]]:
    """The output folder's fingerprint once its check is over, or the problem found."""
    try:
        return checking.result(), []
    except OutputError as exc:
        return "", [error(config.output_dir, 0, str(exc))]


def _failed(args: argparse.Namespace, root: Path, problems: list[Diagnostic]) -> int:
    report(root, problems)
    _say(args, "Build failed: nothing was written; the previous output is unchanged.")
    return FAILED


def _export_notes(args: argparse.Namespace, config: Config, result: BuildResult) -> None:
    """What the exports left out, and why: not problems, but worth a line of the log
    (stderr, so stdout keeps the one summary line)."""
    assert result.timeline is not None
    notes = []
    if not config.base_url:
        notes.append(
            "Note: no base_url, so feed.xml and sitemap.xml (which need absolute "
            "URLs) were not written; set base_url in timeline.toml or pass --base-url."
        )
    from generator.exports import left_out_of_calendar

    undated = left_out_of_calendar(result.timeline, ZoneInfo(config.timezone))
    if undated:
        shown = ", ".join(e.path for e in undated[:3]) + (" ..." if len(undated) > 3 else "")
        notes.append(
            f"Note: events.ics leaves out {M.plural(len(undated), 'event')} with no day "
            f"(or a year outside AD 1-9999 in UTC): {shown}"
        )
    for note in notes if not args.quiet else []:
        print(note, file=sys.stderr)


def _check(args: argparse.Namespace) -> int:
    root, _, result, problems = run_build(args)
    if args.strict:
        problems = [
            error(d.path, d.line, d.message) if d.severity is not Severity.ERROR else d
            for d in problems
        ]
    report(root, problems)
    failed = has_errors(problems)
    if result is not None and result.timeline is not None and not failed:
        t = result.timeline
        counts = f"{M.plural(len(t.events), 'event')} and {M.plural(len(t.actors), 'actor')}"
        _say(args, f"Checked {counts}: no problems.")
    return FAILED if failed else OK


def _new(args: argparse.Namespace) -> int:
    from generator.dates import DateError, parse_date

    root, config, problems = load_config(args)
    if has_errors(problems):
        report(root, problems)
        return FAILED
    try:
        date = parse_date(args.date, config.date_order)
    except DateError as exc:
        raise UsageError(f"--date: {exc}") from None
    folder = root / config.content_dir / "events"
    path = folder / f"{date.iso().lstrip('-')}-{slugify(args.title)}.md"
    if leaves_site(root, path):  # as the build refuses to read it (sources._walk)
        report(root, [error(_rel(root, path), 0, M.LINK_OUTSIDE())])
        return FAILED
    if path.exists():
        report(root, [error(_rel(root, path), 0, "already exists; choose another title")])
        return FAILED
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(
        event_template(args.title, date.iso(), args.actor, args.tag, args.place), "utf-8"
    )
    _say(args, f"Created {_shown(path)}")
    return OK


def event_template(
    title: str, date: str, actors: list[str], tags: list[str], places: list[str]
) -> str:
    import json  # JSON strings are valid YAML scalars and quote everything safely

    def items(values: list[str]) -> str:
        return "[" + ", ".join(json.dumps(v, ensure_ascii=False) for v in values) + "]"

    return (
        "---\n"
        f"title: {json.dumps(title, ensure_ascii=False)}\n"
        f"date: {date}\n"
        f"actors: {items(actors)}\n"
        f"places: {items(places)}\n"
        f"tags: {items(tags)}\n"
        "sources: []\n"
        "---\n"
        "What happened, in a few sentences.\n"
    )


def _import(args: argparse.Namespace) -> int:
    from generator.importer import import_file

    source = Path(args.file)
    if not source.is_file():
        raise UsageError(f"{source}: no such file")
    if args.content:
        root, content = Path.cwd(), Path(args.content)
    else:
        root, config, problems = load_config(args)
        if has_errors(problems):
            report(root, problems)
            return FAILED
        content = root / config.content_dir
        if leaves_site(root, content):  # --content may name any folder; the config may not
            report(root, [error(config.content_dir, 0, M.LINK_OUTSIDE())])
            return FAILED
    result = import_file(source, content, force=args.force, groups=args.groups)
    report(Path.cwd(), [_at(d, source) for d in result.problems])
    if has_errors(list(result.problems)):
        _say(args, "Import failed: nothing was written.")
        return FAILED
    for path in result.kept:
        _say(args, f"Kept {_shown(path)} (exists)")
    wrote = M.plural(len(result.written), "file")
    _say(args, f"Imported {source.name}: wrote {wrote} into {_shown(content)}")
    return OK


def _at(d: Diagnostic, source: Path) -> Diagnostic:
    """Diagnostics name the imported file by its name; show it where the user put it."""
    path = str(source) if d.path == source.name else d.path
    return Diagnostic(path, d.line, d.message, d.severity)


def _serve(args: argparse.Namespace) -> int:
    from generator.server import serve

    root, config, problems = load_config(args)
    if has_errors(problems):
        report(root, problems)
        return FAILED
    return serve(root, config, args)


def report(root: Path, problems: list[Diagnostic]) -> None:
    """Print problems as ``path:line: message``, paths relative to the current folder."""
    shown = [d for d in problems if d.severity is not Severity.LINT]
    errors = sum(d.severity is Severity.ERROR for d in shown)
    annotate = os.environ.get("GITHUB_ACTIONS") == "true"
    for d in shown:
        here = Diagnostic(_rel(root, root / d.path), d.line, d.message, d.severity)
        print(here.format(), file=sys.stderr)
        if annotate:
            print(github_annotation(here))
    if errors > 1:
        print(f"Found {errors} errors.", file=sys.stderr)


def github_annotation(d: Diagnostic) -> str:
    """A GitHub Actions workflow command, so the problem shows on the pull request's line."""

    def data(text: str) -> str:
        return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")

    def prop(text: str) -> str:
        return data(text).replace(":", "%3A").replace(",", "%2C")

    level = "error" if d.severity is Severity.ERROR else "warning"
    where = f"file={prop(d.path)}" + (f",line={d.line}" if d.line else "")
    return f"::{level} {where}::{data(d.message)}"


def _protected(root: Path, config: Config) -> dict[str, Path]:
    return {
        "content": root / config.content_dir,
        "templates": root / config.templates_dir,
        "static": root / config.static_dir,
        "themes": root / "themes",
        "cache": root / CACHE_DIR,
    }


def _rel(root: Path, path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)


def _shown(path: Path) -> str:
    return _rel(path, path) + ("/" if path.is_dir() else "")


def _say(args: argparse.Namespace, message: str) -> None:
    if not args.quiet:
        failed = message.startswith(("Build failed", "Import failed"))
        print(message, file=sys.stderr if failed else sys.stdout)
