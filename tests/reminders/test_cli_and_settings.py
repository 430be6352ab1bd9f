"""`flask reminders ...` commands and the reminder settings page."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from tests import factories
from tracker.audit.models import AuditEvent
from tracker.extensions import db
from tracker.reminders.models import (
    DueSoonFrequency,
    PartnershipReminderSettings,
    ReminderPreference,
    ReminderSend,
    SendStatus,
)

from .conftest import at


def overdue_action(world, time_machine):
    time_machine.move_to(at(2026, 9, 1), tick=False)
    action = factories.action(world.plan, lead=world.officer, timescale=dt.date(2026, 11, 1), ref="X1")
    db.session.commit()
    return action


def test_dry_run_prints_who_would_get_what_and_sends_and_records_nothing(world, mailbox, app, time_machine):
    overdue_action(world, time_machine)
    result = app.test_cli_runner().invoke(args=["reminders", "send", "--today", "2026-11-23", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Would send 1 reminder(s) for 23 November 2026" in result.output
    assert "digest" in result.output and "officer@example.scot" in result.output
    assert "Your actions: 1 overdue" in result.output
    assert mailbox.messages == []
    assert db.session.scalar(select(ReminderSend.id)) is None


def test_send_runs_the_job_for_the_given_day(world, mailbox, app, time_machine):
    overdue_action(world, time_machine)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["reminders", "send", "--today", "2026-11-23"])
    assert result.exit_code == 0, result.output
    assert "Sent 1, failed 0" in result.output
    assert mailbox.recipients() == ["officer@example.scot"]
    result = runner.invoke(args=["reminders", "send", "--today", "2026-11-23"])
    assert "Decided 0 reminder(s)" in result.output and "1 already in the send log" in result.output
    assert len(mailbox.messages) == 1


def test_send_on_a_bank_holiday_says_so(world, mailbox, app):
    result = app.test_cli_runner().invoke(args=["reminders", "send", "--today", "2026-11-30"])
    assert "30 November 2026 is not a working day" in result.output


def test_status_and_retry(world, mailbox, app, time_machine):
    overdue_action(world, time_machine)
    time_machine.move_to(at(2026, 11, 23), tick=False)
    mailbox.refuse_with = "550 5.1.1 No such mailbox"
    runner = app.test_cli_runner()
    runner.invoke(args=["reminders", "send"])
    result = runner.invoke(args=["reminders", "status"])
    assert "failed: 1" in result.output and "550 5.1.1 No such mailbox" in result.output
    row = db.session.scalar(select(ReminderSend))
    row.status = SendStatus.UNCERTAIN
    db.session.commit()
    result = runner.invoke(args=["reminders", "retry", str(row.id)])
    assert result.exit_code == 0 and "queued again" in result.output
    mailbox.refuse_with = None
    runner.invoke(args=["reminders", "send"])
    assert mailbox.recipients() == ["officer@example.scot"]
    assert runner.invoke(args=["reminders", "retry", str(row.id)]).exit_code != 0  # sent: nothing to retry


def test_chief_officer_setting(world, app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["reminders", "chief-officer", "Home IJB", "chief@example.scot"])
    assert result.exit_code == 0 and "and chief@example.scot" in result.output
    assert db.session.get(PartnershipReminderSettings, world.home.id).chief_officer_email == "chief@example.scot"
    result = runner.invoke(args=["reminders", "chief-officer", "Home IJB"])
    assert "plan managers only" in result.output
    assert runner.invoke(args=["reminders", "chief-officer", "Nowhere", "x@example.scot"]).exit_code != 0
    assert runner.invoke(args=["reminders", "chief-officer", "Home IJB", "not-an-address"]).exit_code != 0


def test_settings_page_shows_the_default_and_saves_a_choice(world, client_as):
    client = client_as(world.officer)
    page = client.get("/account/reminders")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'value="daily" checked' in html
    response = client.post("/account/reminders", data={"due_soon": "weekly"})
    assert response.status_code == 302
    assert db.session.get(ReminderPreference, world.officer.id).due_soon is DueSoonFrequency.WEEKLY
    assert "Your reminder settings are saved." in client.get("/account/reminders").get_data(as_text=True)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.entity_type == "reminder_preference"))
    assert event.user_id == world.officer.id and event.after == {"due_soon": "weekly"}


def test_settings_page_refuses_a_forged_value_and_changes_nothing(world, client_as):
    response = client_as(world.officer).post("/account/reminders", data={"due_soon": "hourly"})
    assert response.status_code == 400
    assert "Not a valid choice" in response.get_data(as_text=True)
    assert db.session.get(ReminderPreference, world.officer.id) is None


def test_settings_page_needs_sign_in_and_csrf(world, make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        assert app.test_client().get("/account/reminders").status_code == 302
        from tests.conftest import sign_in_client
        response = sign_in_client(app, world.officer).post("/account/reminders", data={"due_soon": "off"})
        assert response.status_code == 400
        assert db.session.get(ReminderPreference, world.officer.id) is None
