"""Every problem a build can report, in one place.

Each message has a code; docs/errors.md explains every code with an example and the fix,
and a test keeps the two in step. Messages say what is wrong in the author's words and
how to fix it. Call sites fill them in: ``messages.DATE_AMBIGUOUS(text=...)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


def plural(n: int, noun: str) -> str:
    """ "1 event", "3 events": counts in messages, in the author's words."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


@dataclass(frozen=True)
class Message:
    code: str
    text: str  # a str.format template

    def __call__(self, **values: Any) -> str:
        return self.text.format(**values)


# Reading files ----------------------------------------------------------------------
FILE_TOO_LARGE = Message(
    "file-too-large",
    "the file is {size:.1f} MB; a content file may be at most {limit} MB: move long material "
    "elsewhere and link to it",
)
FILE_UTF16 = Message("file-utf16", "the file is saved as UTF-16; save it as UTF-8")
FILE_BINARY = Message(
    "file-binary", "the file holds binary data (a NUL byte), not text; is it really Markdown?"
)
FILE_NOT_UTF8 = Message(
    "file-not-utf8", "the file is not valid UTF-8 (byte 0x{byte:02x}); save it as UTF-8"
)
FILE_UNREADABLE = Message("file-unreadable", "cannot read: {reason}")
LINK_OUTSIDE = Message(
    "link-outside",
    "this link points outside its folder; copy the file in instead of linking to it",
)
CONTENT_MISSING = Message(
    "content-missing",
    "the content folder does not exist; create it with events/ and actors/ inside, "
    "or set content_dir",
)

# Front matter -----------------------------------------------------------------------
FM_EMPTY = Message(
    "fm-empty", "the file is empty; an event needs front matter with at least a title and a date"
)
FM_TOML = Message(
    "fm-toml", "TOML front matter (+++) is not supported; write YAML between '---' lines"
)
FM_FENCE = Message(
    "fm-fence", "the first line must be exactly '---'; put the first field on the next line"
)
FM_MISSING = Message(
    "fm-missing",
    "the file does not start with front matter; the first line must be '---', followed by "
    "YAML fields and another '---' line",
)
FM_UNCLOSED = Message(
    "fm-unclosed",
    "front matter opened with '---' is never closed; add a line '---' after the last field",
)
FM_YAML = Message("fm-yaml", "invalid YAML in front matter: {problem}{hint}")
FM_TOO_DEEP = Message("fm-too-deep", "front matter is nested too deeply to read")
FM_NOT_MAPPING = Message("fm-not-mapping", "front matter must be 'key: value' fields, one per line")
FM_KEY_NOT_TEXT = Message("fm-key-not-text", "a field name must be plain text")
FM_MERGE_KEY = Message("fm-merge-key", "YAML merge keys ('<<') are not supported in front matter")
FM_TOO_MANY_VALUES = Message(
    "fm-too-many-values",
    "front matter holds more than {limit:,} values once its aliases (*name) are expanded; "
    "write the values out, fewer of them",
)
FM_DUPLICATE_KEY = Message(
    "fm-duplicate-key", "'{key}' is given twice (first on line {first}); keep one"
)

# Fields -------------------------------------------------------------------------------
FIELD_UNKNOWN = Message("field-unknown", "unknown field '{key}'; did you mean '{close}'?")
FIELD_MISSING = Message("field-missing", "'{key}' is missing; every file of this kind needs one")
FIELD_NOT_TEXT = Message("field-not-text", "'{key}' must be text, not {kind}")
FIELD_NOT_FLAG = Message("field-not-flag", "'{key}' must be true or false")
FIELD_NOT_NAME = Message("field-not-name", "each entry of '{key}' must be a name, not {kind}")
LINK_UNKNOWN_KEY = Message(
    "link-unknown-key", "unknown key '{name}' in '{key}'; a link has only 'title' and 'url'"
)
LINK_NO_URL = Message("link-no-url", "this entry of '{key}' has no 'url'")
LINK_TITLE_NOT_TEXT = Message("link-title-not-text", "a link's 'title' must be text")
LINK_NOT_LINK = Message("link-not-link", "each entry of '{key}' must be a URL or {{title, url}}")
URL_UNSAFE = Message(
    "url-unsafe",
    "'{url}' is not allowed: use an http, https or mailto URL, or a relative link",
)
SLUG_INVALID = Message(
    "slug-invalid", "'slug' must be lowercase words joined by hyphens, like '{suggestion}'"
)
DATE_INVALID = Message("date-invalid", "bad '{key}': {problem}")
END_BEFORE_START = Message(
    "end-before-start",
    "'end' ({end}) is before 'date' ({start}); swap them or fix the year",
)

