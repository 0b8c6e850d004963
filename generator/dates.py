"""Dates of events: parsed from the text the author wrote, kept at the precision given.

Years use historical numbering: ``-0044`` is 44 BC and there is no year 0 (ISO 8601's
astronomical numbering would call 44 BC ``-0043``; authors and historians do not). Every
date sorts on one proleptic Gregorian timeline, measured in seconds of wall-clock time in
the site's time zone.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from enum import IntEnum

from dateutil import parser as dateutil_parser
from dateutil.parser import UnknownTimezoneWarning

from generator import messages as M

MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_MONTH_NUMBERS = {name.lower(): i for i, name in enumerate(MONTHS, 1)}
_MONTH_NUMBERS |= {name[:3].lower(): i for i, name in enumerate(MONTHS, 1)}
_MONTH_NUMBERS["sept"] = 9
MAX_YEAR = 999_999_999
_MAX_TEXT = 100  # longer "dates" are prose pasted in the wrong field, not dates


class Precision(IntEnum):
    """How much of a date was given; coarser sorts first among equal starts."""

    YEAR = 0
    MONTH = 1
    DAY = 2
    MINUTE = 3
    SECOND = 4


class DateError(ValueError):
    """A date that cannot be read; the message says how to write it instead."""


@dataclass(frozen=True)
class PartialDate:
    """A date or date-time as precise as the author wrote it. ``year`` is never 0;
    fields finer than ``precision`` are at their minimum. ``offset`` is the UTC offset in
    minutes as written, or None for the site's local time."""

    year: int
    month: int = 1
    day: int = 1
    hour: int = 0
    minute: int = 0
    second: int = 0
    precision: Precision = Precision.YEAR
    offset: int | None = None

    @property
    def is_bce(self) -> bool:
        return self.year < 0

    @property
    def astronomical_year(self) -> int:
        """ISO 8601 year numbering, with year 0 for 1 BC."""
        return self.year + 1 if self.year < 0 else self.year

    def start(self, zone: tzinfo = UTC) -> int:
        """Wall-clock seconds in ``zone`` at the first instant of this date."""
        if self.offset is not None:
            return _wall_seconds_in(self, zone)
        days = days_from_civil(self.astronomical_year, self.month, self.day)
        return days * 86400 + self.hour * 3600 + self.minute * 60 + self.second

    def stop(self, zone: tzinfo = UTC) -> int:
        """Wall-clock seconds just after the last instant this date covers (exclusive)."""
        if self.precision is Precision.YEAR:
            return days_from_civil(self.astronomical_year + 1, 1, 1) * 86400
        if self.precision is Precision.MONTH:
            year, month = divmod(self.astronomical_year * 12 + self.month, 12)
            return days_from_civil(year, month + 1, 1) * 86400
        step = {Precision.DAY: 86400, Precision.MINUTE: 60, Precision.SECOND: 1}
        return self.start(zone) + step[self.precision]

    def iso(self) -> str:
        """ISO 8601 text at this precision, with the year in historical numbering."""
        text = _year_text(self.year)
        if self.precision >= Precision.MONTH:
            text += f"-{self.month:02d}"
        if self.precision >= Precision.DAY:
            text += f"-{self.day:02d}"
        if self.precision >= Precision.MINUTE:
            text += f"T{self.hour:02d}:{self.minute:02d}"
        if self.precision >= Precision.SECOND:
            text += f":{self.second:02d}"
        if self.offset is not None:
            text += "Z" if self.offset == 0 else _offset_text(self.offset)
        return text

    def display(self) -> str:
        """Human form at this precision: "2023", "September 2023", "15 March 44 BC"."""
        year = year_label(self.year)
        if self.precision is Precision.YEAR:
            return year
        if self.precision is Precision.MONTH:
            return f"{MONTHS[self.month - 1]} {year}"
        text = f"{self.day} {MONTHS[self.month - 1]} {year}"
        if self.precision >= Precision.MINUTE:
            text += f", {self.hour:02d}:{self.minute:02d}"
            if self.precision is Precision.SECOND:
                text += f":{self.second:02d}"
            if self.offset is not None:
                text += " UTC" if self.offset == 0 else " " + _offset_text(self.offset)
        return text


