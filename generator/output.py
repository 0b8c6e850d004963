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

import contextlib
import filecmp
import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from pathlib import Path
from types import MappingProxyType, TracebackType
from typing import Protocol

from generator import messages as M
from generator.diagnostics import Diagnostic
from generator.linkcheck import LinkCheck, Origins, Places
from generator.parallel import Background

MANIFEST = ".timeline-manifest"


class OutputError(Exception):
    """The output folder cannot be used; the message says why and what to do."""


def check_output_folder(output: Path, root: Path, protected: Mapping[str, Path]) -> str:
    """Refuse folders whose replacement would destroy sources or someone else's files;
    return the folder's ``folder_fingerprint``, from the same walk.

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
        return folder_fingerprint(out)
    manifest = out / MANIFEST
    if not manifest.is_file():
        raise OutputError(M.OUTPUT_NOT_OURS(output=output))
    owned = set(manifest.read_text("utf-8").splitlines()) | {MANIFEST}
    found = list(walk_files(out))
    foreign = sorted(name for name, _ in found if name not in owned)
    if foreign:
        shown = ", ".join(foreign[:5]) + (
            f" and {len(foreign) - 5} more" if len(foreign) > 5 else ""
        )
        raise OutputError(M.OUTPUT_FOREIGN(output=output, files=shown))
    try:
        return _fingerprint(found)
    except OSError:
        return ""


def folder_fingerprint(folder: Path) -> str:
    """A hash of the names, sizes, modification times and inodes of the files under
    ``folder``: it changes when anyone touches the output after a build. "" when the
    folder cannot be read."""
    try:
        return _fingerprint(walk_files(folder))
    except OSError:
        return ""


def _fingerprint(found: Iterable[tuple[str, os.DirEntry[str]]]) -> str:
    """``folder_fingerprint`` of the files and links ``walk_files`` found."""
    digest = hashlib.blake2b(digest_size=20)
    for name, entry in sorted(found, key=lambda item: item[0]):
        if not entry.is_file():
            continue
        info = entry.stat()
        digest.update(
            f"{name}\0{info.st_size}\0{info.st_mtime_ns}\0{info.st_ino}\n".encode(
                "utf-8", "surrogatepass"
            )
        )
    return digest.hexdigest()


class PageSink(Protocol):
    def put(self, path: str, data: bytes) -> bytes | None:
        """Take one file; may run in a worker process. Returns what the parent keeps of
        it."""

    def put_parts(self, path: str, parts: Iterable[bytes]) -> bytes | None:
        """Take one file made part by part, as ``put`` does."""

    def keep(self, path: str) -> bytes | None:
        """Take the previous output's file at ``path`` unchanged, as ``put`` would."""

    def pages(self, kept: Mapping[str, bytes | None]) -> Mapping[str, bytes]:
        """The build's files, from what the parent kept of each."""

    def prepare(self) -> None:
        """Get ready to take files, before the render workers start."""


class MemorySink:
    """Every file's bytes kept in memory."""

    def prepare(self) -> None:
        pass

    def put(self, path: str, data: bytes) -> bytes:
        return data

    def put_parts(self, path: str, parts: Iterable[bytes]) -> bytes:
        return b"".join(parts)

    def keep(self, path: str) -> bytes:
        raise OutputError(f"{path}: an in-memory build has no previous output to keep")

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

    def add(self, path: str, data: bytes) -> Places:
        """Take one file; returns the links it noted (see LinkCheck)."""
        self.kept[path] = self.sink.put(path, data)
        page = self.links.fresh()
        page.add(path, data)
        self.links.merge(page.places)
        return page.places

    def keep(self, path: str, places: Places) -> None:
        """Take the previous output's file, whose links noted ``places`` then."""
        self.kept[path] = self.sink.keep(path)
        self.links.merge(places)

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

    def order(self, paths: Iterable[str]) -> None:
        """Put the files in the order of ``paths`` (workers' batches come in any order),
        those not among them after."""
        ordered = {path: self.kept[path] for path in paths if path in self.kept}
        self.kept = ordered | self.kept

    def broken_links(self, origins: Origins) -> list[Diagnostic]:
        return self.links.broken(self.kept, origins)

    def result(self) -> Mapping[str, bytes]:
        return self.sink.pages(self.kept)


