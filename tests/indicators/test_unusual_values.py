"""Indicator values (issue 11): only for ended periods; a value ten times the last one or the target is
confirmed before it is saved, through the service, the period page and the grid alike."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tracker.extensions import db
from tracker.indicators import services
from tracker.indicators.models import IndicatorValue

from .conftest import TODAY, quarter


def _count() -> int:
    return db.session.scalar(select(func.count(IndicatorValue.id)))


def test_a_value_ten_times_the_target_needs_confirmation(world, indicator):
    with pytest.raises(services.NeedsConfirmation) as refused:
        services.enter_value(indicator, quarter("Q2 2024/25"), value=4_600, actor_id=world.officer.id, today=TODAY)
    assert "more than 10 times the target (450)" in refused.value.message
    assert refused.value.field == "confirm"
    db.session.rollback()
    assert _count() == 0
    services.enter_value(indicator, quarter("Q2 2024/25"), value=4_600, actor_id=world.officer.id, today=TODAY,
                         confirmed=True)
    db.session.commit()
    assert _count() == 1


def test_a_value_ten_times_the_previous_periods_needs_confirmation(world, make_indicator):
    indicator = make_indicator(target=None)
    services.enter_value(indicator, quarter("Q1 2024/25"), value=40, actor_id=world.officer.id, today=TODAY)
    db.session.commit()
    with pytest.raises(services.NeedsConfirmation, match="more than 10 times Q1 2024/25's value"):
        services.enter_value(indicator, quarter("Q2 2024/25"), value=401, actor_id=world.officer.id, today=TODAY)
    db.session.rollback()
    services.enter_value(indicator, quarter("Q2 2024/25"), value=400, actor_id=world.officer.id, today=TODAY)


def test_the_period_page_asks_for_the_tick_then_saves(world, indicator, client_as, time_machine):
    time_machine.move_to(TODAY, tick=False)
    client = client_as(world.officer)
    url = f"/indicators/{indicator.id}/values/2024-07-01"
    response = client.post(url, data={"value": "4600", "note": "", "rows": "0", "current": ""})
    assert response.status_code == 400
    assert "This figure is right" in response.get_data(as_text=True)
    assert _count() == 0
    response = client.post(url, data={"value": "4600", "note": "", "rows": "0", "current": "", "confirm": "1"})
    assert response.status_code == 302
    assert _count() == 1


def test_the_grid_asks_for_the_tick_per_period(world, indicator, client_as, time_machine):
    time_machine.move_to(TODAY, tick=False)
    client = client_as(world.officer)
    url = f"/indicators/{indicator.id}/values"
    response = client.post(url, data={"value-2024-07-01": "4600", "current-2024-07-01": ""})
    assert response.status_code == 400 and 'name="confirm-2024-07-01"' in response.get_data(as_text=True)
    assert _count() == 0
    response = client.post(url, data={"value-2024-07-01": "4600", "current-2024-07-01": "",
                                      "confirm-2024-07-01": "1"})
    assert response.status_code == 302 and _count() == 1


def test_the_current_period_has_not_ended(world, indicator):
    with pytest.raises(services.IndicatorError, match="has not ended yet") as refused:
        services.enter_value(indicator, quarter("Q3 2024/25"), value=10, actor_id=world.officer.id, today=TODAY)
    assert refused.value.field == "period"
