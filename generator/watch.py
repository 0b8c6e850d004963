"""Watch a site's files for the dev server, and keep its sources in step with the disk.

``classify`` is a pure function from a changed path to what it changes: content, theme
(templates, static files, a theme folder), config (timeline.toml) or nothing (the output,
caches, hidden files, editors' temporary files). ``Watcher`` runs a watchdog observer whose
callbacks only record the change and call back; ``SiteFiles`` holds the site's Sources
and re-reads only the content files that changed.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from enum import Enum
from pathlib import Path, PurePosixPath

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from generator import messages as M
from generator.cache import CACHE_DIR
from generator.config import CONFIG_NAME, Config
from generator.diagnostics import Diagnostic, error
from generator.sources import (
    CONTENT_KINDS,
    SourceFile,
    is_ignored_name,
    load_sources,
    theme_folder,
)


class Kind(Enum):
    CONTENT = "content"
    THEME = "theme"
    CONFIG = "config"
    IGNORED = "ignored"


@dataclass(frozen=True)
class Folders:
    """The absolute folders of a site that the dev server watches or ignores."""

    root: Path
    config: Path
    content: Path
    output: Path
    theme: tuple[Path, ...]  # the site's templates/ and static/, and the theme folders


def site_folders(root: Path, config: Config, config_path: Path | None = None) -> Folders:
    themes = [root / config.templates_dir, root / config.static_dir, root / "themes"]
    for name in (config.theme, "default"):
        folder = theme_folder(root, name)
        if folder is not None:
            themes.append(folder)
    return Folders(
        root=root,
        config=config_path or root / CONFIG_NAME,
        content=root / config.content_dir,
        output=root / config.output_dir,
        theme=tuple(dict.fromkeys(p.absolute() for p in themes)),
    )


def classify(path: Path, folders: Folders) -> Kind:
    """What a change to ``path`` (absolute) means for the site."""
    if path == folders.config:
        return Kind.CONFIG
    if _inside(path, folders.output) or _inside(path, folders.root / CACHE_DIR):
        return Kind.IGNORED
    for base, kind in [(folders.content, Kind.CONTENT), *((t, Kind.THEME) for t in folders.theme)]:
        if _inside(path, base):
            parts = path.relative_to(base).parts
            if any(is_temporary(part) for part in parts):
                return Kind.IGNORED
            if kind is Kind.CONTENT and "." in parts[-1] and not parts[-1].endswith(".md"):
                return Kind.IGNORED  # images and notes beside the Markdown are not read
            return kind
    return Kind.IGNORED


def is_temporary(name: str) -> bool:
    """Hidden files, editors' swap and backup files, and the probe file vim writes."""
    return is_ignored_name(name) or name == "4913" or name.endswith(_JETBRAINS)


_JETBRAINS = ("___jb_tmp___", "___jb_old___")


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or path.is_relative_to(folder)


Changed = Callable[[Kind, Path, bool], None]


class Watcher:
    """A watchdog observer on the site's folders; ``changed(kind, path, settled)`` is
    called from its thread for every change that matters, and must only record it.
    ``settled`` says the change is a finished write: the file was closed after writing,
    or renamed into place. A file created, modified or deleted may still change (a write
    in chunks, a delete before the re-create)."""

    def __init__(self, folders: Folders, changed: Changed) -> None:
        self.folders = folders
        self.observer = Observer()
        handler = _Handler(folders, changed)
        # The site folder itself is watched shallowly: a recursive watch would also
        # follow .git/, .venv/ and output/, thousands of folders that never matter.
        self.observer.schedule(handler, str(folders.root), recursive=False)
        watched = [folders.content, *folders.theme, folders.config.parent]
        for folder in dict.fromkeys(watched):
            if folder.is_dir() and folder != folders.root:
                self.observer.schedule(handler, str(folder), recursive=True)

    def start(self) -> None:
        self.observer.start()

    def stop(self) -> None:
        self.observer.stop()
        self.observer.join(timeout=5)


