"""Where a build's pages go, and writing them to the output folder, atomically and only
into a folder the build owns.

The site is written into a staging folder beside the output folder, then swapped in, so a
failed or interrupted build leaves the previous output exactly as it was. A manifest
inside the output lists what the build wrote; a folder holding anything else is refused.

The build hands each page to a ``PageSink`` in the process that made it: ``MemorySink``
keeps the bytes (tests, the dev server, ``timeline check``); ``Staging`` writes them
straight into the staging folder, so no process holds the whole site (``timeline build``).
"""

from __future__ import annotations

import filecmp
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path, PurePosixPath
from types import MappingProxyType, TracebackType
from typing import Protocol

from generator import messages as M
from generator.diagnostics import Diagnostic
from generator.linkcheck import LinkCheck, Places

MANIFEST = ".timeline-manifest"


class OutputError(Exception):
    """The output folder cannot be used; the message says why and what to do."""


def check_output_folder(output: Path, root: Path, protected: Mapping[str, Path]) -> None:
    """Refuse folders whose replacement would destroy sources or someone else's files.

    ``protected`` names folders of the site (content, templates, themes...) by setting."""
    out = output.resolve()
    site = root.resolve()
    if out == site or out in site.parents:
        raise OutputError(M.OUTPUT_IS_SITE(output=output))
    for name, folder in protected.items():
        real = folder.resolve()
        if out == real or out in real.parents or real in out.parents:
            raise OutputError(M.OUTPUT_OVERLAPS(output=output, name=name, folder=folder))
    if out.exists() and not out.is_dir():
        raise OutputError(M.OUTPUT_NOT_FOLDER(output=output))
    if not out.is_dir() or not any(out.iterdir()):
        return
    manifest = out / MANIFEST
    if not manifest.is_file():
        raise OutputError(M.OUTPUT_NOT_OURS(output=output))
    owned = set(manifest.read_text("utf-8").splitlines()) | {MANIFEST}
    foreign = sorted(
        p.relative_to(out).as_posix()
        for p in out.rglob("*")
        if not p.is_dir() and p.relative_to(out).as_posix() not in owned
    )
    if foreign:
        shown = ", ".join(foreign[:5]) + (
            f" and {len(foreign) - 5} more" if len(foreign) > 5 else ""
        )
        raise OutputError(M.OUTPUT_FOREIGN(output=output, files=shown))


class PageSink(Protocol):
    def put(self, path: str, data: bytes) -> bytes | None:
        """Take one file; may run in a worker process. Returns what the parent keeps of
        it."""

    def put_parts(self, path: str, parts: Iterable[bytes]) -> bytes | None:
        """Take one file made part by part, as ``put`` does."""

    def pages(self, kept: Mapping[str, bytes | None]) -> Mapping[str, bytes]:
        """The build's files, from what the parent kept of each."""


class MemorySink:
    """Every file's bytes kept in memory."""

    def put(self, path: str, data: bytes) -> bytes:
        return data

    def put_parts(self, path: str, parts: Iterable[bytes]) -> bytes:
        return b"".join(parts)

    def pages(self, kept: Mapping[str, bytes | None]) -> Mapping[str, bytes]:
        return MappingProxyType({path: data for path, data in kept.items() if data is not None})


Batch = tuple[dict[str, bytes | None], Places]


class BuiltPages:
    """The files of one build as they are made, in order: each goes to the sink and has
    its links noted. A worker fills a ``fresh()`` copy and sends its ``batch()`` back to
    the parent's ``merge()``."""

    def __init__(self, sink: PageSink, links: LinkCheck) -> None:
        self.sink = sink
        self.links = links
        self.kept: dict[str, bytes | None] = {}

    def __contains__(self, path: str) -> bool:
        return path in self.kept

    def add(self, path: str, data: bytes) -> None:
        self.kept[path] = self.sink.put(path, data)
        self.links.add(path, data)

    def add_parts(self, path: str, parts: Iterable[bytes]) -> None:
        """A file made part by part (an export), which a sink may write as the parts come
        instead of joining them; its links are not noted, since only HTML has any."""
        self.kept[path] = self.sink.put_parts(path, parts)

    def fresh(self) -> BuiltPages:
        return BuiltPages(self.sink, self.links.fresh())

    def batch(self) -> Batch:
        return self.kept, self.links.places

    def merge(self, batch: Batch) -> None:
        kept, places = batch
        self.kept |= kept
        self.links.merge(places)

    def broken_links(self, origins: Mapping[str, str]) -> list[Diagnostic]:
        return self.links.broken(self.kept, origins)

    def result(self) -> Mapping[str, bytes]:
        return self.sink.pages(self.kept)


