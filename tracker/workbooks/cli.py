from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
from flask.cli import with_appcontext

from tracker.extensions import db
from tracker.periods import FinancialQuarter


@click.group("workbook")
def workbook_cli():
    """Quarterly progress workbooks for committees."""


def _quarter(_ctx, _param, value: str) -> FinancialQuarter:
    try:
        return FinancialQuarter.parse(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from error


@workbook_cli.command("build")
@click.option("--plan", "plan_ref", required=True, help="The plan's id or exact name.")
@click.option("--quarter", required=True, callback=_quarter, help='A financial quarter, e.g. "Q2 2023/24".')
@click.option("--format", "kind", type=click.Choice(["xlsx", "pdf", "docx"]), default="xlsx", show_default=True,
              help="The workbook, the PDF paper or the covering report.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="The file to write.")
@click.option("--as-at", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Figures as at this date (default the quarter's end, or today while it runs).")
@with_appcontext
def build_command(plan_ref: str, quarter: FinancialQuarter, kind: str, out: Path, as_at: dt.datetime | None):
    """Build one plan's quarterly workbook, PDF paper or covering report by hand (a draft: nothing is stored or
    sent)."""
    from tracker.papers.services import build
    from tracker.workbooks.services import find_plan, workbook_data

    try:
        plan = find_plan(plan_ref)
    except LookupError as error:
        raise click.ClickException(str(error)) from error
    data = workbook_data(plan, quarter, as_at=as_at.date() if as_at else None, draft=True)
    out.write_bytes(build(data, kind))
    click.echo(f"Wrote {out} ({len(data.actions)} actions, {quarter.label}, as at {data.as_at.isoformat()}).")


@workbook_cli.command("issue-due")
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Pretend today is this date.")
@with_appcontext
def issue_due_command(today: dt.datetime | None):
    """Issue every workbook whose papers are due and e-mail members (what the scheduler runs daily)."""
    from tracker.workbooks.services import issue_due_workbooks

    issued = issue_due_workbooks(today.date() if today else None)
    db.session.remove()
    click.echo(f"Issued {len(issued)} workbook(s).")
