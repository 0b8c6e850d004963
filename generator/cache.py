"""The build cache: what a build made kept in ``.timeline-cache/`` for the next one: each
content file's event or actor (read without problems), rendered Markdown, calendar entries,
and the last build's page fingerprints (pagecache.py).

Keys are hashes of everything a value depends on (the generator's version, the source path,
the file's bytes or the body's text and line), so a stale entry can never be found, only
left unused. Values are plain JSON, never pickles; entries are type-checked and bodies
sanitised after they are read, so even a cache folder planted in a hostile repository
cannot run code or inject script. Any problem with the cache file makes it an empty
cache: deleting it only makes the next build slower.

A stale entry is never found, but it stays until the cache is pruned: after a build, once
the cache holds more than twice the entries that build read or wrote (plus a margin), the
others go and the file is compacted. So the cache stays within about twice what the site
needs, through edits, deleted files and new generator versions, and pruning is rare.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
from array import array
from collections.abc import Iterable, Mapping
from pathlib import Path

import markdown

from generator import __version__
from generator.config import Config
from generator.markup import MARKUP_REVISION
from generator.sources import Sources

CACHE_DIR = ".timeline-cache"
_FILE = "cache.sqlite"
_PAGES = "last-pages"  # the last build's page fingerprints (pagecache.py)
_SCHEMA = "CREATE TABLE IF NOT EXISTS cache (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
# Below this many stale entries, pruning is not worth a pass over the cache.
_PRUNE_MARGIN = 1000
# Rendered HTML changes when timeline, its Markdown set-up or Python-Markdown changes.
_SALT = f"timeline {__version__}; markup {MARKUP_REVISION}; markdown {markdown.__version__}"


def linked_path(folder: Path) -> Path | None:
    """The cache folder, or a file of its database, if it is a symbolic link (planted by
    a cloned repository): the build must not follow it, since it writes and moves folders
    there. SQLite follows links to the database and its journals."""
    names = ("", _FILE, *(f"{_FILE}-{end}" for end in ("journal", "wal", "shm")))
    for path in (folder / name if name else folder for name in names):
        if path.is_symlink():
            return path
    return None


def key(*parts: str | int) -> str:
    digest = hashlib.blake2b(_SALT.encode(), digest_size=20)
    for part in parts:
        data = str(part).encode("utf-8", "surrogatepass")
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()


def inputs_fingerprint(config: Config, sources: Sources, drafts: bool) -> str:
    """A hash of everything a build reads: the same value means the same output."""
    digest = hashlib.blake2b(f"{_SALT}; {config!r}; drafts={drafts}".encode(), digest_size=20)
    files: list[tuple[str, bytes]] = [(f"content/{s.path}", s.data) for s in sources.content]
    files += [(f"templates/{n}", t.encode()) for n, (t, _) in sources.site_templates.items()]
    files += [(f"static/{n}", d) for n, d in sources.site_static.items()]
    for theme in sources.themes:
        files += [(f"{theme.name}/t/{n}", t.encode()) for n, (t, _) in theme.templates.items()]
        files += [(f"{theme.name}/s/{n}", d) for n, d in theme.static.items()]
    for name, data in files:
        digest.update(len(name).to_bytes(8, "little") + name.encode("utf-8", "surrogatepass"))
        digest.update(len(data).to_bytes(8, "little") + data)
    return digest.hexdigest()


class Cache:
    """A map from keys to JSON values. ``Cache(None)`` keeps nothing."""

    def __init__(self, folder: Path | None) -> None:
        self.db: sqlite3.Connection | None = None
        # hash() of every key read or written since the cache was opened: the entries a
        # prune keeps. Eight bytes each, not the keys, which would hold 30 MB at 100,000
        # events after the build has let them go. A collision only keeps a stale entry.
        self._used = array("q")
        if folder is None:
            return
        try:
            folder.mkdir(exist_ok=True)
            self.db = sqlite3.connect(folder / _FILE, timeout=10, isolation_level=None)
            self.db.execute(_SCHEMA)
        except (OSError, sqlite3.Error):
            self.db = None

    def get_many(self, keys: Iterable[str]) -> dict[str, object]:
        wanted = list(keys)
        found: dict[str, object] = {}
        if self.db is None:
            return found
        try:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ",".join("?" * len(chunk))
                query = f"SELECT key, value FROM cache WHERE key IN ({marks})"
                for k, value in self.db.execute(query, chunk):
                    self._used.append(hash(k))
                    with contextlib.suppress(ValueError):
                        found[k] = json.loads(value)
        except sqlite3.Error:
            return {}
        return found

    def put_many(self, items: Mapping[str, object]) -> None:
        if self.db is None or not items:
            return
        rows = [(k, json.dumps(v, ensure_ascii=False)) for k, v in items.items()]
        self._used.extend(hash(k) for k in items)
        with contextlib.suppress(sqlite3.Error):
            self.db.execute("BEGIN")
            self.db.executemany("INSERT OR REPLACE INTO cache VALUES (?, ?)", rows)
            self.db.execute("COMMIT")

    def up_to_date(self, inputs: str, output_state: str) -> bool:
        """Whether the last build had these inputs and left the output in this state (its
        ``folder_fingerprint``), untouched since."""
        last = self.get_many(["last-build"]).get("last-build")
        return last == [inputs, output_state]

    def pages(self, output_state: str) -> object:
        """What the last build recorded of its pages, if it left the output in this state."""
        last = self.get_many([_PAGES]).get(_PAGES)
        if isinstance(last, list) and len(last) == 2 and last[0] == output_state:
            return last[1]
        return None

    def record(self, inputs: str, output_state: str, pages: object = None) -> None:
        """Note a build's inputs, the state it left the output in (its
        ``folder_fingerprint``) and what ``pages`` says of its pages."""
        self.put_many({"last-build": [inputs, output_state], _PAGES: [output_state, pages]})

    def prune(self) -> int:
        """Delete the entries not read or written since the cache was opened, if they
        outnumber the others by more than ``_PRUNE_MARGIN``, and compact the file.
        Call it after a whole build, which reads or writes every entry it needs. Returns
        the number of entries deleted."""
        if self.db is None:
            return 0
        try:
            (count,) = self.db.execute("SELECT COUNT(*) FROM cache").fetchone()
            if count <= 2 * len(self._used) + _PRUNE_MARGIN:
                return 0
            used = set(self._used)
            # Asked row by row, not by listing the keys: 580,000 of them are 50 MB.
            self.db.create_function("used", 1, lambda k: hash(k) in used, deterministic=True)
            with self.db:  # one transaction, rolled back on an error
                self.db.execute("BEGIN")
                deleted: int = self.db.execute("DELETE FROM cache WHERE NOT used(key)").rowcount
        except sqlite3.Error:
            return 0
        with contextlib.suppress(sqlite3.Error):
            self.db.execute("VACUUM")  # gives the space back: a DELETE only frees pages
        return deleted

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None
