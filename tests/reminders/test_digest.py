"""Overdue digests: who gets what, with which content, how often."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event, select

from tests import factories
from tracker.extensions import db
from tracker.plans import services as plan_services
from tracker.rag import Status
from tracker.reminders import jobs, preferences, services
from tracker.reminders.models import DueSoonFrequency, ReminderSend, SendStatus

from .conftest import at, html_of, text_of

MONDAY = at(2026, 11, 23)  # Monday 23 November 2026, a working day


@pytest.fixture
def dated(world, time_machine):
    """Officer: one action overdue (with an update), one due in 10 days, one due in 30 (not listed)."""
    time_machine.move_to(at(2026, 9, 1), tick=False)
    overdue = factories.action(world.plan, lead=world.officer, timescale=dt.date(2026, 10, 31), ref="D1",
                               text="Publish the carers strategy")
    plan_services.record_progress(overdue, author_id=world.officer.id, status=Status.AT_RISK,
                                  narrative="Draft with the chief officer for sign-off.")
    soon = factories.action(world.plan, lead=world.officer, timescale=dt.date(2026, 12, 3), ref="D2")
    later = factories.action(world.plan, lead=world.officer, timescale=dt.date(2026, 12, 23), ref="D3")
    db.session.commit()
    time_machine.move_to(MONDAY, tick=False)
    return overdue, soon, later


def test_digest_lists_overdue_and_due_soon_actions_with_links_reason_and_last_update(
        world, dated, mailbox, app):
    overdue, soon, later = dated
    report = jobs.run()

    assert report.delivery.sent == 1
    assert mailbox.recipients() == ["officer@example.scot"]
    message = mailbox.messages[0]
    assert message["Subject"] == "Your actions: 1 overdue, 1 due soon"
    assert message["From"] == "Action tracker <tracker@example.scot>"
    assert message["Reply-To"] == "improvement.team@example.scot"
    assert message["Auto-Submitted"] == "auto-generated"
    text, html = text_of(message), html_of(message)
    for body in (text, html):
        assert "Publish the carers strategy" in body
        assert f"http://tracker.test/actions/{overdue.id}" in body
        assert f"http://tracker.test/actions/{soon.id}" in body
        assert f"/actions/{later.id}" not in body
        assert "Red: 23 days past due 31 October 2026" in body
        assert "Draft with the chief officer for sign-off." in body
        assert "1 September 2026" in body  # date of the last update
    assert text.index("overdue") < text.index("D2")


def test_each_officer_gets_one_digest_and_other_partnerships_are_separate(world, dated, mailbox, app, time_machine):
    time_machine.move_to(at(2026, 9, 1), tick=False)
    factories.action(world.plan, lead=world.other_officer, timescale=dt.date(2026, 11, 1), ref="C1")
    factories.action(world.plan, lead=world.other_officer, timescale=dt.date(2026, 11, 2), ref="C2")
    factories.action(world.other_plan, lead=world.outsider, timescale=dt.date(2026, 11, 20), ref="O1")
    db.session.commit()
    time_machine.move_to(MONDAY, tick=False)

    jobs.run()

    assert mailbox.recipients() == ["colleague@example.scot", "officer@example.scot", "outsider@example.scot"]
    colleague = text_of(mailbox.to("colleague@example.scot")[0])
    assert "C1" in colleague and "C2" in colleague and "D1" not in colleague and "O1" not in colleague


def test_actions_without_a_reachable_lead_go_to_the_plan_manager_as_needing_a_lead(
        world, mailbox, app, time_machine):
    time_machine.move_to(at(2026, 9, 1), tick=False)
    no_email = factories.user(world.home, email=None, name="Nell No-Email")
    no_email.email = None
    factories.action(world.plan, lead=None, timescale=dt.date(2026, 11, 1), ref="N1", text="Nobody leads this")
    factories.action(world.plan, lead=no_email, timescale=dt.date(2026, 11, 30), ref="N2")
    db.session.commit()
    time_machine.move_to(MONDAY, tick=False)

    jobs.run()

    assert mailbox.recipients() == ["manager@example.scot"]
    message = mailbox.messages[0]
    assert message["Subject"] == "Your actions: 2 need a lead"
    text = text_of(message)
    assert "need a lead" in text and "Nobody leads this" in text
    assert "Nell No-Email (cannot be e-mailed)" in text and "No lead" in text


def test_nothing_is_sent_to_officers_with_nothing_due(world, mailbox, app, time_machine):
    time_machine.move_to(MONDAY, tick=False)
    report = jobs.run()  # the world's actions are due in March 2030
    assert report.due == [] and mailbox.messages == []


def test_complete_actions_and_archived_plans_are_left_out(world, dated, mailbox, app):
    overdue, soon, _ = dated
    overdue.status = Status.COMPLETE
    soon.plan.archived_at = dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc)
    db.session.commit()
    jobs.run()
    assert mailbox.messages == []


def test_running_twice_on_the_same_day_sends_once_and_the_next_working_day_sends_again(
        world, dated, mailbox, app, time_machine):
    jobs.run()
    second = jobs.run()
    assert second.due == [] and second.already_logged == 1
    assert len(mailbox.messages) == 1

    time_machine.move_to(MONDAY + dt.timedelta(days=1), tick=False)
    jobs.run()
    assert len(mailbox.messages) == 2
    keys = db.session.execute(select(ReminderSend.period, ReminderSend.status)).all()
    assert sorted(keys) == [("day:2026-11-23", SendStatus.SENT), ("day:2026-11-24", SendStatus.SENT)]


def test_weekly_preference_sends_once_a_week_and_off_leaves_out_due_soon_items(
        world, dated, mailbox, app, time_machine):
    preferences.set_frequency(world.officer, DueSoonFrequency.WEEKLY)
    db.session.commit()
    for day in range(5):  # Monday to Friday
        time_machine.move_to(MONDAY + dt.timedelta(days=day), tick=False)
        jobs.run()
    assert len(mailbox.messages) == 1
    assert mailbox.messages[0]["Subject"] == "Your actions this week: 1 overdue, 1 due soon"

    mailbox.clear()
    preferences.set_frequency(world.officer, DueSoonFrequency.OFF)
    db.session.commit()
    for day in range(7, 12):  # the next week
        time_machine.move_to(MONDAY + dt.timedelta(days=day), tick=False)
        jobs.run()
    digests = mailbox.to("officer@example.scot")  # (the manager also gets an escalation by now)
    assert len(digests) == 1, "overdue actions still come weekly"
    assert digests[0]["Subject"] == "Your actions this week: 1 overdue"
    assert "D2" not in text_of(digests[0])


@pytest.mark.parametrize("holiday", [at(2026, 11, 28), at(2026, 11, 29), at(2026, 11, 30)],
                         ids=["saturday", "sunday", "st-andrews-day"])
def test_no_digest_at_weekends_or_on_a_scottish_bank_holiday(world, dated, mailbox, app, time_machine, holiday):
    time_machine.move_to(holiday, tick=False)
    report = jobs.run()
    assert not report.working_day and mailbox.messages == []
    assert db.session.scalar(select(ReminderSend.id)) is None


def test_the_next_working_day_after_a_long_weekend_catches_up(world, dated, mailbox, app, time_machine):
    for day in (28, 29, 30):  # Saturday, Sunday, St Andrew's Day (Monday 30 November 2026)
        time_machine.move_to(at(2026, 11, day), tick=False)
        jobs.run()
    assert mailbox.messages == []
    time_machine.move_to(at(2026, 12, 1), tick=False)
    jobs.run()
    [digest] = mailbox.to("officer@example.scot")
    assert "Red: 31 days past due 31 October 2026" in text_of(digest)
    assert mailbox.recipients() == ["manager@example.scot", "officer@example.scot"]  # + the weekly escalation


def test_digest_queries_do_not_grow_with_the_number_of_actions(world, mailbox, app, time_machine):
    def add_officers(count: int) -> None:
        time_machine.move_to(at(2026, 9, 1), tick=False)
        for _ in range(count):
            lead = factories.user(world.home)
            for n in range(3):
                action = factories.action(world.plan, lead=lead, timescale=dt.date(2026, 10, n + 1))
                plan_services.record_progress(action, author_id=lead.id, status=Status.ON_TRACK, narrative="x")
        db.session.commit()

    def statements_to_decide() -> tuple[int, int]:
        time_machine.move_to(MONDAY, tick=False)
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            reminders = services.due_reminders(MONDAY.date())
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(reminders), len(statements)

    add_officers(2)
    few = statements_to_decide()
    add_officers(18)
    many = statements_to_decide()
    assert (few[0], many[0]) == (2 + 1, 20 + 1)  # a digest per officer, and the manager's escalation
    assert few[1] == many[1]


def test_digest_labels_status_and_rag_apart_drops_the_readers_own_name_and_links_to_my_actions(
        world, dated, mailbox, app):
    """Issue 13: the RAG was labelled "Status:", every item said "Lead: <the recipient>", no link to My actions."""
    jobs.run()
    (message,) = mailbox.messages
    text, html = text_of(message), html_of(message)
    assert "Status: At risk" in text and "RAG: Red: 23 days past due 31 October 2026" in text
    assert "Status: At risk<br>" in html and "RAG: <strong>Red: 23 days past due" in html
    assert "Status: Red" not in text and "Status: <strong>Red" not in html
    from tracker import links

    my_actions = links.external_url("plans.my_actions")
    assert my_actions.startswith("http://tracker.test/")
    for body in (text, html):
        assert "Lead:" not in body, "the reader leads these actions"
    assert f"All the actions you lead: {my_actions}" in text
    assert f'<a href="{my_actions}">All the actions you lead (My actions)</a>' in html
