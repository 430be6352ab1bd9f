"""Tests for tracker.periods: pure date arithmetic, no app or fixtures."""

from __future__ import annotations

import datetime as dt

import pytest

from tracker.periods import (
    FREQUENCIES,
    FinancialQuarter,
    Period,
    add_working_days,
    bank_holiday_name,
    financial_year_end,
    financial_year_label,
    financial_year_of,
    financial_year_start,
    is_working_day,
    next_working_day,
    parse_financial_year,
    periods_between,
    previous_working_day,
    scottish_bank_holidays,
    working_days_before,
)

pytestmark = pytest.mark.filterwarnings("error")

D = dt.date


def every_day(start: dt.date, end: dt.date):
    d = start
    while d <= end:
        yield d
        d += dt.timedelta(days=1)


# -- financial years ----------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "fy"),
    [
        (D(2023, 4, 1), 2023),
        (D(2024, 3, 31), 2023),
        (D(2024, 4, 1), 2024),
        (D(2024, 1, 1), 2023),
        (D(2023, 12, 31), 2023),
        (D(2024, 2, 29), 2023),
        (dt.datetime(2024, 3, 31, 23, 59), 2023),
    ],
)
def test_financial_year_of(day, fy):
    assert financial_year_of(day) == fy


@pytest.mark.parametrize(("year", "label"), [(2023, "2023/24"), (1999, "1999/00"), (2009, "2009/10"), (2099, "2099/00")])
def test_financial_year_label(year, label):
    assert financial_year_label(year) == label


def test_financial_year_bounds():
    assert financial_year_start(2023) == D(2023, 4, 1)
    assert financial_year_end(2023) == D(2024, 3, 31)


@pytest.mark.parametrize("text", ["2023/24", "2023-24", "2023/2024", "FY 23/24", "fy2023-24", " 2023 / 24 ", "Financial year 2023/24"])
def test_parse_financial_year(text):
    assert parse_financial_year(text) == 2023


@pytest.mark.parametrize("text", ["2023", "2023/25", "2024/23", "FY2024", "twenty23", ""])
def test_parse_financial_year_rejects(text):
    with pytest.raises(ValueError, match="financial year"):
        parse_financial_year(text)


# -- financial quarters ---------------------------------------------------------


@pytest.mark.parametrize(
    ("q", "start", "end"),
    [
        (1, D(2023, 4, 1), D(2023, 6, 30)),
        (2, D(2023, 7, 1), D(2023, 9, 30)),
        (3, D(2023, 10, 1), D(2023, 12, 31)),
        (4, D(2024, 1, 1), D(2024, 3, 31)),
    ],
)
def test_quarter_bounds(q, start, end):
    fq = FinancialQuarter(2023, q)
    assert (fq.start, fq.end) == (start, end)
    assert fq.label == f"Q{q} 2023/24"
    assert str(fq) == fq.label
    assert fq.financial_year_label == "2023/24"


def test_quarter_previous_and_next_wrap_years():
    assert FinancialQuarter(2023, 1).previous() == FinancialQuarter(2022, 4)
    assert FinancialQuarter(2023, 4).next() == FinancialQuarter(2024, 1)
    assert FinancialQuarter(2023, 2).next().previous() == FinancialQuarter(2023, 2)


def test_quarters_tile_the_calendar():
    q = FinancialQuarter(2019, 1)
    for _ in range(40):
        assert q.next().start == q.end + dt.timedelta(days=1)
        q = q.next()


def test_quarter_containing_every_day():
    for d in every_day(D(2023, 1, 1), D(2025, 12, 31)):
        q = FinancialQuarter.containing(d)
        assert q.start <= d <= q.end
        assert q.contains(d)
        assert q.year == financial_year_of(d)


def test_quarter_containing_accepts_datetime():
    assert FinancialQuarter.containing(dt.datetime(2024, 1, 15, 12)) == FinancialQuarter(2023, 4)


def test_quarters_sort_chronologically_and_hash():
    qs = [FinancialQuarter(2024, 1), FinancialQuarter(2023, 4), FinancialQuarter(2023, 1)]
    assert sorted(qs) == [FinancialQuarter(2023, 1), FinancialQuarter(2023, 4), FinancialQuarter(2024, 1)]
    assert FinancialQuarter(2023, 4) < FinancialQuarter(2024, 1)
    assert len({FinancialQuarter(2023, 1), FinancialQuarter(2023, 1)}) == 1


@pytest.mark.parametrize(
    "text",
    ["Q2 2023/24", "Q2 2023-24", "2023/24 Q2", "q2 23/24", "Q2 2023/2024", "Quarter 2 2023/24", " q2  2023/24 ", "2023-24 Q2", "Q2 FY 2023/24"],
)
def test_quarter_parse(text):
    assert FinancialQuarter.parse(text) == FinancialQuarter(2023, 2)