class _Handler(FileSystemEventHandler):
    def __init__(self, folders: Folders, changed: Changed) -> None:
        self.folders = folders
        self.changed = changed

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return  # reads, including our own
        if event.is_directory and event.event_type == "modified":
            # A folder is "modified" when an entry in it changes, and that entry's own
            # event follows; taken for itself, it would make every save re-read the folder.
            return
        settled = event.event_type in ("closed", "moved")  # a rename is one step
        for raw in (event.src_path, getattr(event, "dest_path", "")):
            if raw:
                path = Path(os.fsdecode(raw)).absolute()
                kind = classify(path, self.folders)
                if kind is not Kind.IGNORED:
                    self.changed(kind, path, settled)


class SiteFiles:
    """A site's Sources and the problems met reading them, updated file by file."""

    def __init__(self, root: Path, config: Config) -> None:
        self.root = root
        self.config = config
        self.lock = threading.Lock()
        self.reload()

    def reload(self) -> None:
        """Read everything again (after a theme or config change)."""
        self.sources, problems = load_sources(self.root, self.config)
        self.files = {f.path: f for f in self.sources.content}
        self.index = _positions(self.sources.content)
        prefix = self.config.content_dir.rstrip("/") + "/"
        self.file_problems = {d.path: d for d in problems if d.path.startswith(prefix)}
        self.other_problems = [d for d in problems if not d.path.startswith(prefix)]

    @property
    def problems(self) -> list[Diagnostic]:
        return [*self.other_problems, *self.file_problems.values()]

    def update(self, paths: Iterable[Path]) -> None:
        """Re-read the content files at ``paths`` (absolute); a folder means reread all."""
        changed = set()
        for path in paths:
            if not path.is_file() and (path.is_dir() or self._holds_files(path)):
                self.reload()
                return
            name = self._update_file(path)
            if name is not None:
                changed.add(name)
        if not changed:
            return
        if all((name in self.files) == (name in self.index) for name in changed):
            # The same files, some with new bytes: each in its place, with no look at
            # every file's entry (which an edit of one would pay for at 10,000 files).
            content = list(self.sources.content)
            for name in changed & self.files.keys():
                content[self.index[name]] = self.files[name]
            self.sources = replace(self.sources, content=tuple(content))
            return
        depth = len(PurePosixPath(self.config.content_dir).parts)
        ordered = tuple(sorted(self.files.values(), key=lambda f: _walk_order(f, depth)))
        self.sources = replace(self.sources, content=ordered)
        self.index = _positions(ordered)

    def _holds_files(self, path: Path) -> bool:
        prefix = self._shown(path) + "/"
        return any(name.startswith(prefix) for name in self.files)

    def _update_file(self, path: Path) -> str | None:
        """Read one content file again; its path in the site if it is a content file."""
        shown = self._shown(path)
        content = (self.root / self.config.content_dir).absolute()
        parts = path.relative_to(content).parts
        if len(parts) < 2 or parts[0] not in CONTENT_KINDS or not shown.endswith(".md"):
            return None
        if any(is_ignored_name(part) for part in parts):
            return None
        self.files.pop(shown, None)
        self.file_problems.pop(shown, None)
        if not path.is_file():
            return shown  # deleted, or renamed away
        if not path.resolve().is_relative_to((content / parts[0]).resolve()):
            self.file_problems[shown] = error(shown, 0, M.LINK_OUTSIDE())
            return shown
        try:
            data = path.read_bytes()
        except OSError as exc:
            self.file_problems[shown] = error(shown, 0, f"cannot read: {exc.strerror}")
            return shown
        self.files[shown] = SourceFile(shown, data, parts[0])
        return shown

    def _shown(self, path: Path) -> str:
        return path.relative_to(self.root.absolute()).as_posix()


def _positions(content: Sequence[SourceFile]) -> dict[str, int]:
    return {f.path: i for i, f in enumerate(content)}


def _walk_order(source: SourceFile, depth: int) -> tuple[int, Sequence[tuple[int, str]]]:
    """The order load_sources reads files in: by kind, then as os.walk goes, a folder's
    files (sorted) before its subfolders (sorted). ``depth``: parts of the content folder."""
    parts = source.path.split("/")[depth + 1 :]
    folders = [(1, name) for name in parts[:-1]]
    return CONTENT_KINDS.index(source.kind), (*folders, (0, parts[-1]))