def display_range(start: PartialDate, end: PartialDate | None, circa: bool = False) -> str:
    """ "17–19 October 2023", "April – October 2023", "c. 2022 – 2023"."""
    prefix = "c. " if circa else ""
    if end is None or end == start:
        return prefix + start.display()
    same_precision = start.precision == end.precision and start.offset is None
    same_year = same_precision and start.year == end.year and end.offset is None
    if same_year and start.precision is Precision.DAY:
        if start.month == end.month:
            return f"{prefix}{start.day}–{end.display()}"
        return f"{prefix}{start.day} {MONTHS[start.month - 1]} – {end.display()}"
    if same_year and start.precision is Precision.MONTH:
        return f"{prefix}{MONTHS[start.month - 1]} – {end.display()}"
    return f"{prefix}{start.display()} – {end.display()}"


def parse_date(text: str, date_order: str = "") -> PartialDate:
    """Read a date as an author writes it. Raises DateError with a fix-it message."""
    text = " ".join(text.split())
    if not text:
        raise DateError(M.DATE_EMPTY())
    if len(text) > _MAX_TEXT:
        raise DateError(M.DATE_TOO_LONG())
    found = _read(text, date_order)
    if found is not None:
        return found
    raise DateError(_unreadable(text, date_order))


def _read(text: str, date_order: str) -> PartialDate | None:
    for reader in (_read_iso, _read_numeric, _read_era, _read_natural):
        found = reader(text, date_order)
        if found is not None:
            return found
    return None


# What authors write for a range ("2023-06-14/2023-06-20", "1914 to 1918") or an
# approximate date ("c. 1850"), which the fields 'end' and 'circa' say.
_RANGE = re.compile(r"(.+?)\s*(?:/|\.\.|\s[-–—]\s|–|—|\sto\s|\suntil\s)\s*(.+)", re.I)
_CIRCA = re.compile(r"(?:c\.|ca\.|circa|about|around|approx\.|~)\s*(.+)", re.I)


# A part that is surely a date: a year of three or more digits, or one with its era.
_SURELY_A_YEAR = re.compile(r"\d{3}|\b(?:BC|BCE|AD|CE)\b", re.I)


def _unreadable(text: str, date_order: str) -> str:
    """The message for a date none of the readers took, with the fields that say it when
    it is a range or an approximate date of forms they take ("10/2023" is no range of
    the years 10 and 2023)."""

    def date(part: str) -> bool:
        return bool(_SURELY_A_YEAR.search(part)) and _read(part, date_order) is not None

    circa = _CIRCA.fullmatch(text)
    if circa and date(circa[1]):
        return M.DATE_CIRCA(text=text, date=circa[1])
    ranged = _RANGE.fullmatch(text)
    if ranged and date(ranged[1]) and date(ranged[2]):
        return M.DATE_RANGE(text=text, start=ranged[1], end=ranged[2])
    return M.DATE_UNREADABLE(text=text)


_ISO = re.compile(
    r"(?P<sign>[+-])?(?P<year>\d+)"
    r"(?:-(?P<month>\d{2})(?:-(?P<day>\d{2})"
    r"(?:[T ](?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,]\d+)?)?"
    r"\s*(?P<tz>Z|[+-]\d{2}(?::?\d{2})?)?)?)?)?",
    re.IGNORECASE | re.ASCII,
)


