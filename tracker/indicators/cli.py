"""`flask --app tracker indicators ...`: indicator values from the command line."""
from __future__ import annotations

import datetime as dt

import click
from flask.cli import with_appcontext

from tracker import timeutil


@click.group("indicators")
def indicators_cli():
    """Performance indicators."""


@indicators_cli.command("due")
@click.option("--date", "on", type=click.DateTime(["%Y-%m-%d"]), help="As on this day (default: today).")
@with_appcontext
def due_command(on: dt.datetime | None):
    """Print the indicator values due and not entered: officer, indicator, period, one a line."""
    from tracker.indicators.services import due_indicator_values, value_due_on

    rows = due_indicator_values(on.date() if on else timeutil.today())
    for officer, indicator, period in rows:
        click.echo(f"{officer.email}\t{indicator.name}\t{period.label}\tdue {timeutil.long_date(value_due_on(period))}")
    click.echo(f"{len(rows)} value{'s' if len(rows) != 1 else ''} due and not entered.", err=True)