# Dates (the {problem} of DATE_INVALID) --------------------------------------------------
DATE_EMPTY = Message("date-empty", "the date is empty; write it as YYYY, YYYY-MM or YYYY-MM-DD")
DATE_TOO_LONG = Message(
    "date-too-long", "this is too long to be a date; write it as YYYY, YYYY-MM or YYYY-MM-DD"
)
DATE_UNREADABLE = Message(
    "date-unreadable",
    "'{text}' is not a date I can read; write it as YYYY, YYYY-MM, YYYY-MM-DD or "
    "2023-10-23T14:30+02:00 (a leading minus for BC years: -0044-03-15)",
)
DATE_RANGE = Message(
    "date-range",
    "'{text}' is a range; write its start in 'date' ({start}) and its end in 'end' ({end})",
)
DATE_CIRCA = Message(
    "date-circa",
    "'{text}' is an approximate date; write the date alone ({date}) and add 'circa: true'",
)
DATE_SHORT_YEAR = Message(
    "date-short-year", "'{text}' has no four-digit year; write it as YYYY-MM-DD, like 2023-10-23"
)
DATE_AMBIGUOUS = Message(
    "date-ambiguous",
    "'{text}' is ambiguous (day/month or month/day?); write it as YYYY-MM-DD, or set "
    'date_order = "dmy" or "mdy" in timeline.toml',
)
DATE_NO_LONG_YEAR = Message(
    "date-no-long-year", "'{text}' has no year of three or more digits; write 2023, not 23"
)
DATE_UNKNOWN_ZONE = Message(
    "date-unknown-zone", "'{text}' names a time zone I do not know; use an offset like +02:00"
)
DATE_YEAR_ZERO = Message(
    "date-year-zero", "there is no year 0; 1 BC is -0001 (or 1 BC) and AD 1 is 0001"
)
DATE_YEAR_RANGE = Message(
    "date-year-range", "year {year} is out of range (at most {limit:,} either way)"
)
DATE_NO_MONTH = Message("date-no-month", "month {month} does not exist; months run from 01 to 12")
DATE_NO_DAY = Message("date-no-day", "{month} {year} has no day {day} (it has {last})")
DATE_NO_TIME = Message("date-no-time", "{time} is not a time of day")
DATE_OFFSET_RANGE = Message("date-offset-range", "a UTC offset must be less than 24 hours")
DATE_OFFSET_YEAR = Message(
    "date-offset-year", "a time with a UTC offset needs a year from 0001 to 9999"
)

# Linking --------------------------------------------------------------------------------
ALIAS_TAKEN = Message(
    "alias-taken", "the name '{name}' is also used by {other}; an alias must belong to one actor"
)
SLUG_TAKEN = Message(
    "slug-taken",
    "{kind} slug '{slug}' is also used by {other}; set a different 'slug:' in one of them",
)
ACTOR_NO_FILE = Message("actor-no-file", "actor '{name}' ({events}) has no actor file; {fix}")

# Bodies ---------------------------------------------------------------------------------
BODY_TOO_DEEP = Message(
    "body-too-deep", "the body is nested too deeply to render; flatten its lists or quotes"
)
BODY_TOO_SLOW = Message(
    "body-too-slow",
    "rendering the body's Markdown took more than {seconds:g} s and was stopped; a pattern "
    "repeated thousands of times in one paragraph (such as unclosed '<a ' or '[a](') makes "
    "it slow: break the paragraph up, or put the text in a code block",
)
BODY_LINK_MISSING = Message(
    "body-link-missing",
    "link to '{url}' points to no event or actor file; check the file name",
)

