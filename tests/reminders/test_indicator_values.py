"""Indicator values due and not entered reach the responsible officer through the reminders' send log."""
from __future__ import annotations

import datetime as dt

from tracker.extensions import db
from tracker.indicators import services as indicators
from tracker.periods import Period
from tracker.reminders import jobs

from .conftest import at, html_of, text_of


def test_responsible_officer_is_asked_weekly_for_missing_values(world, mailbox, app, time_machine):
    time_machine.move_to(at(2026, 6, 1), tick=False)
    indicator = indicators.create_indicator(
        world.plan, name="Carers with support plans", frequency="quarterly", starts_on=dt.date(2026, 4, 1),
        actor_id=world.manager.id, responsible_officer_id=world.officer.id, target=100)
    db.session.commit()

    time_machine.move_to(at(2026, 7, 1), tick=False)  # Q1 has ended but its value is not due yet
    jobs.run()
    assert [m for m in mailbox.messages if "Indicator values due" in m["Subject"]] == []

    time_machine.move_to(at(2026, 8, 4), tick=False)  # past the working days allowed (3 August: bank holiday)
    jobs.run()
    [message] = [m for m in mailbox.messages if "Indicator values due" in m["Subject"]]
    assert world.officer.email in message["To"]
    assert "Carers with support plans" in text_of(message) and "Q1 2026/27" in text_of(message)
    assert f"/indicators/{indicator.id}/values/2026-04-01" in html_of(message)

    time_machine.move_to(at(2026, 8, 5), tick=False)  # same week: not again
    jobs.run()
    assert len([m for m in mailbox.messages if "Indicator values due" in m["Subject"]]) == 1

    indicators.enter_value(indicator, Period("quarterly", dt.date(2026, 4, 1)), value=95,
                           actor_id=world.officer.id, today=dt.date(2026, 8, 6))
    db.session.commit()
    time_machine.move_to(at(2026, 8, 10), tick=False)  # next week, nothing missing
    jobs.run()
    assert len([m for m in mailbox.messages if "Indicator values due" in m["Subject"]]) == 1
