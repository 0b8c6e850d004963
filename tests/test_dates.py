"""The date parser: forms authors write, precision kept, a total order, no stray exceptions."""

from __future__ import annotations

import contextlib
from datetime import date as pydate

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.dates import (
    DateError,
    PartialDate,
    Precision,
    days_from_civil,
    display_range,
    make_date,
    parse_date,
)


@pytest.mark.parametrize(
    ("text", "display", "precision"),
    [
        ("2023", "2023", Precision.YEAR),
        ("2023-09", "September 2023", Precision.MONTH),
        ("2023-10-23", "23 October 2023", Precision.DAY),
        ("2023-10-23T14:30", "23 October 2023, 14:30", Precision.MINUTE),
        ("2023-10-23 14:30:05", "23 October 2023, 14:30:05", Precision.SECOND),
        ("2023-10-23T14:30+02:00", "23 October 2023, 14:30 +02:00", Precision.MINUTE),
        ("2023-10-23T14:30:00Z", "23 October 2023, 14:30:00 UTC", Precision.SECOND),
        ("-0044-03-15", "15 March 44 BC", Precision.DAY),
        ("-44", "44 BC", Precision.YEAR),
        ("44 BC", "44 BC", Precision.YEAR),
        ("15 March 44 BC", "15 March 44 BC", Precision.DAY),
        ("March 44 BCE", "March 44 BC", Precision.MONTH),
        ("AD 79", "AD 79", Precision.YEAR),
        ("24 August AD 79", "24 August AD 79", Precision.DAY),
        ("0079-08-24", "24 August AD 79", Precision.DAY),
        ("October 23, 2023", "23 October 2023", Precision.DAY),
        ("23 Oct 2023", "23 October 2023", Precision.DAY),
        ("Sept 2023", "September 2023", Precision.MONTH),
        ("25/12/2023", "25 December 2023", Precision.DAY),
        ("12/25/2023", "25 December 2023", Precision.DAY),
        ("2023/10/23", "23 October 2023", Precision.DAY),
        ("04/04/2023", "4 April 2023", Precision.DAY),
    ],
)
def test_forms_authors_write(text: str, display: str, precision: Precision) -> None:
    parsed = parse_date(text)
    assert parsed.display() == display
    assert parsed.precision is precision


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        ("soon", "not a date"),
        ("0", "no year 0"),
        ("0000-01-01", "no year 0"),
        ("2023-13", "month 13"),
        ("2023-02-29", "has no day 29"),
        ("2023-04-31", "has no day 31"),
        ("2023-10-23T25:00", "not a time"),
        ("03/04/2023", "ambiguous"),
        ("03/04/23", "four-digit year"),
        ("October 23", "year"),
        ("23 Oct 23", "three or more digits"),
        ("2023-10-23T10:00 EST", "not a date"),
        ("x" * 500, "too long"),
        # Ranges and approximate dates are said by 'end' and 'circa'.
        ("2023-06-14/2023-06-20", r"range; .* 'date' \(2023-06-14\) .* 'end' \(2023-06-20\)"),
        ("1914 to 1918", r"range; .* \(1914\) .* \(1918\)"),
        ("1939 – 1945", r"range; .* \(1939\) .* \(1945\)"),
        ("-0044-03-15..-0044-03-17", r"range; .* \(-0044-03-15\) .* \(-0044-03-17\)"),
        ("c. 1850", r"approximate date; write the date alone \(1850\) and add 'circa: true'"),
        ("circa 1200 BC", r"approximate .* \(1200 BC\)"),
        ("~1990-05", r"approximate .* \(1990-05\)"),
        ("c. soon", "not a date I can read"),  # only for a date that is readable alone
        ("1914 to soon", "not a date I can read"),
        ("10/2023", "not a date I can read"),  # October 2023, not the years 10 to 2023
        ("about 5", "not a date I can read"),
        ("c. 44 BC", r"approximate .* \(44 BC\)"),
    ],
)
def test_refused_with_a_reason(text: str, fragment: str) -> None:
    with pytest.raises(DateError, match=fragment):
        parse_date(text)


def test_date_order_settles_ambiguous_forms() -> None:
    assert parse_date("03/04/2023", "dmy").iso() == "2023-04-03"
    assert parse_date("03/04/2023", "mdy").iso() == "2023-03-04"
    with pytest.raises(DateError):
        parse_date("13/04/2023", "mdy")


def test_leap_years_follow_the_proleptic_gregorian_calendar() -> None:
    assert parse_date("2000-02-29").day == 29
    assert parse_date("2024-02-29").day == 29
    with pytest.raises(DateError):
        parse_date("1900-02-29")
    # 45 BC is astronomical year -44, divisible by 4: a leap year.
    assert parse_date("-0045-02-29").display() == "29 February 45 BC"


