from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext


@click.command("scheduler")
@click.option("--wait/--no-wait", default=True, show_default=True,
              help="If another scheduler is running, wait as a standby (default) or exit with status 1.")
@click.option("--poll-seconds", default=30.0, show_default=True, help="How often a standby checks the lock.")
@with_appcontext
def scheduler_command(wait: bool, poll_seconds: float):
    """Run the scheduled jobs (reminder e-mails and others) until stopped. Run one per installation."""
    import logging

    from tracker.scheduler import process

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = current_app._get_current_object()
    sys.exit(process.run(app, wait=wait, poll_seconds=poll_seconds, echo=click.echo))
