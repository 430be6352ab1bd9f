"""The RAG rules, in the one module that pages, reminders and workbooks share."""
from __future__ import annotations

import datetime as dt

import pytest

from tracker.rag import Rag, Status, derive

TODAY = dt.date(2023, 5, 17)
D = dt.date


@pytest.mark.parametrize(
    "status, due, last_update, expected, reason",
    [
        (Status.COMPLETE, D(2020, 1, 1), None, Rag.BLUE, "complete"),
        (Status.SUPERSEDED, D(2020, 1, 1), None, Rag.NONE, "superseded"),
        (Status.ON_TRACK, D(2023, 3, 31), D(2023, 5, 1), Rag.RED, "47 days past due 31 March 2023"),
        (Status.ONGOING, D(2023, 5, 16), D(2023, 5, 1), Rag.RED, "1 day past review date 16 May 2023"),
        (Status.AT_RISK, D(2023, 6, 16), D(2023, 5, 1), Rag.RED, "at risk and due in 30 days (16 June 2023)"),
        (Status.AT_RISK, D(2023, 5, 17), D(2023, 5, 1), Rag.RED, "at risk and due today (17 May 2023)"),
        (Status.AT_RISK, D(2023, 6, 17), D(2023, 5, 1), Rag.AMBER, "at risk"),
        (Status.AT_RISK, None, D(2023, 5, 1), Rag.AMBER, "at risk"),
        (Status.ON_TRACK, D(2024, 3, 31), D(2023, 2, 16), Rag.AMBER, "no update for 90 days (last 16 February 2023)"),
        (Status.ON_TRACK, D(2024, 3, 31), D(2023, 2, 17), Rag.GREEN, "due 31 March 2024"),
        (Status.NOT_STARTED, None, D(2023, 5, 1), Rag.GREEN, "no due date set"),
        (Status.ONGOING, None, D(2023, 5, 1), Rag.GREEN, "ongoing"),
        (Status.ON_TRACK, D(2023, 5, 17), D(2023, 5, 1), Rag.GREEN, "due 17 May 2023"),
    ],
)
def test_rules(status, due, last_update, expected, reason):
    result = derive(status, due, last_update, TODAY)
    assert result.rag is expected
    assert result.reason == reason


def test_reason_text_reads_like_a_sentence():
    result = derive(Status.ON_TRACK, D(2023, 3, 31), D(2023, 5, 1), TODAY)
    assert result.text == "Red: 47 days past due 31 March 2023"
    assert result.days_overdue == 47


def test_never_updated_counts_from_creation():
    assert derive(Status.NOT_STARTED, None, None, TODAY, created=D(2023, 1, 1)).rag is Rag.AMBER
    assert derive(Status.NOT_STARTED, None, None, TODAY, created=D(2023, 5, 1)).rag is Rag.GREEN


def test_status_labels_round_trip():
    for status in Status:
        assert Status.from_label(status.label) is status
    with pytest.raises(ValueError, match="not a status"):
        Status.from_label("Delayed")


def test_colours_have_text_colours():
    for rag in Rag:
        assert len(rag.hex) == 6 and len(rag.text_hex) == 6 and rag.label


def test_long_delays_read_with_thousands_separators():
    assert derive(Status.ON_TRACK, D(2016, 12, 1), None, TODAY).reason == "2,358 days past due 1 December 2016"