def test_days_from_civil_agrees_with_python_where_python_reaches() -> None:
    for day in (pydate(1, 1, 1), pydate(1970, 1, 1), pydate(2023, 10, 23), pydate(9999, 12, 31)):
        expected = (day - pydate(1970, 1, 1)).days
        assert days_from_civil(day.year, day.month, day.day) == expected


def test_bc_years_are_historical_numbering() -> None:
    one_bc = parse_date("-0001-12-31")
    ad_one = parse_date("0001-01-01")
    assert one_bc.astronomical_year == 0
    assert ad_one.start() - one_bc.start() == 86400


def test_offsets_sort_by_instant() -> None:
    early = parse_date("2023-10-23T12:00+02:00")  # 10:00 UTC
    late = parse_date("2023-10-23T11:00Z")
    assert early.start() < late.start()


def test_period_ends() -> None:
    sept = parse_date("2023-09")
    assert sept.stop() - sept.start() == 30 * 86400
    assert parse_date("2023").stop() == parse_date("2024").start()
    assert parse_date("2023-12").stop() == parse_date("2024-01").start()


@pytest.mark.parametrize(
    ("start", "end", "circa", "expected"),
    [
        ("2023-10-17", "2023-10-19", False, "17–19 October 2023"),
        ("2023-09-28", "2023-10-02", False, "28 September – 2 October 2023"),
        ("2022-04", "2023-10", True, "c. April 2022 – October 2023"),
        ("2023-04", "2023-10", False, "April – October 2023"),
        ("2012", "2023", True, "c. 2012 – 2023"),
        ("2022", None, True, "c. 2022"),
        ("-0050", "0020", False, "50 BC – AD 20"),
    ],
)
def test_ranges(start: str, end: str | None, circa: bool, expected: str) -> None:
    assert display_range(parse_date(start), parse_date(end) if end else None, circa) == expected


# Property tests ------------------------------------------------------------------------

years = st.integers(min_value=-9999, max_value=9999).filter(lambda y: y != 0)


@st.composite
def partial_dates(draw: st.DrawFn) -> PartialDate:
    precision = draw(st.sampled_from(list(Precision)))
    year = draw(years)
    if precision >= Precision.MINUTE:
        year = draw(st.integers(min_value=1000, max_value=9999))
    month = draw(st.integers(1, 12))
    day = draw(st.integers(1, 28))
    hour, minute, second = (
        draw(st.integers(0, 23)),
        draw(st.integers(0, 59)),
        draw(st.integers(0, 59)),
    )
    offset = draw(st.none() | st.integers(-14 * 60, 14 * 60).map(lambda m: m - m % 15))
    return make_date(
        year,
        month if precision >= Precision.MONTH else 1,
        day if precision >= Precision.DAY else 1,
        hour if precision >= Precision.MINUTE else 0,
        minute if precision >= Precision.MINUTE else 0,
        second if precision is Precision.SECOND else 0,
        precision=precision,
        offset=offset if precision >= Precision.MINUTE else None,
    )


@given(partial_dates())
@settings(max_examples=400)
def test_display_reads_back_as_the_same_date(date: PartialDate) -> None:
    assert parse_date(date.display()) == date


@given(partial_dates())
@settings(max_examples=400)
def test_iso_reads_back_as_the_same_date(date: PartialDate) -> None:
    assert parse_date(date.iso()) == date


@given(partial_dates(), partial_dates())
def test_order_matches_calendar_order(a: PartialDate, b: PartialDate) -> None:
    if a.offset is None and b.offset is None:
        fields_a = (a.astronomical_year, a.month, a.day, a.hour, a.minute, a.second)
        fields_b = (b.astronomical_year, b.month, b.day, b.hour, b.minute, b.second)
        assert (a.start() < b.start()) == (fields_a < fields_b)
    assert a.start() < a.stop()


@given(st.text(max_size=60))
@settings(max_examples=1500)
def test_any_text_gives_a_date_or_a_date_error(text: str) -> None:
    with contextlib.suppress(DateError):
        parse_date(text)


@given(st.from_regex(r"[-+]?[0-9]{1,6}(-[0-9]{1,2}(-[0-9]{1,2}([T ][0-9]{2}:[0-9]{2})?)?)?"))
@settings(max_examples=800)
def test_iso_like_text_gives_a_date_or_a_date_error(text: str) -> None:
    with contextlib.suppress(DateError):
        parse_date(text)
