from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext


@click.command("worker")
@click.option("--workers", default=1, show_default=True, help="How many jobs to run at once (threads).")
@with_appcontext
def worker_command(workers: int):
    """Run the background jobs (long imports, workbooks, backups) until stopped. Run one or more per installation."""
    import logging

    from huey.consumer import Consumer

    from tracker.jobs.queue import queue

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    huey = queue()
    if current_app.config.get("JOBS_IMMEDIATE"):
        raise click.ClickException("JOBS_IMMEDIATE is set: jobs run where they start, and there is no queue to work.")
    click.echo(f"Worker: {workers} thread{'s' if workers != 1 else ''} on {type(huey.storage).__name__}.")
    Consumer(huey, workers=workers, worker_type="thread", periodic=True, check_worker_health=True).run()
