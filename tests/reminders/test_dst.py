"""The 07:00 run across the clock changes (last Sundays of March and October)."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tests import factories
from tracker.extensions import db
from tracker.reminders import jobs
from tracker.reminders.models import ReminderSend
from tracker.scheduler.jobs import JOBS
from tracker.scheduler.process import trigger_for
from tracker.timeutil import LONDON

from .conftest import at

UTC = dt.timezone.utc


def fire_times(start: dt.datetime, count: int) -> list[dt.datetime]:
    trigger = trigger_for(next(job for job in JOBS if job.id == "reminders"))
    times, previous = [], None
    now = start
    for _ in range(count):
        previous = trigger.get_next_fire_time(previous, now)
        times.append(previous)
        now = previous + dt.timedelta(seconds=1)
    return times


@pytest.mark.parametrize("start, expected_utc", [
    # Clocks go forward on Sunday 29 March 2026: 07:00 GMT on Friday, 07:00 BST (06:00 UTC) on Monday.
    (dt.datetime(2026, 3, 26, 12, tzinfo=UTC), [dt.datetime(2026, 3, 27, 7, tzinfo=UTC),
                                                dt.datetime(2026, 3, 30, 6, tzinfo=UTC)]),
    # Clocks go back on Sunday 25 October 2026.
    (dt.datetime(2026, 10, 22, 12, tzinfo=UTC), [dt.datetime(2026, 10, 23, 6, tzinfo=UTC),
                                                 dt.datetime(2026, 10, 26, 7, tzinfo=UTC)]),
], ids=["march", "october"])
def test_the_reminders_job_fires_at_seven_london_time_either_side_of_a_clock_change(start, expected_utc):
    times = fire_times(start, 2)
    assert [t.astimezone(UTC) for t in times] == expected_utc
    assert all(t.astimezone(LONDON).hour == 7 for t in times)


@pytest.mark.parametrize("friday, monday, sunday_night", [
    ((2026, 3, 27), (2026, 3, 30), dt.datetime(2026, 3, 29, 23, 30, tzinfo=UTC)),  # 00:30 BST on Monday
    ((2026, 10, 23), (2026, 10, 26), dt.datetime(2026, 10, 26, 0, 30, tzinfo=UTC)),  # 00:30 GMT on Monday
], ids=["march", "october"])
def test_one_digest_per_working_day_across_a_clock_change(world, mailbox, app, time_machine,
                                                          friday, monday, sunday_night):
    time_machine.move_to(at(2026, 1, 5), tick=False)
    factories.action(world.plan, lead=world.officer, timescale=dt.date(2026, 2, 1), ref="T1")
    db.session.commit()

    for instant in sorted(fire_times(at(*friday, hour=0), 2) + [sunday_night]):
        time_machine.move_to(instant, tick=False)
        jobs.run()
    time_machine.move_to(at(*monday, hour=23, minute=59), tick=False)
    jobs.run()

    assert db.session.scalars(
        select(ReminderSend.period).where(ReminderSend.kind == "digest").order_by(ReminderSend.period)
    ).all() == [f"day:{dt.date(*friday)}", f"day:{dt.date(*monday)}"]
    assert len(mailbox.to("officer@example.scot")) == 2
