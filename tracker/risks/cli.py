"""`flask --app tracker risks ...`: risk registers from the command line."""
from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select


@click.group("risks")
def risks_cli():
    """Risk registers."""


def _partnership(name: str):
    from tracker.extensions import db
    from tracker.partnerships.models import Partnership

    partnership = db.session.scalar(select(Partnership).where(Partnership.name == name))
    if partnership is None:
        raise click.ClickException(f"No partnership is called '{name}'.")
    return partnership


@risks_cli.command("list")
@click.option("--partnership", "name", required=True, help="The partnership's name, e.g. Dundee.")
@click.option("--all", "every", is_flag=True, help="Closed risks too.")
@with_appcontext
def list_command(name: str, every: bool):
    """One risk a line: reference, title, inherent, residual and target scores with their bands."""
    from tracker.risks import queries

    partnership = _partnership(name)
    filters = queries.RegisterFilters(status="all" if every else "live")
    rows, _ = queries.register(partnership_id=partnership.id, filters=filters)
    for row in sorted(rows, key=lambda r: r.risk.reference):
        m = row.matrix
        click.echo(f"{row.risk.reference}\t{row.risk.title}\tinherent {row.inherent.short(m)}\t"
                   f"residual {row.residual.short(m)}\ttarget {row.target.short(m)}"
                   + (f"\tflagged: {row.flag}" if row.flag else ""))
    click.echo(f"{len(rows)} risk{'s' if len(rows) != 1 else ''}.", err=True)


@risks_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--partnership", "name", required=True)
@click.option("--plan", "plan_name", help="The plan the risks belong to (and whose action refs they name).")
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@with_appcontext
def import_command(path: str, name: str, plan_name: str | None, dry_run: bool):
    """Import a risk register (.xlsx) or a report's risk tables (.docx, Dundee layout)."""
    from tracker.extensions import db
    from tracker.plans.models import Plan
    from tracker.risks import importers

    partnership = _partnership(name)
    plan = None
    if plan_name:
        plan = db.session.scalar(select(Plan).where(Plan.partnership_id == partnership.id, Plan.name == plan_name))
        if plan is None:
            raise click.ClickException(f"{partnership.name} has no plan called '{plan_name}'.")
    parsed = importers.read(path)
    for problem in parsed.problems:
        click.echo(problem, err=True)
    for item in importers.preview(parsed, partnership, plan):
        what = "; ".join(item.errors) if item.errors else item.outcome + (
            f" ({', '.join(item.changes)})" if item.changes else "")
        click.echo(f"{item.row.get('reference', '')}\t{item.row.get('title', '')[:60]}\t{what}")
    if dry_run:
        db.session.rollback()
        return
    counts = importers.apply(parsed, partnership, plan, filename=path.rsplit("/", 1)[-1])
    db.session.commit()
    click.echo(f"Imported: {counts['new']} new, {counts['changed']} changed, {counts['unchanged']} unchanged.")


@risks_cli.command("matrix")
@click.option("--partnership", "name", required=True)
@click.option("--size", type=int, help="Likelihood and impact run from 1 to SIZE.")
@click.option("--bands", help="Each band's name and scores, e.g. 'Low 1-3, Moderate 4-6, High 9' (or the lowest "
                               "scores alone: 'Low 1, Moderate 4, High 9').")
@with_appcontext
def matrix_command(name: str, size: int | None, bands: str | None):
    """Show the partnership's scoring matrix, or set it (--size and --bands), through the same checks as the
    settings page."""
    from tracker.extensions import db
    from tracker.risks import scoring, services

    partnership = _partnership(name)
    if size is not None or bands is not None:
        if size is None or bands is None:
            raise click.ClickException("Give both --size and --bands.")
        services.set_matrix(partnership, size, scoring.parse_bands(bands))
        db.session.commit()
    click.echo(services.matrix_for(partnership.id).describe())


@risks_cli.command("remind")
@with_appcontext
def remind_command():
    """Queue review reminders for risks past their review date (the scheduler does this daily)."""
    from tracker.extensions import db
    from tracker.risks.jobs import queue_reminders

    queued = queue_reminders()
    db.session.commit()
    click.echo(f"Queued {queued} reminder{'s' if queued != 1 else ''}.")
