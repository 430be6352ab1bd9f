"""`flask --app tracker audit ...`: audit recommendations from the command line."""
from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from tracker import timeutil


@click.group("audit")
def audit_cli():
    """Audit reports and recommendations (the audit trail of changes is under `plans audit-export`)."""


@audit_cli.command("list")
@click.option("--partnership", "partnership_name", required=True, help="The partnership's name.")
@with_appcontext
def list_command(partnership_name: str):
    """One recommendation a line: report, reference, grade, status, agreed date, current date, revisions."""
    from tracker.errors import NotFound
    from tracker.extensions import db
    from tracker.partnerships.models import Partnership
    from tracker.scrutiny import services

    partnership = db.session.scalar(select(Partnership).where(Partnership.name == partnership_name))
    if partnership is None:
        raise NotFound(f"There is no partnership called {partnership_name!r}.")
    recs = services.partnership_recommendations(partnership.id)
    today = timeutil.today()

    def date(value) -> str:
        return timeutil.long_date(value) if value else "no date"

    for row in services.rows(recs, today):
        status = row.status.label + (" (overdue)" if row.overdue else "")
        click.echo("\t".join((row.rec.report.title, row.rec.ref, row.grade, status, f"agreed {date(row.agreed)}",
                              f"now {date(row.current)}", f"{row.revisions} revision{'s' if row.revisions != 1 else ''}")))
    click.echo(f"{len(recs)} recommendation{'s' if len(recs) != 1 else ''}.", err=True)
