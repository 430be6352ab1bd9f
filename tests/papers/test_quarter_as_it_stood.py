"""The quarter as it stood (issue 14, points 1 and 2): rebuilt from history, and why every date moved."""
from __future__ import annotations

import datetime as dt

import pytest

from tests.workbooks.test_services import rows
from tracker.errors import RuleError
from tracker.extensions import db
from tracker.periods import FinancialQuarter
from tracker.plans import services as plans
from tracker.plans.models import Action
from tracker.rag import Status
from tracker.workbooks import services
from tracker.workbooks.builder import build_workbook

Q3 = FinancialQuarter(2022, 3)  # October to December 2022
IN_Q3 = dt.datetime(2022, 11, 15, 12, tzinfo=dt.timezone.utc)


@pytest.fixture
def past(world):
    long_ago = dt.datetime(2022, 4, 1, 10, tzinfo=dt.timezone.utc)
    for record in (world.plan, world.officer_action, world.colleague_action):
        record.created_at = long_ago
    plans.record_progress(world.officer_action, author_id=world.officer.id, status=Status.AT_RISK,
                          narrative="Waiting for the council", revised_timescale="March 2023",
                          revision_reason="Procurement timetable moved by the council", at=IN_Q3)
    db.session.commit()
    return world


def test_a_past_quarter_built_twice_gives_the_same_figures_whatever_happened_since(past):
    first = services.workbook_data(past.plan, Q3)
    assert first.as_at == Q3.end == dt.date(2022, 12, 31)
    row = next(r for r in first.actions if r.ref == "A1")
    assert (row.status, row.due, row.latest_update) == ("at_risk", dt.date(2023, 3, 31), "Waiting for the council")
    assert "past due" not in row.rag_text  # RAG worked out for 31 December 2022, not today
    # Later: completed, re-led, re-dated by the manager, and a new action.
    plans.record_progress(past.officer_action, author_id=past.officer.id, status=Status.COMPLETE, narrative="Done")
    plans.edit_action(past.colleague_action, expected_version=None, actor=past.manager, timescale="March 2035",
                      lead_officer_id=past.officer.id, revision_reason="Funding delayed")
    db.session.add(Action(plan_id=past.plan.id, ref="A9", text="Added later"))
    db.session.commit()
    again = services.workbook_data(past.plan, Q3)
    assert again.to_json() == first.to_json()
    assert rows(build_workbook(again), "Actions") == rows(build_workbook(first), "Actions")
    today = services.workbook_data(past.plan, Q3, as_at=dt.date.today())
    assert {r.ref for r in today.actions} >= {"A9"}


def test_a_slips_reason_who_and_when_are_in_the_actions_and_changes_sheets(past):
    content = build_workbook(services.workbook_data(past.plan, Q3))
    reason = "Procurement timetable moved by the council"
    actions = rows(content, "Actions")
    a1 = next(r for r in actions if r[1] == "A1")
    assert any(reason in str(cell) for cell in a1)
    assert any(past.officer.name in str(cell) and "15 November 2022" in str(cell) for cell in a1)
    changes = rows(content, "Changes")
    slip = next(r for r in changes if r[0] == "Date slipped")
    assert reason in slip and past.officer.name in str(slip)


def test_the_plan_manager_gives_a_reason_to_move_a_date(past):
    action = past.colleague_action
    before = (action.timescale_text, action.due_end, action.version)
    with pytest.raises(RuleError) as refused:
        plans.edit_action(action, expected_version=None, actor=past.manager, timescale="June 2036")
    assert refused.value.field == "revision_reason"
    db.session.rollback()
    assert (action.timescale_text, action.due_end, action.version) == before
    plans.edit_action(action, expected_version=None, actor=past.manager, timescale="June 2036",
                      revision_reason="Waiting for the new contract")
    db.session.commit()
    data = services.workbook_data(past.plan, FinancialQuarter.containing(dt.date.today()), as_at=dt.date.today())
    row = next(r for r in data.actions if r.ref == action.ref)
    assert (row.moved_reason, row.moved_by) == ("Waiting for the new contract", past.manager.name)


def test_the_edit_form_asks_for_the_reason(past, client_as):
    action = past.colleague_action
    client = client_as(past.manager)
    page = client.get(f"/actions/{action.id}/edit")
    assert b'name="revision_reason"' in page.data
