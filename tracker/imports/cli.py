from __future__ import annotations

import click
from flask import current_app
from sqlalchemy import select

from tracker.extensions import db
from tracker.imports import services
from tracker.imports.problems import ERROR, Problem
from tracker.imports.safety import ImportRefused
from tracker.imports.xlsx_plan import ROLES
from tracker.partnerships.models import Partnership


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--partnership", "partnership_name", required=True, help="The partnership's name, as in the tracker.")
@click.option("--plan", "plan_name", help="The plan to create or update (default: from the file).")
@click.option("--column", "columns", multiple=True, metavar="ROLE=LETTER",
              help=f"Correct the column mapping of a workbook, e.g. --column action=D. Roles: {', '.join(ROLES)}.")
@click.option("--dry-run", is_flag=True, help="Show what would change and write nothing.")
def import_command(file, partnership_name, plan_name, columns, dry_run):
    """Import an action or delivery plan (.xlsx) or an MSG self-evaluation (.docx)."""
    partnership = db.session.scalar(select(Partnership).where(Partnership.name == partnership_name))
    if partnership is None:
        raise click.ClickException(f"No partnership is called '{partnership_name}'.")
    mapping = _mapping(columns)
    limits = services.Limits(max_bytes=current_app.config["MAX_CONTENT_LENGTH"])
    try:
        parsed = services.read(file, mapping=mapping, limits=limits, progress=_progress)
    except ImportRefused as refused:
        raise click.ClickException(str(refused)) from None
    plan_name = plan_name or services.default_plan_name(parsed, click.format_filename(file).rsplit("/", 1)[-1])
    preview = services.changes(parsed, partnership, plan_name)
    _print_preview(preview)
    problems = [Problem.from_dict(p) for p in preview["problems"]]
    if any(p.severity == ERROR for p in problems):
        raise click.ClickException("The file has errors (listed above); nothing was imported.")
    if dry_run:
        click.echo("Dry run: nothing was written.")
        return
    try:
        summary = services.apply(parsed, partnership, plan_name, actor_id=None, preview=preview)
        db.session.commit()
    except services.ImportBlocked as blocked:
        db.session.rollback()
        raise click.ClickException(str(blocked)) from None
    except Exception:
        db.session.rollback()
        raise
    click.echo(f"Imported into '{plan_name}': {summary['create']} created, {summary['update']} updated, "
               f"{summary['unchanged']} unchanged.")
    if "ratings" in summary:
        ratings = summary["ratings"]
        click.echo(f"Ratings in '{summary['round_title']}': {ratings['create']} created, {ratings['update']} updated, "
                   f"{ratings['unchanged']} unchanged.")


def _mapping(columns: tuple[str, ...]) -> dict[str, str] | None:
    if not columns:
        return None
    mapping = {}
    for spec in columns:
        role, _, letter = spec.partition("=")
        if role not in ROLES or not letter.strip().isalpha():
            raise click.BadParameter(f"'{spec}' is not ROLE=LETTER with a role from: {', '.join(ROLES)}.",
                                     param_hint="--column")
        mapping[role] = letter.strip().upper()
    return mapping


def _progress(rows: int) -> None:
    click.echo(f"{rows:,} rows read", err=True)


def _print_preview(preview: dict) -> None:
    parsed = preview["parsed"]
    if preview["kind"] == "xlsx":
        click.echo(f"Sheet '{parsed['sheet']}', header on row {parsed['header_row']}; {parsed['mode']}.")
        click.echo("Columns: " + ", ".join(f"{ROLES[role]} = {letter}" for role, letter in parsed["mapping"].items()))
        for row in preview["rows"]:
            read = row["timescale_read"]
            due = f"due {read['end']}" if read["end"] else read["kind"]
            click.echo(f"  row {row['row']}: {row['verb']} {row['ref']} | timescale '{row['timescale']}' -> {due}"
                       f" | leads: {', '.join(name for _, name, _ in row['leads']) or '-'}")
        if preview["new_organisations"]:
            click.echo("New organisations: " + "; ".join(preview["new_organisations"]))
    else:
        for row in preview["rows"]:
            click.echo(f"  proposal {row['number']}: {row['verb']} rating {row['level_used'] or 'not rated'}")
        for action in preview["actions"]:
            click.echo(f"  action {action['ref']} ({', '.join(action['numbers'])}): {action['verb']}")
    counts = preview["counts"]
    click.echo(f"{counts['create']} to create, {counts['update']} to update, {counts['unchanged']} unchanged.")
    for problem in preview["problems"]:
        p = Problem.from_dict(problem)
        click.echo(f"{p.severity.upper()}: {p.where + ': ' if p.where else ''}{p.message}", err=True)
