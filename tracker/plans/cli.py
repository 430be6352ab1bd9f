from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from tracker.extensions import db
from tracker.partnerships.models import Partnership
from tracker.plans.models import Plan


@click.group("plans")
def plans_cli():
    """Plans and their actions."""


@plans_cli.command("list")
@with_appcontext
def list_plans():
    """Print each plan's id, partnership and name, one a line."""
    rows = db.session.execute(
        select(Plan.id, Partnership.name, Plan.name).join(Partnership).order_by(Partnership.name, Plan.name)
    )
    for plan_id, partnership, name in rows:
        click.echo(f"{plan_id}\t{partnership}\t{name}")
