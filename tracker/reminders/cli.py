from __future__ import annotations

import datetime as dt

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from tracker.audit import services as audit
from tracker.extensions import db
from tracker.partnerships.models import Partnership
from tracker.reminders.models import PartnershipReminderSettings, ReminderSend, SendStatus
from tracker.timeutil import long_date


@click.group("reminders")
def reminders_cli():
    """Reminder e-mails: send them now, see the send log, set escalation contacts."""


@reminders_cli.command("send")
@click.option("--today", "today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Work out what is due as if today were this date (YYYY-MM-DD).")
@click.option("--dry-run", is_flag=True, help="Print who would get what; send and record nothing.")
@with_appcontext
def send_command(today: dt.datetime | None, dry_run: bool):
    """Send the reminders due today: the same code the scheduler runs each working day at 07:00."""
    from tracker.reminders import jobs

    report = jobs.run(today.date() if today else None, dry_run=dry_run)
    if not report.working_day:
        click.echo(f"{long_date(report.today)} is not a working day in Scotland: no reminders are sent.")
        return
    verb = "Would send" if dry_run else "Decided"
    click.echo(f"{verb} {len(report.due)} reminder(s) for {long_date(report.today)}; "
               f"{report.already_logged} already in the send log.")
    for reminder in report.due:
        click.echo(f"  {reminder.kind:<15} {reminder.period:<16} {reminder.recipient:<40} {reminder.subject}")
    if report.delivery:
        d = report.delivery
        if d.busy:
            click.echo("Another process (the scheduler) is sending: it sends these within a minute.")
        click.echo(f"Sent {d.sent}, failed {d.failed}, suppressed {d.suppressed}, uncertain {d.uncertain}.")
        for error in dict.fromkeys(d.errors):
            click.echo(f"  Error: {error}", err=True)


@reminders_cli.command("status")
@click.option("--limit", default=20, show_default=True, help="How many failed or uncertain rows to list.")
@with_appcontext
def status_command(limit: int):
    """Count the send log by status and list reminders that failed or may not have been delivered."""
    counts = dict(db.session.execute(
        select(ReminderSend.status, func.count()).group_by(ReminderSend.status)).all())
    click.echo(", ".join(f"{status.value}: {counts.get(status, 0)}" for status in SendStatus))
    rows = db.session.scalars(
        select(ReminderSend).where(ReminderSend.status.in_([SendStatus.FAILED, SendStatus.UNCERTAIN]))
        .order_by(ReminderSend.id.desc()).limit(limit))
    from tracker.outbox.cli import echo_rows

    echo_rows(rows)


@reminders_cli.command("retry")
@click.argument("send_id", type=click.IntRange(1, 2**31 - 1))
@with_appcontext
def retry_command(send_id: int):
    """Put a failed or uncertain reminder back in the queue (an uncertain one may then arrive twice)."""
    from tracker.errors import NotFound, RuleError
    from tracker.outbox import services as outbox

    try:
        outbox.resend(send_id)
    except NotFound:
        raise click.ClickException(f"There is no failed or uncertain reminder #{send_id}.") from None
    except RuleError as error:
        raise click.ClickException(error.message) from None
    db.session.commit()
    click.echo(f"Reminder #{send_id} is queued again; the next run sends it.")


@reminders_cli.command("chief-officer")
@click.argument("partnership_name")
@click.argument("email", required=False)
@with_appcontext
def chief_officer_command(partnership_name: str, email: str | None):
    """Copy escalations for a partnership to its chief officer's EMAIL (leave EMAIL out to stop)."""
    partnership = db.session.scalar(select(Partnership).where(Partnership.name == partnership_name))
    if partnership is None:
        raise click.ClickException(f"There is no partnership called {partnership_name!r}.")
    if email is not None and ("@" not in email or len(email) > 254):
        raise click.ClickException(f"{email!r} is not an e-mail address.")
    settings = db.session.get(PartnershipReminderSettings, partnership.id)
    if settings is None:
        settings = PartnershipReminderSettings(partnership_id=partnership.id)
        db.session.add(settings)
    before = {"chief_officer_email": settings.chief_officer_email}
    settings.chief_officer_email = email.strip() if email else None
    audit.record(user_id=None, entity_type="partnership_reminder_settings", entity_id=partnership.id,
                 verb="update", before=before, after={"chief_officer_email": settings.chief_officer_email},
                 partnership_id=partnership.id, summary="Changed the chief officer copied into escalations")
    db.session.commit()
    click.echo(f"Escalations for {partnership.name} go to the plan managers"
               + (f" and {settings.chief_officer_email}." if settings.chief_officer_email else " only."))