@pytest.mark.parametrize("text", ["Q5 2023/24", "Q0 2023/24", "Q2 2023/25", "Q2", "2023/24", "Q2 2023", "second quarter", ""])
def test_quarter_parse_rejects_with_plain_message(text):
    with pytest.raises(ValueError, match=r"Could not read .* as a financial quarter.*Q2 2023/24"):
        FinancialQuarter.parse(text)


def test_quarter_rejects_bad_numbers():
    with pytest.raises(ValueError):
        FinancialQuarter(2023, 5)
    with pytest.raises(ValueError):
        FinancialQuarter(2023, 0)
    with pytest.raises(TypeError):
        FinancialQuarter(2023.5, 1)  # type: ignore[arg-type]


def test_quarter_label_roundtrip():
    q = FinancialQuarter(2015, 1)
    for _ in range(50):
        assert FinancialQuarter.parse(q.label) == q
        q = q.next()


# -- Scottish working days ------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "name_part"),
    [
        (D(2024, 1, 1), "New Year"),
        (D(2024, 1, 2), "New Year"),  # 2 January is a Scottish bank holiday
        (D(2023, 1, 2), "New Year"),
        (D(2023, 1, 3), "New Year"),  # substitute: 1 Jan 2023 was a Sunday
        (D(2024, 3, 29), "Good Friday"),
        (D(2024, 5, 6), "May Day"),
        (D(2024, 5, 27), "Spring"),
        (D(2024, 8, 5), "Summer"),  # first Monday of August
        (D(2023, 8, 7), "Summer"),
        (D(2025, 8, 4), "Summer"),
        (D(2023, 11, 30), "Andrew"),  # St Andrew's Day on a Thursday
        (D(2024, 12, 2), "Andrew"),  # 30 Nov 2024 was a Saturday: Monday substitute
        (D(2025, 12, 1), "Andrew"),  # 30 Nov 2025 is a Sunday: Monday substitute
        (D(2026, 11, 30), "Andrew"),
        (D(2024, 12, 25), "Christmas"),
        (D(2024, 12, 26), "Boxing"),
        (D(2022, 12, 27), "Christmas"),  # substitute for Sunday 25 Dec 2022
        (D(2023, 5, 8), "Coronation"),  # one-off holiday from the package
    ],
)
def test_scottish_bank_holidays_are_not_working_days(day, name_part):
    assert day.weekday() < 5
    assert not is_working_day(day)
    assert name_part.lower() in bank_holiday_name(day).lower()


@pytest.mark.parametrize(
    "day",
    [
        D(2024, 4, 1),  # Easter Monday: not a bank holiday in Scotland
        D(2025, 4, 21),  # Easter Monday
        D(2024, 8, 26),  # last Monday of August: England only
        D(2024, 3, 28),
        D(2024, 12, 24),
        D(2024, 12, 31),
        D(2024, 11, 29),
    ],
)
def test_ordinary_weekdays_are_working_days(day):
    assert day.weekday() < 5
    assert is_working_day(day)
    assert bank_holiday_name(day) is None


def test_weekends_are_not_working_days():
    for d in every_day(D(2024, 1, 1), D(2024, 12, 31)):
        if d.weekday() >= 5:
            assert not is_working_day(d)


def test_scottish_bank_holidays_list_includes_weekend_day_and_substitute():
    days = scottish_bank_holidays(2024)
    assert D(2024, 11, 30) in days  # Saturday itself
    assert D(2024, 12, 2) in days  # substitute
    assert D(2024, 4, 1) not in days
    days.clear()  # a copy: the cache is unaffected
    assert D(2024, 12, 2) in scottish_bank_holidays(2024)


def test_working_day_count_2024():
    assert sum(is_working_day(d) for d in every_day(D(2024, 1, 1), D(2024, 12, 31))) == 262 - 9


def test_is_working_day_accepts_datetime():
    assert not is_working_day(dt.datetime(2024, 12, 25, 10, 0))
    assert is_working_day(dt.datetime(2024, 12, 24, 10, 0))


@pytest.mark.parametrize(
    ("meeting", "n", "due"),
    [
        (D(2024, 3, 14), 10, D(2024, 2, 29)),  # Thursday, no holidays between
        (D(2024, 12, 12), 10, D(2024, 11, 27)),  # skips St Andrew's substitute 2 Dec
        (D(2025, 1, 9), 5, D(2024, 12, 31)),  # skips 25, 26 Dec and 1, 2 Jan
        (D(2024, 4, 4), 5, D(2024, 3, 27)),  # skips Good Friday, not Easter Monday
        (D(2024, 3, 18), 1, D(2024, 3, 15)),  # Monday -> previous Friday
        (D(2024, 3, 14), 0, D(2024, 3, 14)),
        (D(2024, 3, 17), 1, D(2024, 3, 15)),  # from a Sunday
    ],
)
def test_working_days_before(meeting, n, due):
    assert working_days_before(meeting, n) == due