def _read_iso(text: str, _order: str) -> PartialDate | None:
    match = _ISO.fullmatch(text)
    if not match:
        return None
    parts = match.groupdict()
    digits = parts["year"]
    if parts["month"] and not parts["sign"] and len(digits) < 4:
        return None  # "23-10-05" is not ISO; let the numeric reader refuse it clearly
    year = -int(digits) if parts["sign"] == "-" else int(digits)
    precision = Precision.YEAR
    for name, level in (("month", Precision.MONTH), ("day", Precision.DAY)):
        if parts[name]:
            precision = level
    if parts["hour"]:
        precision = Precision.SECOND if parts["second"] else Precision.MINUTE
    return make_date(
        year,
        int(parts["month"] or 1),
        int(parts["day"] or 1),
        int(parts["hour"] or 0),
        int(parts["minute"] or 0),
        int(parts["second"] or 0),
        precision=precision,
        offset=_parse_offset(parts["tz"]) if parts["tz"] else None,
    )


_NUMERIC = re.compile(r"(\d{1,4})[/.-](\d{1,2})[/.-](\d{1,4})", re.ASCII)


def _read_numeric(text: str, order: str) -> PartialDate | None:
    """03/04/2023 and friends: only when the order is certain."""
    match = _NUMERIC.fullmatch(text)
    if not match:
        return None
    a, b, c = match.groups()
    if len(a) == 4:
        return make_date(int(a), int(b), int(c), precision=Precision.DAY)
    if len(c) != 4:
        raise DateError(M.DATE_SHORT_YEAR(text=text))
    first, second = int(a), int(b)
    if not order and first != second and first <= 12 and second <= 12:
        raise DateError(M.DATE_AMBIGUOUS(text=text))
    if order == "mdy" or (not order and second > 12):
        first, second = second, first
    return make_date(int(c), second, first, precision=Precision.DAY)


_ERA = re.compile(r"(?<![^\s,])(BCE|BC|B\.C\.(?:E\.)?|AD|A\.D\.|CE|C\.E\.)(?![^\s,])", re.I)
_TOKEN = re.compile(r"[0-9]+|[^\W\d_]+")


def _read_era(text: str, _order: str) -> PartialDate | None:
    """ "44 BC", "15 March 44 BC", "March 15, 44 BCE", "AD 79", "24 August AD 79"."""
    eras = _ERA.findall(text)
    if len(eras) != 1:
        return None
    bce = eras[0].upper().startswith("B")
    tokens = _TOKEN.findall(_ERA.sub(" ", text))
    numbers = [t for t in tokens if t.isascii() and t.isdigit()]
    words = [t.lower() for t in tokens if not (t.isascii() and t.isdigit())]
    if not numbers or len(numbers) > 2 or len(words) > 1:
        return None
    if words and words[0] not in _MONTH_NUMBERS:
        return None
    year = int(numbers[-1])
    if year == 0:
        raise DateError(M.DATE_YEAR_ZERO())
    month = _MONTH_NUMBERS[words[0]] if words else 0
    day = int(numbers[0]) if len(numbers) == 2 else 0
    if day and not month:
        return None
    precision = Precision.DAY if day else Precision.MONTH if month else Precision.YEAR
    return make_date(-year if bce else year, month or 1, day or 1, precision=precision)


# Two sets of defaults: a field that differs between the two parses was not in the text.
_DEFAULT_A = datetime(2000, 1, 1, 0, 0, 0)
_DEFAULT_B = datetime(2004, 2, 2, 1, 1, 1)