class Staging:
    """A new folder beside ``output`` that files are written into, from any process, and
    that ``commit`` swaps in for ``output``. As a context manager it is removed on leaving
    unless it was swapped in, so a failed build writes nothing."""

    def __init__(self, output: Path) -> None:
        self.output = output.resolve()
        self.output.parent.mkdir(parents=True, exist_ok=True)
        self.folder = Path(
            tempfile.mkdtemp(prefix=f".{self.output.name}.new-", dir=self.output.parent)
        )
        self.folder.chmod(0o755)  # mkdtemp makes it private; a web server must read the site
        self.committed = False
        self._folders: set[Path] = {self.folder}  # made already, by this process

    def put(self, path: str, data: bytes) -> None:
        """Write one file. A file whose bytes did not change is hard-linked from the old
        output rather than written again, so it keeps its modification time (and
        rsync-style deploys skip it)."""
        target = self._new_file(path)
        if not _link_if_same(self.output / path, target, data):
            target.write_bytes(data)

    def put_parts(self, path: str, parts: Iterable[bytes]) -> None:
        """Write one file as its parts come, so it is never whole in memory; then, like
        ``put``, keep the old output's file instead when it holds the same bytes."""
        target = self._new_file(path)
        with target.open("wb") as file:
            for part in parts:
                file.write(part)
        _link_if_same_file(self.output / path, target)

    def _new_file(self, path: str) -> Path:
        """Where ``path`` goes in the staging folder, its folder made and no file there."""
        if not _stays_inside(path):
            raise OutputError(M.OUTPUT_ESCAPE(path=path))
        target = self.folder / path
        if target.parent not in self._folders:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._folders.update(target.parents)
        # A path put twice (an export over a page) gets a new file: writing into the old
        # one could write through a hard link into the old output.
        target.unlink(missing_ok=True)
        return target

    def pages(self, kept: Mapping[str, bytes | None]) -> StagedPages:
        return StagedPages(self, list(kept))

    def commit(self, finish: Callable[[Path], None] | None = None) -> None:
        """Add what ``finish`` adds (such as a search index) and the manifest, then swap
        the folder in for the output."""
        try:
            if finish is not None:
                finish(self.folder)
            _write_manifest(self.folder)
            _swap(self.folder, self.output)
        except BaseException:
            self.discard()
            raise
        self.committed = True

    def discard(self) -> None:
        if not self.committed:
            shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> Staging:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.discard()


class StagedPages(Mapping[str, bytes]):
    """The files a build wrote into ``staging``: their paths in memory, their bytes read
    back from disk when asked for."""

    def __init__(self, staging: Staging, paths: list[str]) -> None:
        self.staging = staging
        self.paths = dict.fromkeys(paths)

    def __getitem__(self, path: str) -> bytes:
        if path not in self.paths:
            raise KeyError(path)
        folder = self.staging.output if self.staging.committed else self.staging.folder
        return (folder / path).read_bytes()

    def __iter__(self) -> Iterator[str]:
        return iter(self.paths)

    def __len__(self) -> int:
        return len(self.paths)


def write_site(
    output: Path,
    pages: Mapping[str, bytes],
    finish: Callable[[Path], None] | None = None,
) -> None:
    """Replace ``output`` by exactly ``pages`` (and what ``finish`` adds to the staged
    folder, such as a search index); on any failure the old output stays. Pages a build
    already wrote into a staging folder for ``output`` are not written again."""
    if isinstance(pages, StagedPages) and pages.staging.output == output.resolve():
        pages.staging.commit(finish)
        return
    with Staging(output) as staging:
        for path in sorted(pages):
            staging.put(path, pages[path])
        staging.commit(finish)


def _stays_inside(path: str) -> bool:
    parts = PurePosixPath(path).parts
    return (
        bool(parts)
        and not PurePosixPath(path).is_absolute()
        and ".." not in parts
        and "\\" not in path
    )


def _link_if_same(existing: Path, target: Path, data: bytes) -> bool:
    """Hard-link the old output's file when it holds exactly ``data``."""
    try:
        if existing.stat().st_size != len(data) or existing.read_bytes() != data:
            return False
        os.link(existing, target)
    except OSError:  # gone, or a file system without hard links
        return False
    return True


def _link_if_same_file(existing: Path, target: Path) -> None:
    """Replace ``target`` by a hard link to the old output's file when their bytes are
    the same."""
    link = target.with_name(f".{target.name}.link")
    try:
        if not filecmp.cmp(existing, target, shallow=False):
            return
        os.link(existing, link)
        os.replace(link, target)
    except OSError:  # gone, or a file system without hard links: the written file stays
        link.unlink(missing_ok=True)


def _write_manifest(staging: Path) -> None:
    """The list of every file the build wrote, so the next build knows what it owns."""
    names = sorted(p.relative_to(staging).as_posix() for p in staging.rglob("*") if p.is_file())
    (staging / MANIFEST).write_text("".join(f"{n}\n" for n in names), "utf-8")


def _swap(staging: Path, output: Path) -> None:
    if not output.exists():
        os.replace(staging, output)
        return
    retired = Path(tempfile.mkdtemp(prefix=f".{output.name}.old-", dir=output.parent))
    os.replace(output, retired / "site")
    try:
        os.replace(staging, output)
    except BaseException:
        os.replace(retired / "site", output)
        raise
    finally:
        shutil.rmtree(retired, ignore_errors=True)