def test_working_days_before_rejects_negative():
    with pytest.raises(ValueError):
        working_days_before(D(2024, 3, 14), -1)


@pytest.mark.parametrize(
    ("start", "n", "result"),
    [
        (D(2024, 11, 28), 2, D(2024, 12, 3)),
        (D(2024, 12, 24), 1, D(2024, 12, 27)),
        (D(2024, 12, 31), 1, D(2025, 1, 3)),
        (D(2024, 3, 16), 1, D(2024, 3, 18)),  # Saturday -> Monday
        (D(2024, 3, 28), 1, D(2024, 4, 1)),  # over Good Friday to Easter Monday
        (D(2024, 3, 14), 0, D(2024, 3, 14)),
        (D(2024, 12, 3), -2, D(2024, 11, 28)),
    ],
)
def test_add_working_days(start, n, result):
    assert add_working_days(start, n) == result


def test_add_working_days_roundtrip():
    d = D(2023, 1, 4)
    for n in range(1, 40):
        assert add_working_days(add_working_days(d, n), -n) == d


def test_next_and_previous_working_day():
    assert next_working_day(D(2024, 12, 24)) == D(2024, 12, 27)
    assert next_working_day(D(2024, 12, 24), inclusive=True) == D(2024, 12, 24)
    assert next_working_day(D(2024, 12, 25), inclusive=True) == D(2024, 12, 27)
    assert next_working_day(D(2024, 11, 30), inclusive=True) == D(2024, 12, 3)
    assert previous_working_day(D(2025, 1, 3)) == D(2024, 12, 31)
    assert previous_working_day(D(2025, 1, 2), inclusive=True) == D(2024, 12, 31)
    assert previous_working_day(D(2025, 1, 3), inclusive=True) == D(2025, 1, 3)


def test_working_day_functions_return_plain_dates():
    result = add_working_days(dt.datetime(2024, 3, 14, 9, 0), 1)
    assert type(result) is dt.date


# -- indicator periods ----------------------------------------------------------


@pytest.mark.parametrize(
    ("frequency", "day", "label", "start", "end"),
    [
        ("monthly", D(2024, 5, 15), "May 2024", D(2024, 5, 1), D(2024, 5, 31)),
        ("monthly", D(2024, 2, 10), "February 2024", D(2024, 2, 1), D(2024, 2, 29)),
        ("monthly", D(2023, 12, 31), "December 2023", D(2023, 12, 1), D(2023, 12, 31)),
        ("quarterly", D(2024, 5, 15), "Q1 2024/25", D(2024, 4, 1), D(2024, 6, 30)),
        ("quarterly", D(2024, 3, 31), "Q4 2023/24", D(2024, 1, 1), D(2024, 3, 31)),
        ("annual", D(2024, 5, 15), "2024/25", D(2024, 4, 1), D(2025, 3, 31)),
        ("annual", D(2024, 3, 31), "2023/24", D(2023, 4, 1), D(2024, 3, 31)),
        ("biennial", D(2024, 5, 15), "2023-25", D(2023, 4, 1), D(2025, 3, 31)),
        ("biennial", D(2023, 4, 1), "2023-25", D(2023, 4, 1), D(2025, 3, 31)),
        ("biennial", D(2023, 3, 31), "2021-23", D(2021, 4, 1), D(2023, 3, 31)),
        ("biennial", D(2025, 4, 1), "2025-27", D(2025, 4, 1), D(2027, 3, 31)),
        ("biennial", D(2099, 6, 1), "2099-01", D(2099, 4, 1), D(2101, 3, 31)),
    ],
)
def test_period_containing(frequency, day, label, start, end):
    p = Period.containing(frequency, day)
    assert (p.label, p.start, p.end, p.frequency) == (label, start, end, frequency)
    assert str(p) == label
    assert p.contains(day)


@pytest.mark.parametrize("frequency", FREQUENCIES)
def test_periods_tile_and_roundtrip(frequency):
    p = Period.containing(frequency, D(2015, 6, 1))
    for _ in range(40):
        nxt = p.next()
        assert nxt.start == p.end + dt.timedelta(days=1)
        assert nxt.previous() == p
        assert Period.parse(frequency, p.label) == p
        p = nxt


@pytest.mark.parametrize("frequency", FREQUENCIES)
def test_period_containing_every_day(frequency):
    for d in every_day(D(2022, 1, 1), D(2026, 12, 31)):
        p = Period.containing(frequency, d)
        assert p.start <= d <= p.end