class Staging:
    """A new folder beside ``output`` that files are written into, from any process, and
    that ``commit`` swaps in for ``output``. As a context manager it is removed on leaving
    unless it was swapped in, so a failed build writes nothing.

    With ``spare`` (a folder of the build cache), the output that a commit replaces is
    moved there instead of deleted, and the next build starts from it: removing and
    hard-linking again the 32,000 files and folders of a 10,000-event site took longer
    than the rest of a build after one edit. Nothing of the spare is trusted: a file is
    kept only where it is the very file of the current output (same inode), every other
    file is removed (in a process of its own, while the build reads its sources: see
    ``prepare``) or written anew, and those the build does not make again go before the
    commit."""

    def __init__(self, output: Path, spare: Path | None = None) -> None:
        self.output = output.resolve()
        self.output.parent.mkdir(parents=True, exist_ok=True)
        self.folder = Path(
            tempfile.mkdtemp(prefix=f".{self.output.name}.new-", dir=self.output.parent)
        )
        self.spare = spare
        self.reused = spare is not None and _move_folder(spare, self.folder)
        self.folder.chmod(0o755)  # mkdtemp makes it private; a web server must read the site
        self.committed = False
        self.fingerprint = ""  # the output's folder_fingerprint once committed
        # The folders made already by this process, as paths under the folder ("" is the
        # folder itself): strings, since hashing a Path and its parents for each file
        # was a third of the time of writing the pages.
        self._folders: set[str] = {""}
        self._finishing: tuple[Background[None], str] | None = None  # see begin_finish
        # The spare's files that are the output's own, once the others are gone.
        self._pruning = Background(_prune_spare, self.folder, self.output) if self.reused else None
        self._spare_files: set[str] = set()

    def prepare(self) -> None:
        """Wait until the spare holds only files of the current output. That walk of
        every file (0.3-0.4 s of a 5-6 s build after one edit at 10,000 events) is done
        while the build reads its sources, not at its end, and then the files the build
        does not make again are known without another walk. Called before the render
        workers fork, and before the folder is written into or let go."""
        pruning, self._pruning = self._pruning, None
        if pruning is not None:
            self._spare_files = set(pruning.result())

    def put(self, path: str, data: bytes) -> None:
        """Write one file. A file whose bytes did not change is hard-linked from the old
        output rather than written again, so it keeps its modification time (and
        rsync-style deploys skip it)."""
        self.prepare()
        target = self._target(path)
        if not _link_if_same(self.output / path, target, data):
            target.write_bytes(data)

    def put_parts(self, path: str, parts: Iterable[bytes]) -> None:
        """Write one file as its parts come, so it is never whole in memory; then, like
        ``put``, keep the old output's file instead when it holds the same bytes."""
        self.prepare()
        target = self._target(path)
        with target.open("wb") as file:
            for part in parts:
                file.write(part)
        _link_if_same_file(self.output / path, target)

    def keep(self, path: str) -> None:
        """Hard-link the old output's file at ``path`` (a copy where links fail), unless
        the spare holds that very file there already."""
        self.prepare()
        if path in self._spare_files and same_file(self.folder / path, self.output / path):
            return
        target = self._target(path)
        try:
            os.link(self.output / path, target)
        except OSError:
            shutil.copyfile(self.output / path, target)

    def _target(self, path: str) -> Path:
        """Where ``path`` goes in the folder: its folders made, no file there yet."""
        if not _stays_inside(path):
            raise OutputError(M.OUTPUT_ESCAPE(path=path))
        target = self.folder / path
        folder = path.rpartition("/")[0]
        if folder not in self._folders:
            if self.reused:  # the spare may hold a file where this needs a folder
                _clear_files_above(self.folder, target)
            target.parent.mkdir(parents=True, exist_ok=True)
            while folder not in self._folders:
                self._folders.add(folder)
                folder = folder.rpartition("/")[0]
        # A path put twice (an export over a page) gets a new file: writing into the old
        # one could write through a hard link into the old output.
        try:
            target.unlink(missing_ok=True)
        except IsADirectoryError:  # a folder in the spare, a file now
            shutil.rmtree(target)
        return target

    def pages(self, kept: Mapping[str, bytes | None]) -> StagedPages:
        return StagedPages(self, list(kept))

    def begin_finish(
        self,
        finish: Callable[[Path], None],
        paths: Collection[str],
        keeps: str,
        at_once: bool = False,
    ) -> None:
        """Start ``finish`` (as for ``commit``) on the folder now, in a process of its
        own (see parallel.Background), while the build goes on writing other files;
        ``commit`` waits for it. ``finish`` sees the files of ``paths`` (the build's so
        far) and what it keeps of the output's folder ``keeps``, where alone it writes:
        the rest the spare held goes first."""
        self._remove_stale(paths, keeps)
        self._finishing = (Background(finish, self.folder, at_once=at_once), keeps)

    def commit(
        self,
        finish: Callable[[Path], None] | None = None,
        paths: Collection[str] = (),
        finish_keeps: str | None = None,
    ) -> None:
        """Remove what the spare held besides the build's ``paths`` (and, in the folder
        ``finish_keeps``, the very files of the output, such as the search index shards
        that ``finish`` may keep), add what ``finish`` adds (or wait for the one begun)
        and the manifest, then swap the folder in for the output. ``finish`` must never
        write into a file that is there already."""
        try:
            # With a finish begun, what the spare held besides the pages went then, and
            # the files written since are the build's own.
            if self._finishing is None:
                self._remove_stale(paths, finish_keeps)
            # A finish begun writes only into its folder: the files outside it are final,
            # and listed while it runs.
            begun = self._finishing[1] if self._finishing is not None else None
            found = _files_but(self.folder, begun) if begun is not None else []
            self._wait()
            if finish is not None:
                finish(self.folder)
            if begun is None:
                found = _files(self.folder)
            elif (self.folder / begun).is_dir():
                found += _files(self.folder / begun, f"{begun}/")
            self.fingerprint = _write_manifest(self.folder, found)
            _swap(self.folder, self.output, self.spare)
        except BaseException:
            self.discard()
            raise
        self.committed = True

    def _remove_stale(self, paths: Collection[str], keeps: str | None) -> None:
        """Remove what the spare held besides ``paths`` and the files in the folder
        ``keeps`` (all of them the output's own), then the folders left empty."""
        self.prepare()
        made = set(paths)
        stale = [
            name
            for name in self._spare_files - made
            if keeps is None or not name.startswith(f"{keeps}/")
        ]
        emptied: set[Path] = set()
        for name in stale:
            path = self.folder / name
            # A file of the spare may be gone already, under a folder or file the build
            # put in its place; a folder may stand in its place.
            with contextlib.suppress(FileNotFoundError, NotADirectoryError, IsADirectoryError):
                os.unlink(path)
                emptied.add(path.parent)
        _remove_empty_folders(self.folder, emptied)

    def _wait(self) -> None:
        """The outcome of the finish begun (its error raised), once it is over."""
        begun, self._finishing = self._finishing, None
        if begun is not None:
            begun[0].result()

    def discard(self) -> None:
        """Remove the folder, or keep it as the spare: it is checked file by file. The
        spare's pruning and a finish under way are let end first, as they change the
        folder."""
        if self.committed:
            return
        for wait in (self.prepare, self._wait):
            with contextlib.suppress(Exception):  # the build failed already, and says why
                wait()
        if self.spare is None or not _move_folder(self.folder, self.spare):
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
    finish_keeps: str | None = None,
) -> str:
    """Replace ``output`` by exactly ``pages`` (and what ``finish`` adds to the staged
    folder, such as a search index, which may keep files of the folder ``finish_keeps``);
    on any failure the old output stays. Pages a build already wrote into a staging
    folder for ``output`` are not written again. Returns the new output's
    ``folder_fingerprint``."""
    if isinstance(pages, StagedPages) and pages.staging.output == output.resolve():
        pages.staging.commit(finish, pages.paths, finish_keeps)
        return pages.staging.fingerprint
    with Staging(output) as staging:
        for path in sorted(pages):
            staging.put(path, pages[path])
        staging.commit(finish)
    return staging.fingerprint