def _read_natural(text: str, _order: str) -> PartialDate | None:
    """ "October 23, 2023", "Sept 2023", "23 Oct 2023 14:30 +02:00" through dateutil."""
    words = [t for t in _TOKEN.findall(text) if not (t.isascii() and t.isdigit())]
    if not any(w.lower() in _MONTH_NUMBERS for w in words):
        return None  # without a month name, dateutil guesses; we refuse to guess
    years = [t for t in _TOKEN.findall(text) if (t.isascii() and t.isdigit()) and len(t) >= 3]
    if not years:
        raise DateError(M.DATE_NO_LONG_YEAR(text=text))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", UnknownTimezoneWarning)
            a = dateutil_parser.parse(text, default=_DEFAULT_A)
            b = dateutil_parser.parse(text, default=_DEFAULT_B)
    except UnknownTimezoneWarning:
        raise DateError(M.DATE_UNKNOWN_ZONE(text=text)) from None
    except (ValueError, OverflowError, TypeError, ArithmeticError):
        return None
    if a.year != b.year:
        return None
    if a.month != b.month:
        precision = Precision.YEAR
    elif a.day != b.day:
        precision = Precision.MONTH
    elif a.hour != b.hour or a.minute != b.minute:
        precision = Precision.DAY
    else:
        precision = Precision.MINUTE if a.second != b.second else Precision.SECOND
    offset = a.utcoffset()
    minutes = None if offset is None else int(offset.total_seconds() // 60)
    if precision < Precision.MINUTE and minutes is not None:
        return None
    return make_date(
        a.year,
        a.month if precision >= Precision.MONTH else 1,
        a.day if precision >= Precision.DAY else 1,
        a.hour if precision >= Precision.MINUTE else 0,
        a.minute if precision >= Precision.MINUTE else 0,
        a.second if precision >= Precision.SECOND else 0,
        precision=precision,
        offset=minutes,
    )


def make_date(
    year: int,
    month: int = 1,
    day: int = 1,
    hour: int = 0,
    minute: int = 0,
    second: int = 0,
    *,
    precision: Precision,
    offset: int | None = None,
) -> PartialDate:
    """Build a PartialDate, checking every field; raises DateError naming the bad one."""
    if year == 0:
        raise DateError(M.DATE_YEAR_ZERO())
    if abs(year) > MAX_YEAR:
        raise DateError(M.DATE_YEAR_RANGE(year=year, limit=MAX_YEAR))
    if not 1 <= month <= 12:
        raise DateError(M.DATE_NO_MONTH(month=month))
    last = days_in_month(year + 1 if year < 0 else year, month)
    if not 1 <= day <= last:
        raise DateError(
            M.DATE_NO_DAY(month=MONTHS[month - 1], year=year_label(year), day=day, last=last)
        )
    if hour > 23 or minute > 59 or second > 59:
        raise DateError(M.DATE_NO_TIME(time=f"{hour:02d}:{minute:02d}:{second:02d}"))
    if offset is not None:
        if abs(offset) >= 24 * 60:
            raise DateError(M.DATE_OFFSET_RANGE())
        if not 1 <= year <= 9999:
            raise DateError(M.DATE_OFFSET_YEAR())
    return PartialDate(year, month, day, hour, minute, second, precision, offset)


def days_in_month(astronomical_year: int, month: int) -> int:
    if month == 2:
        y = astronomical_year
        return 29 if y % 4 == 0 and (y % 100 != 0 or y % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 in the proleptic Gregorian calendar, for any astronomical year
    (Howard Hinnant's algorithm; Python's datetime stops at year 1)."""
    year -= month <= 2
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _wall_seconds_in(date: PartialDate, zone: tzinfo) -> int:
    assert date.offset is not None
    written = datetime(
        date.year,
        date.month,
        date.day,
        date.hour,
        date.minute,
        date.second,
        tzinfo=timezone(timedelta(minutes=date.offset)),
    )
    try:
        local = written.astimezone(zone)
    except OverflowError:  # within hours of year 1 or 9999: keep the written wall time
        local = written
    days = days_from_civil(local.year, local.month, local.day)
    return days * 86400 + local.hour * 3600 + local.minute * 60 + local.second


def _parse_offset(text: str) -> int:
    if text.upper() == "Z":
        return 0
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return sign * (int(digits[:2]) * 60 + int(digits[2:4] or 0))


def _offset_text(minutes: int) -> str:
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{rest:02d}"


def year_label(year: int) -> str:
    """ "2023", "44 BC", and "AD 79" for early years that could pass for a day or an age."""
    if year < 0:
        return f"{-year} BC"
    return str(year) if year >= 1000 else f"AD {year}"


def _year_text(year: int) -> str:
    return f"-{-year:04d}" if year < 0 else f"{year:04d}"
