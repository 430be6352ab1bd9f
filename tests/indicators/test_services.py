"""Indicators and values in the database: corrections keep history, breakdowns, reminders, the plan list."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event, func, select

from tests import factories
from tracker.audit.models import AuditEvent
from tracker.auth.models import Role
from tracker.extensions import db
from tracker.indicators import services
from tracker.indicators.models import Dimension, IndicatorValue
from tracker.indicators.services import BreakdownInput, IndicatorError, ValueChangedError
from tracker.plans.models import AppendOnlyError
from tracker.rag import Rag
from tracker.timeutil import utcnow

from .conftest import TODAY, quarter


def test_create_indicator_with_yearly_targets_and_evidence_is_audited(world, make_indicator):
    items = factories.frameworks.items_by_number(factories.msg())
    indicator = make_indicator(yearly_targets={2024: 470.0}, items=[items["4.1"]], source="Mosaic",
                               definition="Adult carers with a current plan.")
    assert [t.financial_year for t in indicator.targets] == [2024]
    assert [i.number for i in indicator.items] == ["4.1"]
    event_ = db.session.scalar(select(AuditEvent).where(AuditEvent.entity_type == "indicator"))
    assert event_.verb == "create" and event_.after["targets"] == {"2024": 470.0}
    services.edit_indicator(indicator, actor_id=world.manager.id, yearly_targets={2024: 480.0, 2025: 500.0})
    db.session.commit()
    assert [(t.financial_year, t.target) for t in indicator.targets] == [(2024, 480.0), (2025, 500.0)]


def test_starts_on_snaps_to_the_start_of_its_period(make_indicator):
    indicator = make_indicator(starts_on=dt.date(2023, 5, 17))
    assert indicator.starts_on == dt.date(2023, 4, 1)
    assert indicator.first_period.label == "Q1 2023/24"


def test_correction_keeps_history_and_the_latest_is_current(world, indicator):
    first = services.enter_value(indicator, quarter("Q2 2024/25"), value=400, note="From Mosaic",
                                 actor_id=world.officer.id, today=TODAY)
    db.session.commit()
    second = services.enter_value(indicator, quarter("Q2 2024/25"), value=412, note="Late returns added",
                                  actor_id=world.manager.id, today=TODAY, expected_current_id=first.id)
    db.session.commit()
    assert second.replaces_id == first.id and second.is_correction
    current = services.current_values([indicator.id])[indicator.id]
    assert current[dt.date(2024, 7, 1)].value == 412
    history = services.value_history(indicator)
    assert [e.value for e in history] == [412, 400]
    assert [(new.value, old.value) for new, old in services.corrections(history)] == [(412, 400)]
    verbs = db.session.scalars(select(AuditEvent.verb).where(AuditEvent.entity_type == "indicator")
                               .order_by(AuditEvent.id)).all()
    assert verbs == ["create", "enter value", "correct value"]
    summary = db.session.scalar(select(AuditEvent.summary).where(AuditEvent.verb == "correct value"))
    assert summary == "Corrected Q2 2024/25 of Carers with adult carer support plans from 400 to 412"


def test_values_are_append_only(world, indicator):
    entry = services.enter_value(indicator, quarter("Q2 2024/25"), value=400, actor_id=world.officer.id, today=TODAY)
    db.session.commit()
    entry.value = 1
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()


def test_unchanged_value_adds_nothing(world, indicator):
    services.enter_value(indicator, quarter("Q2 2024/25"), value=400, note="x", actor_id=world.officer.id, today=TODAY)
    assert services.enter_value(indicator, quarter("Q2 2024/25"), value=400.0, note="x",
                                actor_id=world.officer.id, today=TODAY) is None
    assert db.session.scalar(select(func.count(IndicatorValue.id))) == 1


def test_stale_entry_is_refused_and_changes_nothing(world, indicator):
    services.enter_value(indicator, quarter("Q2 2024/25"), value=400, actor_id=world.officer.id, today=TODAY)
    db.session.commit()
    with pytest.raises(ValueChangedError, match="while you were editing"):
        services.enter_value(indicator, quarter("Q2 2024/25"), value=405, actor_id=world.manager.id, today=TODAY,
                             expected_current_id=None)
    assert db.session.scalar(select(func.count(IndicatorValue.id))) == 1


@pytest.mark.parametrize("period, value, message", [
    ("Q4 2024/25", 10, "has not ended yet"),
    ("Q3 2024/25", 10, "has not ended yet"),  # issue 11: the current period has not ended either
    ("Q2 2024/25", -1, "cannot be negative"),
])
def test_bad_values_are_refused(world, indicator, period, value, message):
    with pytest.raises(IndicatorError, match=message):
        services.enter_value(indicator, quarter(period), value=value, actor_id=world.officer.id, today=TODAY)


def test_percentages_stay_between_0_and_100(world, make_indicator):
    survey = make_indicator(name="Carers who feel supported", unit="percentage", frequency="biennial",
                            starts_on=dt.date(2021, 4, 1), target=35.0)
    with pytest.raises(IndicatorError, match="not a percentage"):
        services.enter_value(survey, survey.first_period, value=131, actor_id=world.officer.id, today=TODAY)
    entry = services.enter_value(survey, survey.first_period, value=29.6, actor_id=world.officer.id, today=TODAY)
    assert entry.period_start == dt.date(2021, 4, 1)


def test_breakdown_total_is_stored_with_its_parts(world, indicator):
    parts = [BreakdownInput(Dimension.LOCALITY, "Coldside", 150), BreakdownInput(Dimension.LOCALITY, "Lochee", 262),
             BreakdownInput(Dimension.PROTECTED_CHARACTERISTIC, "Women", 300),
             BreakdownInput(Dimension.PROTECTED_CHARACTERISTIC, "Men", 112)]
    entry = services.enter_value(indicator, quarter("Q2 2024/25"), value=None, breakdowns=parts,
                                 actor_id=world.officer.id, today=TODAY)
    db.session.commit()
    assert entry.value == 412
    assert sorted((b.category, b.value) for b in entry.breakdowns) == [
        ("Coldside", 150), ("Lochee", 262), ("Men", 112), ("Women", 300)]
    with pytest.raises(IndicatorError, match="adds up to 412, not the total of 420"):
        services.enter_value(indicator, quarter("Q2 2024/25"), value=420, breakdowns=parts,
                             actor_id=world.officer.id, today=TODAY)


def test_frequency_is_fixed_once_values_exist(world, indicator):
    services.enter_value(indicator, quarter("Q2 2024/25"), value=400, actor_id=world.officer.id, today=TODAY)
    with pytest.raises(IndicatorError, match="frequency cannot change"):
        services.edit_indicator(indicator, actor_id=world.manager.id, frequency="monthly")


def test_trend_rag_uses_the_latest_value_and_its_years_target(world, make_indicator):
    indicator = make_indicator(yearly_targets={2024: 450.0}, target=400.0)
    for label, value in [("Q4 2023/24", 390), ("Q1 2024/25", 400), ("Q2 2024/25", 412)]:
        services.enter_value(indicator, quarter(label), value=value, actor_id=world.officer.id, today=TODAY)
    db.session.commit()
    [trend] = services.indicators_for_plan(world.plan, TODAY)
    assert trend.rag.rag is Rag.RED
    assert trend.rag.text == "Red: 412 is 8% below the target of 450 (Q2 2024/25)"
    assert trend.direction == "Improving"
    targets = {p.period.label: p.target for p in trend.points}
    assert targets["Q4 2023/24"] == 400 and targets["Q1 2024/25"] == 450


def test_lower_is_better_indicator_on_the_plan(world, make_indicator):
    indicator = make_indicator(name="Carers waiting for an assessment", higher_is_better=False, target=110.0)
    services.enter_value(indicator, quarter("Q1 2024/25"), value=130, actor_id=world.officer.id, today=TODAY)
    services.enter_value(indicator, quarter("Q2 2024/25"), value=120, actor_id=world.officer.id, today=TODAY)
    [trend] = services.indicators_for_plan(world.plan, TODAY)
    assert trend.rag.text == "Red: 120 is 9% above the target of 110 (Q2 2024/25)"
    assert trend.direction == "Improving"


def _count_queries():
    statements = []

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", before)
    return statements, lambda: event.remove(db.engine, "before_cursor_execute", before)


def test_plan_list_queries_do_not_grow_with_indicators(world, make_indicator):
    def queries_for(n_indicators):
        for n in range(n_indicators):
            ind = make_indicator(name=f"Indicator {n_indicators}-{n}")
            services.enter_value(ind, quarter("Q2 2024/25"), value=n, actor_id=world.officer.id, today=TODAY)
        db.session.commit()
        db.session.expire_all()
        statements, stop = _count_queries()
        trends = services.indicators_for_plan(world.plan, TODAY)
        for trend in trends:
            _ = (trend.indicator.responsible_officer, trend.indicator.items, trend.rag.text)
        stop()
        return len(statements)

    assert queries_for(2) == queries_for(6)


def test_due_values_go_to_the_responsible_officer_or_the_plan_manager(world, make_indicator):
    mine = make_indicator(starts_on=dt.date(2024, 4, 1))
    nobody = make_indicator(name="Respite hours", unit="hours", responsible_officer_id=None,
                            starts_on=dt.date(2024, 4, 1))
    services.enter_value(mine, quarter("Q1 2024/25"), value=400, actor_id=world.officer.id, today=TODAY)
    db.session.commit()
    due = services.due_indicator_values(TODAY)
    assert [(user.email, ind.name, period.label) for user, ind, period in due] == [
        ("manager@example.scot", "Respite hours", "Q1 2024/25"),
        ("officer@example.scot", "Carers with adult carer support plans", "Q2 2024/25"),
        ("manager@example.scot", "Respite hours", "Q2 2024/25"),
    ]
    # The day before Q2's value falls due (28 October 2024), only Q1 is due.
    assert [p.label for _, _, p in services.due_indicator_values(dt.date(2024, 10, 25))] == ["Q1 2024/25"]


def test_due_values_skip_archived_plans(world, make_indicator):
    make_indicator(starts_on=dt.date(2024, 4, 1))
    world.plan.archived_at = utcnow()
    db.session.commit()
    assert services.due_indicator_values(TODAY) == []


def test_responsible_officer_in_another_role_still_gets_the_reminder(world, make_indicator):
    viewer_officer = factories.user(world.home, Role.VIEWER, email="analyst@example.scot")
    make_indicator(responsible_officer_id=viewer_officer.id, starts_on=dt.date(2024, 4, 1))
    assert {u.email for u, _, _ in services.due_indicator_values(TODAY)} == {"analyst@example.scot"}


def test_due_command_lists_missing_values(world, make_indicator, runner):
    make_indicator(starts_on=dt.date(2024, 4, 1))
    result = runner.invoke(args=["indicators", "due", "--date", "2024-11-20"])
    assert result.exit_code == 0, result.output
    assert ("officer@example.scot\tCarers with adult carer support plans\tQ1 2024/25\tdue 26 July 2024"
            in result.output)
    assert "2 values due and not entered." in result.output


def test_grid_total_keeps_the_breakdown_and_must_still_match_it(world, indicator):
    parts = [BreakdownInput(Dimension.LOCALITY, "Coldside", 150), BreakdownInput(Dimension.LOCALITY, "Lochee", 262)]
    entry = services.enter_value(indicator, quarter("Q2 2024/25"), value=None, breakdowns=parts,
                                 actor_id=world.officer.id, today=TODAY)
    with pytest.raises(IndicatorError, match="has a breakdown"):
        services.enter_total(indicator, quarter("Q2 2024/25"), value=420, note="", actor_id=world.officer.id,
                             expected_current_id=entry.id, today=TODAY)
    noted = services.enter_total(indicator, quarter("Q2 2024/25"), value=412, note="Checked",
                                 actor_id=world.officer.id, expected_current_id=entry.id, today=TODAY)
    assert noted.note == "Checked" and len(noted.breakdowns) == 2
    assert services.enter_total(indicator, quarter("Q1 2024/25"), value=None, note="", actor_id=world.officer.id,
                                expected_current_id=None, today=TODAY) is None
    with pytest.raises(IndicatorError, match="cannot be removed"):
        services.enter_total(indicator, quarter("Q2 2024/25"), value=None, note="", actor_id=world.officer.id,
                             expected_current_id=noted.id, today=TODAY)


def test_breakdown_tables_follow_groups_across_periods(world, indicator):
    loc, pc = Dimension.LOCALITY, Dimension.PROTECTED_CHARACTERISTIC
    services.enter_value(indicator, quarter("Q1 2024/25"), value=None, actor_id=world.officer.id, today=TODAY,
                         breakdowns=[BreakdownInput(loc, "Lochee", 250), BreakdownInput(loc, "Coldside", 150)])
    services.enter_value(indicator, quarter("Q2 2024/25"), value=None, actor_id=world.officer.id, today=TODAY,
                         breakdowns=[BreakdownInput(loc, "Lochee", 262), BreakdownInput(loc, "East End", 150),
                                     BreakdownInput(pc, "Women", 300), BreakdownInput(pc, "Men", 112)])
    services.enter_value(indicator, quarter("Q4 2023/24"), value=390, actor_id=world.officer.id, today=TODAY)
    [trend] = services.indicators_for_plan(world.plan, TODAY)
    by_locality, by_characteristic = services.breakdown_tables(trend)
    assert [p.label for p in by_locality.periods] == ["Q1 2024/25", "Q2 2024/25"]  # Q4 2023/24 has none
    assert by_locality.rows == [("Coldside", [150, None]), ("East End", [None, 150]), ("Lochee", [250, 262])]
    assert by_characteristic.dimension is pc
    assert by_characteristic.rows == [("Men", [None, 112]), ("Women", [None, 300])]
