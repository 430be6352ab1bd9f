from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext


@click.group("outbox")
def outbox_cli():
    """Queued e-mail (password reset links)."""


@outbox_cli.command("send")
@with_appcontext
def send_command():
    """Send the queued e-mail now (the scheduler does this every minute)."""
    from tracker.outbox import services

    sent = services.deliver_pending(current_app._get_current_object())
    click.echo(f"Sent {sent} message{'s' if sent != 1 else ''}.")
