"""`tracker backup`, `tracker restore FILE`, and `tracker db ...` with a guarded `db downgrade`."""
from __future__ import annotations

import copy

import click
from flask.cli import with_appcontext

DATA_LOSS_FLAG = "--i-understand-this-deletes-data"


def _size(n: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


@click.command("backup")
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="The backup file (default: BACKUP_DIR, or instance/backups, with a timestamp in the name).")
@with_appcontext
def backup_command(out):
    """Make a consistent copy of the database while the app runs (SQLite: online backup; PostgreSQL: pg_dump)."""
    from tracker.backup import services

    made = services.backup(out)
    click.echo(f"Backed up schema version {made.version} to {made.path} ({_size(made.size)}).")


@click.command("restore")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def restore_command(file, yes):
    """Restore a backup into an EMPTY database (same schema version as this code), then verify it."""
    from tracker.backup import services

    version = services.check_restorable(file)
    target = services.database_url().render_as_string(hide_password=True)
    if not yes:
        click.confirm(f"Restore {file} (schema version {version}) into {target}?", abort=True)
    restored = services.restore(file)
    rows = sum(n for name, n in restored.counts.items() if name not in services.BOOKKEEPING)
    click.echo(f"Restored {file} into {target}: schema version {restored.version}, {rows} rows in "
               f"{len(restored.counts)} tables; every table holds the backup's rows.")


@click.command("downgrade")
@click.option("-d", "--directory", default=None, help='Migration script directory (default is "migrations")')
@click.option("--sql", is_flag=True, help="Don't emit SQL to database - dump to standard output instead")
@click.option("--tag", default=None, help='Arbitrary "tag" name - can be used by custom env.py scripts')
@click.option("-x", "--x-arg", multiple=True, help="Additional arguments consumed by custom env.py scripts")
@click.option("--i-understand-this-deletes-data", "deletes_data", is_flag=True,
              help="Downgrade even though it drops tables or columns (or deletes rows) that hold data.")
@click.argument("revision", default="-1")
@with_appcontext
def downgrade_command(directory, sql, tag, x_arg, deletes_data, revision):
    """Revert to a previous version; refuses if that would delete rows, unless told it may."""
    from flask import g
    from flask_migrate import downgrade

    from tracker.backup import services
    from tracker.errors import RuleError

    if not sql:
        losses = services.downgrade_losses(revision)
        if losses and not deletes_data:
            raise RuleError(f"Downgrading to {revision} would delete data: {services.describe(losses)}. "
                            f"Back up first (`tracker backup`), then run it again with {DATA_LOSS_FLAG} "
                            f"if you mean it.")
        if losses:
            click.echo(f"Deleting, as asked: {services.describe(losses)}.", err=True)
    downgrade(directory or g.get("directory"), revision, sql, tag, x_arg or g.get("x_arg"))


def _db_group() -> click.Group:
    """Flask-Migrate's `db` group with its own commands (copies, so nothing here changes the library's
    objects) and the guarded `downgrade`."""
    from flask_migrate.cli import db as original

    commands = {name: copy.copy(command) for name, command in original.commands.items()}
    commands["downgrade"] = downgrade_command
    return click.Group(name="db", commands=commands, callback=original.callback, params=original.params,
                       help=original.help)


db_cli = _db_group()