def _stays_inside(path: str) -> bool:
    """Whether ``path`` names a file below the folder it is put in. With strings, as
    PurePosixPath would read it (empty and "." parts left out), in a tenth of its time."""
    parts = [part for part in path.split("/") if part not in ("", ".")]
    return bool(parts) and not path.startswith("/") and ".." not in parts and "\\" not in path


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


def walk_files(folder: Path | str, prefix: str = "") -> Iterator[tuple[str, os.DirEntry[str]]]:
    """(path under ``folder``, entry) of every file and symbolic link below it, by
    os.scandir on plain strings: a fifth of the time of Path.rglob over a 10,000-event
    site's output."""
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                yield from walk_files(entry.path, f"{prefix}{entry.name}/")
            else:
                yield f"{prefix}{entry.name}", entry


def _files(folder: Path | str, prefix: str = "") -> list[tuple[str, os.DirEntry[str]]]:
    """``walk_files`` of the files alone, each with its ``stat`` read now (an entry keeps
    it)."""
    found = [(name, entry) for name, entry in walk_files(folder, prefix) if entry.is_file()]
    for _, entry in found:
        entry.stat()
    return found


def _files_but(folder: Path, left_out: str) -> list[tuple[str, os.DirEntry[str]]]:
    """``_files`` of ``folder`` but those in its folder ``left_out``."""
    found = []
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if entry.name != left_out:
                    found += _files(entry.path, f"{entry.name}/")
            elif entry.is_file():
                entry.stat()
                found.append((entry.name, entry))
    return found