@pytest.mark.parametrize(
    ("frequency", "label", "start"),
    [
        ("monthly", "May 2024", D(2024, 5, 1)),
        ("monthly", "may 2024", D(2024, 5, 1)),
        ("monthly", "Sept 2024", D(2024, 9, 1)),
        ("monthly", "2024-05", D(2024, 5, 1)),
        ("quarterly", "Q1 2024/25", D(2024, 4, 1)),
        ("quarterly", "2024-25 Q4", D(2025, 1, 1)),
        ("annual", "2024/25", D(2024, 4, 1)),
        ("annual", "2024-2025", D(2024, 4, 1)),
        ("annual", "FY 24/25", D(2024, 4, 1)),
        ("biennial", "2023-25", D(2023, 4, 1)),
        ("biennial", "2023/25", D(2023, 4, 1)),
        ("biennial", "2023-2025", D(2023, 4, 1)),
        ("biennial", "2023/24-2024/25", D(2023, 4, 1)),
        ("Quarterly", "Q1 2024/25", D(2024, 4, 1)),  # frequency is case-insensitive
        ("yearly", "2024/25", D(2024, 4, 1)),  # alias
    ],
)
def test_period_parse(frequency, label, start):
    assert Period.parse(frequency, label).start == start


@pytest.mark.parametrize(
    ("frequency", "label"),
    [
        ("monthly", "Maytember 2024"),
        ("monthly", "2024-13"),
        ("monthly", "Q1 2024/25"),
        ("quarterly", "May 2024"),
        ("annual", "2024"),
        ("annual", "2024/26"),
        ("biennial", "2024-26"),  # even start: not on the survey cycle
        ("biennial", "2023-24"),
        ("biennial", "2023/24-2025/26"),
    ],
)
def test_period_parse_rejects(frequency, label):
    with pytest.raises(ValueError):
        Period.parse(frequency, label)


def test_biennial_even_start_explains_cycle():
    with pytest.raises(ValueError, match="odd-numbered"):
        Period.parse("biennial", "2024-26")


def test_unknown_frequency():
    with pytest.raises(ValueError, match="Unknown frequency"):
        Period.containing("fortnightly", D(2024, 1, 1))


def test_period_constructor_validates_start():
    assert Period("monthly", D(2024, 5, 1)).end == D(2024, 5, 31)
    assert Period("quarterly", D(2024, 1, 1)).label == "Q4 2023/24"
    with pytest.raises(ValueError, match="not the first day"):
        Period("monthly", D(2024, 5, 2))
    with pytest.raises(ValueError):
        Period("quarterly", D(2024, 2, 1))
    with pytest.raises(ValueError):
        Period("annual", D(2024, 1, 1))
    with pytest.raises(ValueError):
        Period("biennial", D(2024, 4, 1))


def test_period_frequency_is_canonicalised():
    assert Period("Month", D(2024, 5, 1)).frequency == "monthly"
    assert Period("Month", D(2024, 5, 1)) == Period("monthly", D(2024, 5, 1))


def test_periods_sort_and_hash():
    ps = [Period.containing("quarterly", d) for d in (D(2024, 7, 1), D(2023, 1, 1), D(2024, 4, 1))]
    assert [p.label for p in sorted(ps)] == ["Q4 2022/23", "Q1 2024/25", "Q2 2024/25"]
    assert len({Period.containing("annual", D(2024, 5, 1)), Period.parse("annual", "2024/25")}) == 1


@pytest.mark.parametrize(
    ("frequency", "start", "end", "labels"),
    [
        ("monthly", D(2024, 1, 15), D(2024, 4, 1), ["January 2024", "February 2024", "March 2024", "April 2024"]),
        ("quarterly", D(2023, 3, 1), D(2024, 1, 1), ["Q4 2022/23", "Q1 2023/24", "Q2 2023/24", "Q3 2023/24", "Q4 2023/24"]),
        ("annual", D(2022, 4, 1), D(2024, 3, 31), ["2022/23", "2023/24"]),
        ("annual", D(2024, 1, 1), D(2024, 1, 1), ["2023/24"]),
        ("biennial", D(2021, 1, 1), D(2025, 4, 1), ["2019-21", "2021-23", "2023-25", "2025-27"]),
        ("monthly", D(2024, 5, 1), D(2024, 4, 30), []),
    ],
)
def test_periods_between(frequency, start, end, labels):
    assert [p.label for p in periods_between(frequency, start, end)] == labels


def test_periods_between_covers_the_range_without_gaps():
    for frequency in FREQUENCIES:
        ps = periods_between(frequency, D(2020, 2, 14), D(2026, 8, 9))
        assert ps[0].contains(D(2020, 2, 14))
        assert ps[-1].contains(D(2026, 8, 9))
        for a, b in zip(ps, ps[1:]):
            assert b.start == a.end + dt.timedelta(days=1)
