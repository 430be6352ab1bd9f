"""Pure rules: RAG against a target in both directions, direction of travel, breakdown totals, periods."""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from tracker.indicators.models import Dimension, Unit
from tracker.indicators.services import (
    BreakdownInput,
    IndicatorError,
    check_breakdowns,
    check_text,
    direction_of_travel,
    format_value,
    target_for,
    trend_periods,
    value_due_on,
)
from tracker.periods import Period
from tracker.rag import TARGET_TOLERANCE, Rag, against_target

D = dt.date


# -- RAG against target ---------------------------------------------------------


def test_higher_is_better_red_amber_green_with_reasons():
    assert against_target(412, 450, higher_is_better=True).text == "Red: 412 is 8% below the target of 450"
    assert against_target(430, 450, higher_is_better=True).text == "Amber: 430 is 4% below the target of 450"
    assert against_target(450, 450, higher_is_better=True).text == "Green: 450 meets the target of 450"
    assert against_target(462, 450, higher_is_better=True).text == "Green: 462 is 3% above the target of 450"


def test_lower_is_better_red_amber_green_with_reasons():
    assert against_target(120, 110, higher_is_better=False).text == "Red: 120 is 9% above the target of 110"
    assert against_target(113, 110, higher_is_better=False).text == "Amber: 113 is 3% above the target of 110"
    assert against_target(99, 110, higher_is_better=False).text == "Green: 99 is 10% below the target of 110"
    # A high value is good one way and bad the other.
    assert against_target(500, 450, higher_is_better=True).rag is Rag.GREEN
    assert against_target(500, 450, higher_is_better=False).rag is Rag.RED


def test_amber_tolerance_is_five_percent_of_the_target_inclusive():
    assert TARGET_TOLERANCE == 0.05
    assert against_target(95, 100, higher_is_better=True).rag is Rag.AMBER  # exactly 5% short
    assert against_target(94.9, 100, higher_is_better=True).rag is Rag.RED
    assert against_target(105, 100, higher_is_better=False).rag is Rag.AMBER
    assert against_target(105.1, 100, higher_is_better=False).rag is Rag.RED
    # Near the boundary the reason shows a decimal, so a red never reads "5% below".
    assert against_target(94.6, 100, higher_is_better=True).text == "Red: 94.6 is 5.4% below the target of 100"


def test_rag_suffix_zero_target_and_missing_figures():
    assert against_target(31.5, 35, higher_is_better=True, suffix="%").text == (
        "Red: 31.5% is 10% below the target of 35%")
    assert against_target(3, 0, higher_is_better=False).text == "Red: 3 is above the target of 0"
    assert against_target(None, 450, higher_is_better=True).rag is Rag.NONE
    assert against_target(400, None, higher_is_better=True).text == "Not rated: 400; no target set"
    assert against_target(449.8, 450, higher_is_better=True).reason == "449.8 is less than 1% below the target of 450"


def test_direction_of_travel_follows_which_way_is_better():
    assert direction_of_travel(400, 412, higher_is_better=True) == "Improving"
    assert direction_of_travel(400, 412, higher_is_better=False) == "Worsening"
    assert direction_of_travel(412, 412, higher_is_better=True) == "No change"
    assert direction_of_travel(None, 412, higher_is_better=True) == "Not enough data"


# -- breakdowns -------------------------------------------------------------------

LOC, PC = Dimension.LOCALITY, Dimension.PROTECTED_CHARACTERISTIC


def test_breakdown_parts_must_add_up_to_the_total_for_counts():
    parts = [BreakdownInput(LOC, "Coldside", 40), BreakdownInput(LOC, "Lochee", 60)]
    assert check_breakdowns(Unit.COUNT, 100, parts) == 100
    assert check_breakdowns(Unit.COUNT, None, parts) == 100  # blank total: the sum
    with pytest.raises(IndicatorError, match="locality breakdown adds up to 100, not the total of 110"):
        check_breakdowns(Unit.COUNT, 110, parts)
    both = parts + [BreakdownInput(PC, "Women", 70), BreakdownInput(PC, "Men", 30)]
    assert check_breakdowns(Unit.HOURS, None, both) == 100
    with pytest.raises(IndicatorError, match="do not add up to the same total"):
        check_breakdowns(Unit.COUNT, None, parts + [BreakdownInput(PC, "Women", 70)])


def test_breakdowns_of_percentages_do_not_add_up_but_need_a_total():
    parts = [BreakdownInput(LOC, "Coldside", 30.0), BreakdownInput(LOC, "Lochee", 34.0)]
    assert check_breakdowns(Unit.PERCENTAGE, 31.5, parts) == 31.5
    with pytest.raises(IndicatorError, match="Enter a value"):
        check_breakdowns(Unit.PERCENTAGE, None, parts)