def _write_manifest(staging: Path, found: list[tuple[str, os.DirEntry[str]]]) -> str:
    """The list of every file the build wrote (``found`` in ``staging``: see ``_files``),
    so the next build knows what it owns. Returns the folder's fingerprint, from the same
    entries: the swap only renames the folder, so it is the output's after the swap."""
    names = sorted(name for name, _ in found)
    (staging / MANIFEST).write_text("".join(f"{n}\n" for n in names), "utf-8")
    with os.scandir(staging) as entries:
        found += [(MANIFEST, entry) for entry in entries if entry.name == MANIFEST]
    return _fingerprint(found)


def _swap(staging: Path, output: Path, spare: Path | None = None) -> None:
    """Put ``staging`` in the place of ``output``; the old output becomes ``spare``."""
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
        if spare is not None:
            _move_folder(retired / "site", spare)
        shutil.rmtree(retired, ignore_errors=True)


def _move_folder(folder: Path, to: Path) -> bool:
    """Rename a real folder to ``to``, which must not exist or be an empty folder."""
    try:
        if folder.is_symlink() or not folder.is_dir():
            return False
        to.parent.mkdir(parents=True, exist_ok=True)
        os.replace(folder, to)
    except OSError:
        return False
    return True


def _clear_files_above(folder: Path, target: Path) -> None:
    """Remove the files (not folders) on the way from ``folder`` down to ``target``."""
    for parent in reversed(target.relative_to(folder).parents[:-1]):
        path = folder / parent
        if path.is_symlink() or path.is_file():
            path.unlink()


def same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` are the very same file (hard links to one inode)."""
    try:
        first, second = os.stat(a, follow_symlinks=False), os.stat(b, follow_symlinks=False)
    except OSError:
        return False
    return (first.st_ino, first.st_dev) == (second.st_ino, second.st_dev)


def _prune_spare(folder: Path, output: Path) -> list[str]:
    """Remove every file under ``folder`` but the very files at the same places in
    ``output``, then the folders left empty; the names of the files left."""
    left: list[str] = []
    emptied: set[Path] = set()
    for name, entry in list(walk_files(folder)):
        if same_file(Path(entry.path), output / name):
            left.append(name)
        else:
            os.unlink(entry.path)
            emptied.add(Path(entry.path).parent)
    _remove_empty_folders(folder, emptied)
    return left


def _remove_empty_folders(folder: Path, emptied: Iterable[Path]) -> None:
    """Remove each of ``emptied`` and the folders above it, up to ``folder``, while they
    are empty."""
    for path in sorted(emptied, key=lambda p: len(p.parts), reverse=True):
        while path != folder:
            try:
                path.rmdir()
            except OSError:  # not empty
                break
            path = path.parent
