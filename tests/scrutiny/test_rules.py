"""Grade schemes and statuses: the pure rules."""
from __future__ import annotations

import pytest

from tracker.errors import RuleError
from tracker.rag import Status
from tracker.scrutiny import rules
from tracker.scrutiny.rules import RecStatus


@pytest.mark.parametrize("text,expected", [
    ("Priority 1", 0), ("P1", 0), ("1", 0), ("priority 3", 2), ("2", 1), ("4", None), ("High", None), ("", None)])
def test_priority_scheme(text, expected):
    assert rules.match_grade(("Priority 1", "Priority 2", "Priority 3"), text) == expected


@pytest.mark.parametrize("text,expected", [("High", 0), ("h", 0), ("MEDIUM", 1), ("l", 2), ("1", 0),
                                           ("Critical", None)])
def test_high_medium_low_scheme(text, expected):
    assert rules.match_grade(("High", "Medium", "Low"), text) == expected


def test_parse_grades_refuses_duplicates_one_grade_and_control_characters():
    assert rules.parse_grades("Red; Amber\nGreen") == ("Red", "Amber", "Green")
    for bad in ("Only one", "High, high", "A\x00, B"):
        with pytest.raises(RuleError):
            rules.parse_grades(bad)


def test_status_needs_every_action_closed_and_one_complete():
    assert rules.status([], False) is RecStatus.OPEN
    assert rules.status([Status.COMPLETE, Status.ON_TRACK], False) is RecStatus.OPEN
    assert rules.status([Status.SUPERSEDED], False) is RecStatus.OPEN
    assert rules.status([Status.COMPLETE, Status.SUPERSEDED], False) is RecStatus.AWAITING
    assert rules.status([Status.COMPLETE], True) is RecStatus.VERIFIED
    assert rules.status([Status.ON_TRACK], True) is RecStatus.OPEN  # re-opened work is open again


def test_revisions_label():
    assert [rules.revisions_label(n) for n in (0, 1, 2, 3)] == [
        "Not revised", "Revised once", "Revised twice", "Revised 3 times"]