def test_breakdown_names_must_be_given_and_distinct():
    with pytest.raises(IndicatorError, match="more than once"):
        check_breakdowns(Unit.COUNT, 2, [BreakdownInput(LOC, "Lochee", 1), BreakdownInput(LOC, "lochee", 1)])
    with pytest.raises(IndicatorError, match="Give a name"):
        check_breakdowns(Unit.COUNT, 1, [BreakdownInput(LOC, " ", 1)])


def test_formulas_in_text_are_refused():
    with pytest.raises(IndicatorError, match="formula"):
        check_text("=HYPERLINK(\"http://x\")", "note")
    assert check_text("  provisional  ", "note") == "provisional"
    assert format_value(1234.0, Unit.HOURS) == "1,234 hours"
    with pytest.raises(IndicatorError, match="formula"):
        check_text("-1+2", "note")  # the shared rule (tracker.cells), '-' included


def test_numbers_on_papers_are_rounded_half_up():
    """Mutation it catches: `round(value, 1)` (Python's half to even) in place of tracker.numbers.half_up:
    31.25 would print as 31.2%, where a committee paper (and Excel) shows 31.3%."""
    from tracker.rag import _number, _percent_of

    assert format_value(31.25, Unit.PERCENTAGE) == "31.3%"
    assert format_value(0.15, Unit.PERCENTAGE) == "0.2%"  # as typed, though the float is 0.1499...
    assert format_value(2.5, Unit.COUNT) == "2.5" and format_value(1234.05, Unit.COUNT) == "1,234.1"
    assert format_value(-31.25, Unit.PERCENTAGE) == "-31.3%"
    assert _number(72.25) == "72.3" and _number(412.0) == "412"
    assert _percent_of(0.125) == "13%" and _percent_of(0.0525) == "5.3%"


# -- periods ----------------------------------------------------------------------


def test_financial_year_quarters_and_biennial_survey_periods():
    q = Period.containing("quarterly", D(2025, 2, 14))
    assert q.label == "Q4 2024/25" and (q.start, q.end) == (D(2025, 1, 1), D(2025, 3, 31))
    assert q.next().label == "Q1 2025/26"
    survey = Period.containing("biennial", D(2024, 6, 1))
    assert survey.label == "2023-25" and (survey.start, survey.end) == (D(2023, 4, 1), D(2025, 3, 31))
    assert survey.next().label == "2025-27"
    with pytest.raises(ValueError, match="odd-numbered"):
        Period.parse("biennial", "2024-26")


def _indicator(frequency, starts_on, target=None, targets=()):
    return SimpleNamespace(frequency=frequency, starts_on=starts_on, target=target,
                           targets=[SimpleNamespace(financial_year=y, target=t) for y, t in targets],
                           first_period=Period.containing(frequency, starts_on))


def test_value_is_due_twenty_working_days_after_the_period_ends():
    # Q2 2024/25 ends Monday 30 September 2024; 20 working days later (no Scottish holidays in October).
    assert value_due_on(Period.parse("quarterly", "Q2 2024/25")) == D(2024, 10, 28)
    # Q3 ends 31 December: Christmas week and 1-2 January are not working days in Scotland.
    assert value_due_on(Period.parse("quarterly", "Q3 2024/25")) == D(2025, 1, 30)


def test_yearly_target_overrides_the_standing_target_for_its_financial_year():
    indicator = _indicator("quarterly", D(2023, 4, 1), target=400, targets=[(2024, 450)])
    assert target_for(indicator, Period.parse("quarterly", "Q4 2023/24")) == 400
    assert target_for(indicator, Period.parse("quarterly", "Q1 2024/25")) == 450
    assert target_for(indicator, Period.parse("quarterly", "Q4 2024/25")) == 450  # January 2025: still 2024/25


def test_trend_shows_last_eight_periods_not_before_the_first():
    quarterly = _indicator("quarterly", D(2022, 4, 1))
    periods = trend_periods(quarterly, {}, D(2024, 11, 20))
    assert periods[-1].label == "Q2 2024/25" and len(periods) == 8 and periods[0].label == "Q3 2022/23"
    survey = _indicator("biennial", D(2021, 4, 1))
    assert [p.label for p in trend_periods(survey, {}, D(2026, 11, 22))] == ["2021-23", "2023-25"]


@pytest.mark.parametrize("size, shown", [
    (None, "0 bytes"), (0, "0 bytes"), (1, "1 byte"), (193, "193 bytes"), (1023, "1,023 bytes"),
    (1024, "1 KB"), (1536, "2 KB"), (524_287, "512 KB"), (1024 * 1024, "1 MB"), (2_516_582, "2.4 MB"),
])
def test_file_sizes_read_plainly_and_a_small_file_is_never_0_kb(size, shown):
    from tracker.numbers import file_size

    assert file_size(size) == shown
