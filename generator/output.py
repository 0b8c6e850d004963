"""Write the built pages to the output folder, atomically and only into a folder the
build owns.

The site is written into a temporary folder beside the output folder, then swapped in,
so a failed or interrupted build leaves the previous output exactly as it was. A manifest
inside the output lists what the build wrote; a folder holding anything else is refused.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path, PurePosixPath

from generator import messages as M

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


def write_site(
    output: Path,
    pages: Mapping[str, bytes],
    finish: Callable[[Path], None] | None = None,
) -> None:
    """Replace ``output`` by exactly ``pages`` (and what ``finish`` adds to the staged
    folder, such as a search index); on any failure the old output stays.

    A file whose bytes did not change is hard-linked from the old output rather than
    written again, so it keeps its modification time (and rsync-style deploys skip it)."""
    output = output.resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{output.name}.new-", dir=output.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; a web server must read the site
    try:
        folders: set[Path] = {staging}
        for path in sorted(pages):
            if not _stays_inside(path):
                raise OutputError(M.OUTPUT_ESCAPE(path=path))
            target = staging / path
            if target.parent not in folders:
                target.parent.mkdir(parents=True, exist_ok=True)
                folders.update(target.parents)
            data = pages[path]
            if not _link_if_same(output / path, target, data):
                target.write_bytes(data)
        if finish is not None:
            finish(staging)
        _write_manifest(staging)
        _swap(staging, output)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


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
