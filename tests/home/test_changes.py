"""The pure "What changed" logic: new, completed, slipped (with the reason), status moved."""
from __future__ import annotations

import datetime as dt

from tracker.home.changes import (
    COMPLETED, NEW, SLIPPED, STATUS_MOVED, ActionFacts, UpdateFacts, changes_since, counts,
)
from tracker.rag import Status

SINCE = dt.date(2026, 9, 1)
OLD = dt.date(2025, 6, 1)


def facts(id, status, *, created=OLD, due=None, ref=None):
    return ActionFacts(id, ref or f"A{id}", f"Action {id}", status, due, created)


def test_new_action_is_new_only():
    found = changes_since([facts(1, Status.COMPLETE, created=dt.date(2026, 9, 2))],
                          [UpdateFacts(1, dt.date(2026, 10, 1), Status.COMPLETE)], SINCE)
    assert [(c.kind, c.after) for c in found] == [(NEW, "Complete")]


def test_status_moved_and_completed_against_the_last_update_before():
    actions = [facts(1, Status.AT_RISK), facts(2, Status.COMPLETE), facts(3, Status.ON_TRACK)]
    updates = [UpdateFacts(1, dt.date(2026, 1, 1), Status.ON_TRACK), UpdateFacts(1, dt.date(2026, 9, 5), Status.AT_RISK),
               UpdateFacts(2, dt.date(2026, 2, 1), Status.ON_TRACK), UpdateFacts(2, dt.date(2026, 10, 5), Status.COMPLETE),
               UpdateFacts(3, dt.date(2026, 2, 1), Status.ON_TRACK), UpdateFacts(3, dt.date(2026, 10, 5), Status.ON_TRACK)]
    found = changes_since(actions, updates, SINCE)
    assert [(c.kind, c.ref, c.before, c.after) for c in found] == [
        (COMPLETED, "A2", "On track", "Complete"), (STATUS_MOVED, "A1", "On track", "At risk")]
    assert found[0].on == dt.date(2026, 10, 5)


def test_completed_without_an_earlier_update():
    found = changes_since([facts(1, Status.COMPLETE)], [UpdateFacts(1, dt.date(2026, 9, 10), Status.COMPLETE)], SINCE)
    assert [(c.kind, c.before) for c in found] == [(COMPLETED, "")]
    # Completed long before: not a change.
    assert changes_since([facts(1, Status.COMPLETE)], [UpdateFacts(1, dt.date(2026, 1, 10), Status.COMPLETE)],
                         SINCE) == []


def test_slipped_reports_the_latest_revision_with_its_reason():
    actions = [facts(1, Status.ON_TRACK, due=dt.date(2027, 6, 30))]
    updates = [
        UpdateFacts(1, dt.date(2026, 3, 1), Status.ON_TRACK, dt.date(2026, 12, 31), "December 2026", "First delay"),
        UpdateFacts(1, dt.date(2026, 9, 2), Status.ON_TRACK, dt.date(2027, 3, 31), "March 2027", "Recruitment"),
        UpdateFacts(1, dt.date(2026, 10, 2), Status.ON_TRACK, dt.date(2027, 6, 30), "June 2027", "Funding late"),
    ]
    [change] = changes_since(actions, updates, SINCE)
    assert (change.kind, change.before, change.after, change.reason) == (
        SLIPPED, "31 December 2026", "June 2027", "Funding late")


def test_brought_forward_is_not_slipped_and_nothing_before_since_counts():
    actions = [facts(1, Status.ON_TRACK, due=dt.date(2026, 11, 30))]
    updates = [UpdateFacts(1, dt.date(2026, 3, 1), Status.ON_TRACK, dt.date(2026, 12, 31), "December 2026", "x"),
               UpdateFacts(1, dt.date(2026, 9, 2), Status.ON_TRACK, dt.date(2026, 11, 30), "November 2026", "sooner")]
    assert changes_since(actions, updates, SINCE) == []
    assert changes_since(actions, updates, dt.date(2026, 12, 1)) == []


def test_counts_lists_every_kind_in_order():
    found = changes_since([facts(1, Status.ON_TRACK, created=SINCE), facts(2, Status.ON_TRACK, created=SINCE,
                                                                          ref="A10")], [], SINCE)
    assert [c.ref for c in found] == ["A1", "A10"]
    assert counts(found) == {NEW: 2, COMPLETED: 0, SLIPPED: 0, STATUS_MOVED: 0}
