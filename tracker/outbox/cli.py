"""`flask outbox send|status|resend`: the one outbox of every e-mail the tracker sends."""
from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.group("outbox")
def outbox_cli():
    """Queued e-mail of every kind: send it now, see what is waiting or uncertain, re-send one."""


@outbox_cli.command("send")
@with_appcontext
def send_command():
    """Send the queued e-mail now (the scheduler does this every minute; only one sender runs at a time)."""
    from tracker.reminders import sendlog

    report = sendlog.deliver()
    if report.busy:
        click.echo("Another process (the scheduler) is sending the outbox: it sends these within a minute.")
        return
    click.echo(f"Sent {report.sent}, refused {report.failed}, uncertain {report.uncertain}, "
               f"suppressed {report.suppressed}.")
    for error in dict.fromkeys(report.errors):
        click.echo(f"  Error: {error}", err=True)


@outbox_cli.command("status")
@click.option("--limit", default=20, show_default=True, help="How many uncertain or given-up messages to list.")
@with_appcontext
def status_command(limit: int):
    """Count every kind of e-mail by state, and list those a person must look at."""
    from tracker.outbox import services
    from tracker.reminders.models import SendStatus

    names = [status.value for status in SendStatus]
    click.echo(f"{'kind':<18}" + "".join(f"{name:>11}" for name in names))
    for kind, by_status in services.counts().items():
        click.echo(f"{kind:<18}" + "".join(f"{by_status.get(status, 0):>11}" for status in SendStatus))
    rows = services.needing_a_person(limit)
    if rows:
        click.echo("Needing a person (re-send one with `flask outbox resend ID`; an uncertain one may arrive twice):")
    echo_rows(rows)


def echo_rows(rows) -> None:
    """One line per outbox row for a person: id, state, kind, period, recipient, attempts, last error."""
    for row in rows:
        click.echo(f"  #{row.id} {row.status.value:<9} {row.kind} {row.period} to {row.recipient} "
                   f"(attempts {row.attempts}): {row.last_error}")


@outbox_cli.command("resend")
@click.argument("send_id", type=click.IntRange(1, 2**31 - 1))
@with_appcontext
def resend_command(send_id: int):
    """Put a failed or uncertain e-mail back in the queue (an uncertain one may then arrive twice)."""
    from tracker.errors import RuleError
    from tracker.extensions import db
    from tracker.outbox import services

    try:
        services.resend(send_id)
    except RuleError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    db.session.commit()
    click.echo(f"E-mail #{send_id} is queued again; the scheduler sends it within a minute.")


#: The command's first name, kept so that scripts written for it still work.
outbox_cli.add_command(resend_command, "retry")
