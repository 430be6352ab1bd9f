"""Update requests before committee meetings, and weekly escalations to plan managers."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tests import factories
from tracker.committees.models import Committee, Meeting
from tracker.extensions import db
from tracker.plans import services as plan_services
from tracker.rag import Status
from tracker.reminders import jobs
from tracker.reminders.models import PartnershipReminderSettings, ReminderSend

from .conftest import at, html_of, text_of


@pytest.fixture
def committee(world, time_machine):
    """The IJB meets on 1 October and 10 December 2026 and oversees the home plan."""
    time_machine.move_to(at(2026, 9, 1), tick=False)
    ijb = Committee(partnership_id=world.home.id, name="Home Integration Joint Board", papers_due_working_days=10)
    ijb.plans.append(world.plan)
    db.session.add(ijb)
    db.session.flush()
    previous = Meeting(committee_id=ijb.id, held_on=dt.date(2026, 10, 1), title="October meeting")
    upcoming = Meeting(committee_id=ijb.id, held_on=dt.date(2026, 12, 10), title="December meeting")
    db.session.add_all([previous, upcoming])
    db.session.commit()
    return ijb, previous, upcoming


def update(action, on: dt.datetime, time_machine, narrative="Progress made."):
    time_machine.move_to(on, tick=False)
    plan_services.record_progress(action, author_id=action.lead_officer_id, status=Status.ON_TRACK,
                                  narrative=narrative)
    db.session.commit()


def test_leads_with_no_update_since_the_last_meeting_are_asked_before_the_next(
        world, committee, mailbox, app, time_machine):
    ijb, previous, upcoming = committee
    update(world.officer_action, at(2026, 9, 15), time_machine)  # before the October meeting: stale
    update(world.colleague_action, at(2026, 10, 20), time_machine)  # after it: up to date

    time_machine.move_to(at(2026, 11, 18), tick=False)  # 22 days before: outside the 21-day window
    jobs.run()
    assert mailbox.messages == []

    time_machine.move_to(at(2026, 11, 19), tick=False)  # 21 days before
    jobs.run()
    assert mailbox.recipients() == ["officer@example.scot"]
    message = mailbox.messages[0]
    assert message["Subject"] == "Update needed for the Home Integration Joint Board on 10 December 2026"
    text = text_of(message)
    assert "Papers are due on 25 November 2026." in text  # 10 working days before 10 December
    assert "since the committee's last meeting on 1 October 2026" in text
    assert f"http://tracker.test/actions/{world.officer_action.id}" in text
    assert "15 September 2026" in html_of(message)

    for day in (20, 23, 27):  # later runs before the meeting: already asked
        time_machine.move_to(at(2026, 11, day), tick=False)
        jobs.run()
    assert len(mailbox.messages) == 1


def test_a_missed_update_request_is_caught_up_by_a_later_run_before_the_meeting(
        world, committee, mailbox, app, time_machine):
    time_machine.move_to(at(2026, 12, 9), tick=False)  # the scheduler was down until the day before
    jobs.run()
    assert mailbox.recipients() == ["colleague@example.scot", "officer@example.scot"]
    time_machine.move_to(at(2026, 12, 10), tick=False)  # the meeting day itself: too late, nothing new
    jobs.run()
    assert len(mailbox.messages) == 2


def test_no_update_request_for_plans_the_committee_does_not_oversee(world, committee, mailbox, app, time_machine):
    ijb, _, _ = committee
    ijb.plans.clear()
    db.session.commit()
    time_machine.move_to(at(2026, 12, 1), tick=False)
    jobs.run()
    assert mailbox.messages == []


def test_long_overdue_actions_are_escalated_weekly_to_the_plan_manager_and_chief_officer(
        world, mailbox, app, time_machine):
    time_machine.move_to(at(2026, 9, 1), tick=False)
    late = factories.action(world.plan, lead=world.officer, timescale=dt.date(2026, 10, 1), ref="E1",
                            text="Recruit two carer support workers")
    factories.action(world.plan, lead=world.officer, timescale=dt.date(2026, 11, 1), ref="E2")  # 22 days late
    factories.action(world.other_plan, lead=world.outsider, timescale=dt.date(2026, 9, 30), ref="E3")
    db.session.add(PartnershipReminderSettings(partnership_id=world.home.id,
                                               chief_officer_email="Chief.Officer@example.scot"))
    db.session.commit()

    for day in range(23, 28):  # Monday to Friday
        time_machine.move_to(at(2026, 11, day), tick=False)
        jobs.run()

    escalations = [m for m in mailbox.messages if m["Subject"].startswith("Escalation")]
    assert sorted(m["To"].addresses[0].addr_spec for m in escalations) == [
        "chief.officer@example.scot", "manager@example.scot", "outsider@example.scot"]
    manager = text_of(mailbox.to("manager@example.scot")[0])
    assert "Recruit two carer support workers" in manager and f"/actions/{late.id}" in manager
    assert "E2" not in manager
    assert "Red: 53 days past due 1 October 2026" in manager
    assert "E3" not in text_of(mailbox.to("chief.officer@example.scot")[0])
    assert mailbox.to("manager@example.scot")[0]["Subject"] == \
        "Escalation: 1 action overdue by more than 28 days"

    time_machine.move_to(at(2026, 12, 1), tick=False)  # next week (Monday is St Andrew's Day)
    jobs.run()
    periods = db.session.scalars(select(ReminderSend.period).where(ReminderSend.kind == "escalation",
                                                                   ReminderSend.recipient == "manager@example.scot"))
    assert sorted(periods) == ["week:2026-W48", "week:2026-W49"]
