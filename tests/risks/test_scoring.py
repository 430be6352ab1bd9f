"""Scores, bands, levels as reports write them, the flag and the heat map: pure functions, no request."""
from __future__ import annotations

import pytest

from tracker.errors import RuleError
from tracker.rag import RagResult, Rag, Status
from tracker.risks import scoring
from tracker.risks.heatmap import heat_map
from tracker.risks.queries import flag_text
from tracker.risks.scoring import DEFAULT, DUNDEE_3X3, Matrix, Score, parse_level


@pytest.mark.parametrize("score,band", [(1, "Low"), (4, "Low"), (5, "Moderate"), (9, "Moderate"), (10, "High"),
                                        (16, "High"), (20, "Very high"), (25, "Very high")])
def test_default_five_by_five_bands(score, band):
    assert DEFAULT.band(score).name == band


@pytest.mark.parametrize("score,band", [(1, "Low"), (2, "Low"), (3, "Low"), (4, "Moderate"), (6, "Moderate"),
                                        (9, "High")])
def test_dundee_three_by_three_bands(score, band):
    assert DUNDEE_3X3.band(score).name == band


def test_describe_lists_the_scores_each_band_can_hold():
    assert DEFAULT.describe() == "5 x 5: Low 1-4, Moderate 5-9, High 10-16, Very high 20-25"
    assert DUNDEE_3X3.describe() == "3 x 3: Low 1-3, Moderate 4-6, High 9"


def test_scores_beyond_the_matrix_are_refused():
    assert DUNDEE_3X3.check(3, 2) == 6
    for bad in (0, 4, "3", True, None, 2.5):
        with pytest.raises(RuleError):
            DUNDEE_3X3.check(bad, 1)


@pytest.mark.parametrize("size,bands", [(1, [("Low", 1)]), (11, [("Low", 1)]), (3, []), (3, [("Low", 2)]),
                                        (3, [("Low", 1), ("High", 1)]), (3, [("Low", 1), ("High", 10)]),
                                        (3, [("", 1)]), (3, [("Low", 1), ("Moderate", 6), ("Mid", 4)])])
def test_bad_matrices_are_refused(size, bands):
    with pytest.raises(RuleError):
        Matrix.of(size, bands)


def test_bands_from_text():
    assert scoring.parse_bands("Low 1, Moderate 4; High: 9") == [("Low", 1, None), ("Moderate", 4, None),
                                                                  ("High", 9, None)]
    assert scoring.parse_bands("Low 1-3, Moderate 4–6, High 9") == [("Low", 1, 3), ("Moderate", 4, 6),
                                                                    ("High", 9, None)]
    with pytest.raises(RuleError):
        scoring.parse_bands("Low, High")


def test_the_dundee_report_level_is_read_into_its_parts():
    level = parse_level("Likelihood 3 x Impact 3 = Risk Scoring 9 (High Risk)")
    assert (level.likelihood, level.impact, level.score, level.band) == (3, 3, 9, "High")
    level = parse_level("Likelihood 2 x Impact 2 = Risk Scoring 4 (Moderate)")
    assert (level.score, level.band) == (4, "Moderate")
    assert parse_level("3 x 2").score == 6
    assert parse_level("likelihood 3 × impact 2").score == 6
    assert parse_level("high") is None
    with pytest.raises(RuleError, match="is 6"):
        parse_level("Likelihood 3 x Impact 2 = Risk Scoring 9 (High Risk)")


def test_movement():
    assert scoring.movement(9, 4) == "Down from 9"
    assert scoring.movement(4, 6) == "Up from 4"
    assert scoring.movement(4, 4) == "No change"
    assert scoring.movement(None, 4) == "New"


def _rag(days_overdue=0, rag=Rag.GREEN):
    return RagResult(rag, "x", days_overdue)


def test_flag_when_a_mitigating_action_is_overdue_or_at_risk():
    assert flag_text(4, [(Status.ON_TRACK, _rag()), (Status.ON_TRACK, _rag(12, Rag.RED))]) == \
        "residual 4 assumes 2 actions, 1 overdue"
    assert flag_text(6, [(Status.AT_RISK, _rag(0, Rag.AMBER))]) == "residual 6 assumes 1 action, 1 at risk"
    assert flag_text(6, [(Status.AT_RISK, _rag(3, Rag.RED)), (Status.AT_RISK, _rag())]) == \
        "residual 6 assumes 2 actions, 1 overdue, 1 at risk"
    assert flag_text(4, [(Status.ON_TRACK, _rag()), (Status.COMPLETE, _rag(0, Rag.BLUE))]) is None
    assert flag_text(4, []) is None


def test_heat_map_counts_and_table():
    chart = heat_map(DUNDEE_3X3, [Score(2, 2), Score(3, 2), Score(3, 2)], "Residual scores")
    assert chart.table == [(3, [0, 0, 0]), (2, [0, 1, 2]), (1, [0, 0, 0])]
    cell = next(c for c in chart.cells if (c.likelihood, c.impact) == (3, 2))
    assert cell.count == 2 and "score 6 (Moderate), 2 risks" in cell.label
    assert "2 at likelihood 3 x impact 2 (6, Moderate)" in chart.description
    assert len(chart.cells) == 9
