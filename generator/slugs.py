"""Slugs: the URL-safe names of events, actors, tags and places."""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata

_NOT_WORD = re.compile(r"[^\w]+")
MAX_LENGTH = 80


@functools.lru_cache(maxsize=1 << 16)  # linking slugifies every name of every event
def slugify(text: str) -> str:
    """Lowercase words of any script joined by hyphens: "Sergei Lavrov" -> "sergei-lavrov",
    "Владимир Путин" -> "владимир-путин". Never empty, never climbs folders: text with no
    letters or digits ("+++") gets a short stable hash instead."""
    normal = unicodedata.normalize("NFKC", text).casefold()
    words = _NOT_WORD.sub("-", normal.replace("_", "-")).strip("-")
    words = words[:MAX_LENGTH].rstrip("-")
    if words:
        return words
    return "x-" + hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]


def is_slug(text: str) -> bool:
    return bool(text) and slugify(text) == text