# Templates and output -------------------------------------------------------------------
THEME_MISSING = Message(
    "theme-missing", "theme '{name}' not found: there is no themes/{name}/templates/ folder"
)
THEME_TOML = Message("theme-toml", "cannot read theme.toml: {problem}")
THEME_EXTENDS = Message("theme-extends", "'extends' must be a theme name")
TEMPLATE_NOT_UTF8 = Message("template-not-utf8", "template is not UTF-8 text")
TEMPLATE_SYNTAX = Message("template-syntax", "template syntax: {problem}")
TEMPLATE_NOT_FOUND = Message(
    "template-not-found",
    "template '{name}' not found in the site's templates/ or any theme",
)
TEMPLATE_ERROR = Message("template-error", "template error: {problem}")
TEMPLATE_TOO_SLOW = Message(
    "template-too-slow",
    "rendering {page} took more than {seconds:g} s and was stopped here; a loop runs too "
    "long: make it shorter (no more pages were rendered)",
)
LINK_BROKEN = Message(
    "link-broken", "broken link: {page} links to '{link}'{more}, but the site has no {target}"
)
LINK_BESIDE = Message(
    "link-beside",
    "broken link: {page} links to '{link}'{more}, but the site has no {target}: a file "
    "beside a Markdown file is not published; put it in static/ (static/{name}) and link "
    "it from the site's root, as '/{name}'",
)
LINK_FROM_ROOT = Message(
    "link-from-root",
    "broken link: {page} links to '{link}'{more} from the server's root, which is not the "
    "site's when the site is served from a sub-path or opened from disk; link relative to "
    "the page, as '{relative}' (in a template, url() makes such links)",
)
OUTPUT_IS_SITE = Message(
    "output-is-site",
    "the output folder {output} is the site folder or contains it; set output_dir to a "
    "folder of its own, like 'output'",
)
OUTPUT_OVERLAPS = Message(
    "output-overlaps",
    "the output folder {output} overlaps the {name} folder {folder}; choose another output_dir",
)
OUTPUT_LINK = Message(
    "output-link",
    "the output folder leads out of the site through a symbolic link, to {target}; remove "
    "the link, or pass that folder with --output if you mean to build there",
)
OUTPUT_NOT_FOLDER = Message(
    "output-not-folder", "{output} exists and is not a folder; remove it or choose another"
)
OUTPUT_NOT_OURS = Message(
    "output-not-ours",
    "{output} holds files that timeline did not write; empty it, or choose another output "
    "folder with --output",
)
OUTPUT_FOREIGN = Message(
    "output-foreign",
    "{output} holds files timeline did not write ({files}); move them to the site's static/ "
    "folder to publish them, or delete them",
)
SEARCH_TIMEOUT = Message(
    "search-timeout", "the search indexer took more than {seconds} s and was stopped"
)
STATIC_HIDDEN = Message(
    "static-hidden",
    "the build makes {path} itself, so this file is not copied there; rename it or move it "
    "into a folder of its own",
)
SEARCH_MISSING = Message(
    "search-missing",
    "the search indexer (pagefind) could not run: {reason}; is the 'pagefind[bin]' package "
    "installed?",
)
SEARCH_FAILED = Message(
    "search-failed",
    "the search indexer (pagefind) failed: {reason}; set search = false in timeline.toml to "
    "build without it",
)
SEARCH_NO_ROOM = Message(
    "search-no-room",
    "no room to prepare the search index's pages ({problem}); free space in /dev/shm or "
    "the temporary folder (TMPDIR)",
)
OUTPUT_ESCAPE = Message("output-escape", "refusing to write {path}: outside the output folder")
CACHE_LINK = Message(
    "cache-link",
    "this is a symbolic link, which the build does not follow (it would write where the "
    "link leads), so it built without its cache; delete it to let the build make its own",
)

# Configuration --------------------------------------------------------------------------
CONFIG_TOML = Message("config-toml", "invalid TOML: {problem}")
CONFIG_UNKNOWN = Message("config-unknown", "unknown key '{key}'; {fix}")
CONFIG_TYPE = Message("config-type", "'{key}' must be {expected}, not {found}")
CONFIG_CHOICE = Message("config-choice", "'{key}' must be one of {choices}")
CONFIG_BASE_URL = Message(
    "config-base-url",
    "'base_url' must be an absolute http(s) URL with no query, fragment or spaces, "
    "like https://example.org/",
)
CONFIG_TIMEZONE = Message(
    "config-timezone", "unknown timezone '{zone}'; use an IANA name like Europe/Paris"
)
CONFIG_MINIMUM = Message("config-minimum", "'{key}' must be at least {minimum}")
CONFIG_THEME_NAME = Message(
    "config-theme-name", "'theme' must be the name of a folder under themes/"
)
CONFIG_FOLDER = Message(
    "config-folder", "'{key}' must be a folder inside the site: a relative path, without '..'"
)
CONFIG_NOT_UTF8 = Message("config-not-utf8", "timeline.toml is not UTF-8 text")


def all_messages() -> dict[str, Message]:
    """Every message by code, for the documentation check."""
    return {m.code: m for m in globals().values() if isinstance(m, Message)}
