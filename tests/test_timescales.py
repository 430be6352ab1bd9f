"""Tests for tracker.timescales: pure, no app or fixtures needed."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from tracker.timescales import (
    DATED,
    KINDS,
    ONGOING,
    STATUS_CODES,
    UNKNOWN,
    Timescale,
    due_date,
    interpret,
)

pytestmark = pytest.mark.filterwarnings("error")

D = dt.date

# (text, start, end) for phrases that name a window.
DATED_CASES = [
    # months
    ("March 2023", D(2023, 3, 1), D(2023, 3, 31)),
    ("Mar 2023", D(2023, 3, 1), D(2023, 3, 31)),
    ("march 2023", D(2023, 3, 1), D(2023, 3, 31)),
    ("  MARCH   2023  ", D(2023, 3, 1), D(2023, 3, 31)),
    ("Sept 2024", D(2024, 9, 1), D(2024, 9, 30)),
    ("Sep 2024", D(2024, 9, 1), D(2024, 9, 30)),
    ("Sept. 2024", D(2024, 9, 1), D(2024, 9, 30)),
    ("September 2024", D(2024, 9, 1), D(2024, 9, 30)),
    ("June 2023", D(2023, 6, 1), D(2023, 6, 30)),
    ("Jun 2023", D(2023, 6, 1), D(2023, 6, 30)),
    ("July 2023", D(2023, 7, 1), D(2023, 7, 31)),
    ("Mar 23", D(2023, 3, 1), D(2023, 3, 31)),
    ("Mar '23", D(2023, 3, 1), D(2023, 3, 31)),
    ("Mar-24", D(2024, 3, 1), D(2024, 3, 31)),
    ("December, 2023", D(2023, 12, 1), D(2023, 12, 31)),
    ("Feb 2024", D(2024, 2, 1), D(2024, 2, 29)),
    ("Feb 2023", D(2023, 2, 1), D(2023, 2, 28)),
    ("03/2024", D(2024, 3, 1), D(2024, 3, 31)),
    ("2024-03", D(2024, 3, 1), D(2024, 3, 31)),
    ("March 2023.", D(2023, 3, 1), D(2023, 3, 31)),
    ("March 2023;", D(2023, 3, 1), D(2023, 3, 31)),
    ("(March 2023)", D(2023, 3, 1), D(2023, 3, 31)),
    # filler words
    ("By end of December 2023", D(2023, 12, 1), D(2023, 12, 31)),
    ("by the end of December 2023", D(2023, 12, 1), D(2023, 12, 31)),
    ("end Sept 2024", D(2024, 9, 1), D(2024, 9, 30)),
    ("End-Sept 2024", D(2024, 9, 1), D(2024, 9, 30)),
    ("by March 2023", D(2023, 3, 1), D(2023, 3, 31)),
    ("Before March 2024.", D(2024, 3, 1), D(2024, 3, 31)),
    ("No later than 30th June 2024", D(2024, 6, 30), D(2024, 6, 30)),
    ("Due: March 2024", D(2024, 3, 1), D(2024, 3, 31)),
    ("Target date - June 2024", D(2024, 6, 1), D(2024, 6, 30)),
    ("March 2024 at the latest", D(2024, 3, 1), D(2024, 3, 31)),
    ("March 2024 (revised)", D(2024, 3, 1), D(2024, 3, 31)),
    ("March 2024 TBC", D(2024, 3, 1), D(2024, 3, 31)),
    ("Revised: Sept 2024", D(2024, 9, 1), D(2024, 9, 30)),
    ("by 31st Mar 24", D(2024, 3, 31), D(2024, 3, 31)),
    ("Sept/Oct 2024", D(2024, 9, 1), D(2024, 10, 31)),
    ("Spring 2025 - Summer 2025", D(2025, 3, 1), D(2025, 8, 31)),
    ("w/c 4 March 2024", D(2024, 3, 4), D(2024, 3, 4)),
    ("Complete by March 2024", D(2024, 3, 1), D(2024, 3, 31)),
    ("To be completed by 31/03/2025", D(2025, 3, 31), D(2025, 3, 31)),
    ("Within 2024/25", D(2024, 4, 1), D(2025, 3, 31)),
    ("During 2024", D(2024, 1, 1), D(2024, 12, 31)),
    # seasons (meteorological)
    ("Autumn 2022", D(2022, 9, 1), D(2022, 11, 30)),
    ("Spring 2024", D(2024, 3, 1), D(2024, 5, 31)),
    ("Summer 2023", D(2023, 6, 1), D(2023, 8, 31)),
    ("Winter 2022", D(2022, 12, 1), D(2023, 2, 28)),
    ("Winter 2022/23", D(2022, 12, 1), D(2023, 2, 28)),
    ("Winter 2022-23", D(2022, 12, 1), D(2023, 2, 28)),
    ("Winter 2023", D(2023, 12, 1), D(2024, 2, 29)),
    ("Autumn 2022/23", D(2022, 9, 1), D(2022, 11, 30)),
    ("Fall 2023", D(2023, 9, 1), D(2023, 11, 30)),
    ("by Autumn 2022", D(2022, 9, 1), D(2022, 11, 30)),
    # quarters and halves
    ("Q3 2023/24", D(2023, 10, 1), D(2023, 12, 31)),
    ("Q4 2023-24", D(2024, 1, 1), D(2024, 3, 31)),
    ("Q1 2024/25", D(2024, 4, 1), D(2024, 6, 30)),
    ("Q2 23/24", D(2023, 7, 1), D(2023, 9, 30)),
    ("q2 FY23/24", D(2023, 7, 1), D(2023, 9, 30)),
    ("Quarter 3 2023/24", D(2023, 10, 1), D(2023, 12, 31)),
    ("3rd quarter of 2023/24", D(2023, 10, 1), D(2023, 12, 31)),
    ("2023/24 Q4", D(2024, 1, 1), D(2024, 3, 31)),
    ("end of Q3 2023/24", D(2023, 10, 1), D(2023, 12, 31)),
    ("Q1 2024", D(2024, 1, 1), D(2024, 3, 31)),
    ("Q4 2024", D(2024, 10, 1), D(2024, 12, 31)),
    ("2024 Q2", D(2024, 4, 1), D(2024, 6, 30)),
    ("H1 2024/25", D(2024, 4, 1), D(2024, 9, 30)),
    ("H2 2024/25", D(2024, 10, 1), D(2025, 3, 31)),
    ("H2 2024", D(2024, 7, 1), D(2024, 12, 31)),
    ("first half of 2024", D(2024, 1, 1), D(2024, 6, 30)),
    # financial and calendar years
    ("2022/23", D(2022, 4, 1), D(2023, 3, 31)),
    ("2024-25", D(2024, 4, 1), D(2025, 3, 31)),
    ("2022-2023", D(2022, 4, 1), D(2023, 3, 31)),
    ("2022/2023", D(2022, 4, 1), D(2023, 3, 31)),
    ("2022 - 2023", D(2022, 4, 1), D(2023, 3, 31)),
    ("FY 2023/24", D(2023, 4, 1), D(2024, 3, 31)),
    ("FY23/24", D(2023, 4, 1), D(2024, 3, 31)),
    ("Financial year 2023-24", D(2023, 4, 1), D(2024, 3, 31)),
    ("23/24", D(2023, 4, 1), D(2024, 3, 31)),
    ("2099/00", D(2099, 4, 1), D(2100, 3, 31)),
    ("2023-25", D(2023, 4, 1), D(2025, 3, 31)),
    ("2023/25", D(2023, 4, 1), D(2025, 3, 31)),
    ("2023-2025", D(2023, 1, 1), D(2025, 12, 31)),
    ("2023 to 2025", D(2023, 1, 1), D(2025, 12, 31)),
    ("2022 to 2023", D(2022, 1, 1), D(2023, 12, 31)),
    ("2023", D(2023, 1, 1), D(2023, 12, 31)),
    ("by 2025", D(2025, 1, 1), D(2025, 12, 31)),
    ("Calendar year 2023", D(2023, 1, 1), D(2023, 12, 31)),
    ("end of 2024", D(2024, 1, 1), D(2024, 12, 31)),
    ("early 2024", D(2024, 1, 1), D(2024, 4, 30)),
    ("mid 2024", D(2024, 5, 1), D(2024, 8, 31)),
    ("mid-2024", D(2024, 5, 1), D(2024, 8, 31)),
    ("late 2024", D(2024, 9, 1), D(2024, 12, 31)),
    ("beginning of 2025", D(2025, 1, 1), D(2025, 4, 30)),
    ("early March 2024", D(2024, 3, 1), D(2024, 3, 10)),
    ("mid-March 2024", D(2024, 3, 11), D(2024, 3, 20)),
    ("late Feb 2024", D(2024, 2, 21), D(2024, 2, 29)),
    # exact days (day first)
    ("31/03/2024", D(2024, 3, 31), D(2024, 3, 31)),
    ("31.3.24", D(2024, 3, 31), D(2024, 3, 31)),
    ("31-03-2024", D(2024, 3, 31), D(2024, 3, 31)),
    ("01/04/24", D(2024, 4, 1), D(2024, 4, 1)),
    ("1/4/2024", D(2024, 4, 1), D(2024, 4, 1)),
    ("1 April 2024", D(2024, 4, 1), D(2024, 4, 1)),
    ("1st April 2024", D(2024, 4, 1), D(2024, 4, 1)),
    ("31st March 2024", D(2024, 3, 31), D(2024, 3, 31)),
    ("31st of March 2024", D(2024, 3, 31), D(2024, 3, 31)),
    ("Friday 29 March 2024", D(2024, 3, 29), D(2024, 3, 29)),
    ("1-Apr-24", D(2024, 4, 1), D(2024, 4, 1)),
    ("March 31st, 2024", D(2024, 3, 31), D(2024, 3, 31)),
    ("2024-03-31", D(2024, 3, 31), D(2024, 3, 31)),
    ("2024/03/31", D(2024, 3, 31), D(2024, 3, 31)),
    ("29/02/2024", D(2024, 2, 29), D(2024, 2, 29)),
    # ranges
    ("April 2023 - March 2024", D(2023, 4, 1), D(2024, 3, 31)),
    ("April 2023 \u2013 March 2024", D(2023, 4, 1), D(2024, 3, 31)),
    ("April 2023 to March 2024", D(2023, 4, 1), D(2024, 3, 31)),
    ("from April 2023 to end of March 2024", D(2023, 4, 1), D(2024, 3, 31)),
    ("between April and June 2024", D(2024, 4, 1), D(2024, 6, 30)),
    ("Jan-Mar 2024", D(2024, 1, 1), D(2024, 3, 31)),
    ("Nov - Feb 2024", D(2023, 11, 1), D(2024, 2, 29)),
    ("April 2023 - March", D(2023, 4, 1), D(2024, 3, 31)),
    ("Autumn/Winter 2023", D(2023, 9, 1), D(2024, 2, 29)),
    ("Q1 2023/24 - Q2 2024/25", D(2023, 4, 1), D(2024, 9, 30)),
    ("2023/24 - 2024/25", D(2023, 4, 1), D(2025, 3, 31)),
    ("1/4/2024 - 30/6/2024", D(2024, 4, 1), D(2024, 6, 30)),
    ("Mar 23 - Jun 23", D(2023, 3, 1), D(2023, 6, 30)),
]


@pytest.mark.parametrize(("text", "start", "end"), DATED_CASES, ids=[c[0] for c in DATED_CASES])
def test_dated_phrases(text, start, end):
    ts = interpret(text)
    assert (ts.kind, ts.start, ts.end) == (DATED, start, end)
    assert ts.text == text
    assert due_date(ts) == end == ts.due


def test_acceptance_autumn_2022_ends_30_november():
    assert interpret("Autumn 2022").end == D(2022, 11, 30)


ONGOING_CASES = [
    ("Ongoing", "ongoing"),
    ("ongoing", "ongoing"),
    ("ONGOING.", "ongoing"),
    ("On-going", "ongoing"),
    ("ongoing activity", "ongoing"),
    ("Ongoing/development work", "ongoing"),
    ("Ongoing Development and improvement", "ongoing"),
    ("Ongoing - reviewed annually", "ongoing"),
    ("In development", "on_track"),
    ("Development work", "on_track"),
    ("Development/improvement activity", "on_track"),
    ("Development activity", "on_track"),
    ("Development work/ Scottish Government funding 2022", "on_track"),
    ("In progress", "on_track"),
    ("Underway", "on_track"),
    ("Annually", "ongoing"),
    ("Quarterly", "ongoing"),
    ("Business as usual", "ongoing"),
    ("BAU", "ongoing"),
    ("Continuous", "ongoing"),
]


@pytest.mark.parametrize(("text", "hint"), ONGOING_CASES, ids=[c[0] for c in ONGOING_CASES])
def test_ongoing_phrases(text, hint):
    ts = interpret(text)
    assert (ts.kind, ts.start, ts.end, ts.status_hint) == (ONGOING, None, None, hint)
    assert due_date(ts) is None


UNKNOWN_CASES = [
    "TBC",
    "tbc",
    "TBA",
    "TBD",
    "",
    "   ",
    "N/A",
    "n/a",
    "-",
    "?",
    "when possible",
    "As soon as possible",
    "short term",
    "31/02/2024",
    "13/13/2023",
    "29/02/2023",
    "31 April 2024",
    "2024-02-30",
    "00/01/2024",
    "11/12",  # could be 11 December: never guessed as 2011/12
    "FY2024",  # which financial year? ambiguous
    "Spring 2022/23",  # spring straddles the financial year boundary
    "Q5 2023/24",
    "Q3 2023/25",
    "2024/2023",
    "2023-2023",
    "March",  # no year and no today=
    "next month",  # relative, no today=
    "within 6 months",
    "Year 1",
    "45382",  # an Excel serial written as text
    "3024",
    "Mar 2023 or June 2023 maybe",
    "Phase 1 by March 2024",
    "In line with SG timescales",
    "31 June 2024",
    "31.06.2024",
    "2024/03",
    "Q4",  # which year?
    "mid 2024/25",
    "FY 2023-2025",
    "3/24",
    "12",
]


@pytest.mark.parametrize("text", UNKNOWN_CASES)
def test_unknown_phrases(text):
    ts = interpret(text)
    assert ts.kind == UNKNOWN
    assert ts.start is None and ts.end is None
    assert ts.status_hint is None
    assert ts.text == text
    assert due_date(ts) is None


STATUS_CASES = [
    # text, kind, start, end, hint
    ("Complete", UNKNOWN, None, None, "complete"),
    ("Completed", UNKNOWN, None, None, "complete"),
    ("COMPLETED.", UNKNOWN, None, None, "complete"),
    ("Achieved", UNKNOWN, None, None, "complete"),
    ("Completed - March 2023", DATED, D(2023, 3, 1), D(2023, 3, 31), "complete"),
    ("Completed (Jan 2023)", DATED, D(2023, 1, 1), D(2023, 1, 31), "complete"),
    ("Completed in May 2022", DATED, D(2022, 5, 1), D(2022, 5, 31), "complete"),
    ("Not started", UNKNOWN, None, None, "not_started"),
    ("Not yet started - due March 2025", DATED, D(2025, 3, 1), D(2025, 3, 31), "not_started"),
    ("Delayed", UNKNOWN, None, None, "at_risk"),
    ("Delayed - revised to June 2024", DATED, D(2024, 6, 1), D(2024, 6, 30), "at_risk"),
    ("At risk", UNKNOWN, None, None, "at_risk"),
    ("On track", UNKNOWN, None, None, "on_track"),
    ("On track - March 2024", DATED, D(2024, 3, 1), D(2024, 3, 31), "on_track"),
    ("Monthly from April 2024", ONGOING, D(2024, 4, 1), None, "ongoing"),
    ("March 2024 and ongoing", ONGOING, D(2024, 3, 1), None, "ongoing"),
    ("Superseded", UNKNOWN, None, None, "superseded"),
    ("No longer required", UNKNOWN, None, None, "superseded"),
    ("Ongoing until March 2025", DATED, D(2025, 3, 1), D(2025, 3, 31), "ongoing"),
    ("Ongoing to end of 2024/25", DATED, D(2024, 4, 1), D(2025, 3, 31), "ongoing"),
    ("Ongoing 2023/24", DATED, D(2023, 4, 1), D(2024, 3, 31), "ongoing"),
    ("In development - Q4 2023/24", DATED, D(2024, 1, 1), D(2024, 3, 31), "on_track"),
    ("Ongoing since 2022", ONGOING, D(2022, 1, 1), None, "ongoing"),
    ("From April 2024", ONGOING, D(2024, 4, 1), None, None),
    ("Starting April 2024", ONGOING, D(2024, 4, 1), None, None),
    ("April 2024 onwards", ONGOING, D(2024, 4, 1), None, None),
    ("March 2024 - ongoing", ONGOING, D(2024, 3, 1), None, "ongoing"),
]


@pytest.mark.parametrize(("text", "kind", "start", "end", "hint"), STATUS_CASES, ids=[c[0] for c in STATUS_CASES])
def test_status_words(text, kind, start, end, hint):
    ts = interpret(text)
    assert (ts.kind, ts.start, ts.end, ts.status_hint) == (kind, start, end, hint)


# -- relative phrases resolved against today= --------------------------------

TODAY = D(2023, 10, 15)

RELATIVE_CASES = [
    ("next month", D(2023, 11, 1), D(2023, 11, 30)),
    ("this month", D(2023, 10, 1), D(2023, 10, 31)),
    ("end of the month", D(2023, 10, 1), D(2023, 10, 31)),
    ("this quarter", D(2023, 10, 1), D(2023, 12, 31)),
    ("next quarter", D(2024, 1, 1), D(2024, 3, 31)),
    ("end of financial year", D(2023, 4, 1), D(2024, 3, 31)),
    ("this financial year", D(2023, 4, 1), D(2024, 3, 31)),
    ("next financial year", D(2024, 4, 1), D(2025, 3, 31)),
    ("end of year", D(2023, 1, 1), D(2023, 12, 31)),
    ("next year", D(2024, 1, 1), D(2024, 12, 31)),
    ("within 6 months", TODAY, D(2024, 4, 15)),
    ("in six months' time", TODAY, D(2024, 4, 15)),
    ("12 months", TODAY, D(2024, 10, 15)),
    ("within 2 weeks", TODAY, D(2023, 10, 29)),
    ("30 days", TODAY, D(2023, 11, 14)),
    ("a year", TODAY, D(2024, 10, 15)),
    ("Immediately", TODAY, TODAY),
    ("by March", D(2024, 3, 1), D(2024, 3, 31)),
    ("October", D(2023, 10, 1), D(2023, 10, 31)),
    ("by end of September", D(2024, 9, 1), D(2024, 9, 30)),
    ("31st March", D(2024, 3, 31), D(2024, 3, 31)),
    ("Winter", D(2023, 12, 1), D(2024, 2, 29)),
    ("Summer", D(2024, 6, 1), D(2024, 8, 31)),
    # absolute phrases are unaffected by today
    ("March 2023", D(2023, 3, 1), D(2023, 3, 31)),
]


@pytest.mark.parametrize(("text", "start", "end"), RELATIVE_CASES, ids=[c[0] for c in RELATIVE_CASES])
def test_relative_phrases_use_today(text, start, end):
    ts = interpret(text, today=TODAY)
    assert (ts.kind, ts.start, ts.end) == (DATED, start, end)


def test_relative_phrases_unknown_without_today():
    for text, _, _ in RELATIVE_CASES[:-1]:
        assert interpret(text).kind == UNKNOWN, text


def test_today_may_be_a_datetime():
    ts = interpret("next month", today=dt.datetime(2023, 12, 20, 9, 30))
    assert (ts.start, ts.end) == (D(2024, 1, 1), D(2024, 1, 31))


def test_yearless_29_february_rolls_to_next_leap_year():
    ts = interpret("29 Feb", today=D(2023, 3, 1))
    assert (ts.start, ts.end) == (D(2024, 2, 29), D(2024, 2, 29))
    assert interpret("30 Feb", today=D(2023, 3, 1)).kind == UNKNOWN


def test_january_yearless_range_crosses_year():
    ts = interpret("Dec - Jan 2025")
    assert (ts.start, ts.end) == (D(2024, 12, 1), D(2025, 1, 31))


# -- non-string cells ---------------------------------------------------------


def test_none_is_unknown_with_empty_text():
    ts = interpret(None)
    assert ts == Timescale("", None, None, UNKNOWN, None)


def test_excel_datetime_cell():
    ts = interpret(dt.datetime(2024, 3, 31, 0, 0))
    assert (ts.kind, ts.start, ts.end, ts.text) == (DATED, D(2024, 3, 31), D(2024, 3, 31), "2024-03-31")


def test_excel_datetime_cell_with_time_keeps_time_in_text():
    ts = interpret(dt.datetime(2024, 3, 31, 17, 0))
    assert ts.end == D(2024, 3, 31)
    assert ts.text == "2024-03-31 17:00:00"


def test_excel_date_cell():
    ts = interpret(D(2023, 6, 30))
    assert (ts.kind, ts.start, ts.end, ts.text) == (DATED, D(2023, 6, 30), D(2023, 6, 30), "2023-06-30")


@pytest.mark.parametrize("value", [2023, 2023.0, Decimal("2023")])
def test_number_that_is_clearly_a_year(value):
    ts = interpret(value)
    assert (ts.kind, ts.start, ts.end, ts.text) == (DATED, D(2023, 1, 1), D(2023, 12, 31), "2023")


@pytest.mark.parametrize("value", [45382, 45382.0, 2023.5, 0, -1, 12, float("inf"), True, False])
def test_other_numbers_are_not_guessed(value):
    ts = interpret(value)
    assert ts.kind == UNKNOWN
    assert ts.start is None and ts.end is None


def test_nan_cell_is_blank():
    ts = interpret(float("nan"))
    assert ts.kind == UNKNOWN and ts.text == ""


def test_other_objects_use_their_string_form():
    class Cell:
        def __str__(self):
            return "Q3 2023/24"

    ts = interpret(Cell())
    assert (ts.kind, ts.start, ts.text) == (DATED, D(2023, 10, 1), "Q3 2023/24")


# -- general properties -------------------------------------------------------

ALL_TEXTS = (
    [c[0] for c in DATED_CASES]
    + [c[0] for c in ONGOING_CASES]
    + UNKNOWN_CASES
    + [c[0] for c in STATUS_CASES]
    + [c[0] for c in RELATIVE_CASES]
)


@pytest.mark.parametrize("today", [None, TODAY])
def test_invariants(today):
    for text in ALL_TEXTS:
        ts = interpret(text, today=today)
        assert ts.kind in KINDS, text
        assert ts.status_hint is None or ts.status_hint in STATUS_CODES, text
        if ts.kind == DATED:
            assert ts.start is not None and ts.end is not None, text
            assert ts.start <= ts.end, text
            assert isinstance(ts.start, dt.date) and not isinstance(ts.start, dt.datetime)
        elif ts.kind == ONGOING:
            assert ts.end is None, text
        else:
            assert ts.start is None and ts.end is None, text


def test_case_and_whitespace_insensitive():
    base = interpret("Q3 2023/24")
    for variant in ["q3 2023/24", " Q3  2023/24 ", "Q3\t2023/24", "Q3\u00a02023/24", "Q3 2023/24."]:
        ts = interpret(variant)
        assert (ts.kind, ts.start, ts.end) == (base.kind, base.start, base.end), variant
        assert ts.text == variant


def test_timescale_is_frozen():
    ts = interpret("March 2023")
    with pytest.raises(dataclasses.FrozenInstanceError):
        ts.end = D(2024, 1, 1)  # type: ignore[misc]


def test_repeated_text_is_cached():
    assert interpret("Winter 2023") is interpret("Winter 2023")


def test_results_are_hashable_and_comparable():
    assert interpret("March 2023") == Timescale("March 2023", D(2023, 3, 1), D(2023, 3, 31), DATED)
    assert len({interpret("March 2023"), interpret("March 2023")}) == 1


def test_due_date_helper():
    assert due_date(interpret("31/03/2024")) == D(2024, 3, 31)
    assert due_date(interpret("From April 2024")) is None
    assert due_date(interpret("Ongoing")) is None
    assert due_date(interpret("TBC")) is None
    assert interpret("March 2023").is_dated
    assert not interpret("Ongoing").is_dated
