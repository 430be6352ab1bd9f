"""Backups that restore: a consistent copy while the app runs, a restore into an empty database only, and a
guard on downgrades that would drop tables holding rows.

SQLite is copied with the online backup API (a snapshot of one read transaction: every commit before it,
none half-made, even in WAL mode where a plain `cp` can miss the commits still in the -wal file).
PostgreSQL is dumped with `pg_dump --format=custom` and restored with `pg_restore` in one transaction;
the password goes to both in PGPASSWORD, never on the command line.

Nothing here uses the session: each function opens and closes its own connections.
"""
from __future__ import annotations

import datetime as dt
import glob
import logging
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.engine import URL, make_url

from tracker.errors import RuleError
from tracker.extensions import db
from tracker.timeutil import utcnow

log = logging.getLogger("tracker.backup")

#: Tables that are bookkeeping, not data: a database whose only rows are here counts as empty.
BOOKKEEPING = {"alembic_version"}
#: The nightly job's files (the only ones its retention ever deletes): nightly-YYYYmmdd-HHMMSS.sqlite3
NIGHTLY = re.compile(r"^nightly-(\d{8})-(\d{6})\.sqlite3$")


# --- where things are ----------------------------------------------------------------------------------

def database_url() -> URL:
    """The app's database URL as the engine uses it (relative SQLite paths already resolved)."""
    return db.engine.url


def dialect() -> str:
    return database_url().get_backend_name()


def backup_dir(config=None) -> Path:
    config = config or current_app.config
    return Path(config.get("BACKUP_DIR") or Path(current_app.instance_path) / "backups")


def default_backup_path(prefix: str = "tracker", now: dt.datetime | None = None) -> Path:
    suffix = ".sqlite3" if dialect() == "sqlite" else ".dump"
    stamp = (now or utcnow()).strftime("%Y%m%d-%H%M%S")
    return backup_dir() / f"{prefix}-{stamp}{suffix}"


def sqlite_path(url: URL | None = None) -> Path:
    url = url or database_url()
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        raise RuleError(f"Cannot back up the SQLite database {url.database!r}: it is not a file.")
    return Path(url.database)


def head_revision() -> str:
    """The schema version the code expects (the single Alembic head)."""
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    if len(heads) != 1:
        raise RuleError(f"The migrations have {len(heads)} heads ({', '.join(heads)}): merge them first.")
    return heads[0]


def alembic_config(x_arg=None):
    return current_app.extensions["migrate"].migrate.get_config(x_arg=x_arg)


# --- PostgreSQL client programs -------------------------------------------------------------------------

def pg_program(name: str) -> str:
    """pg_dump or pg_restore: on PATH, else the newest /usr/lib/postgresql/*/bin; a RuleError if neither."""
    found = shutil.which(name)
    if found:
        return found

    def version(path: str) -> tuple:
        part = Path(path).parent.parent.name
        return tuple(int(p) for p in part.split(".") if p.isdigit()) or (0,)

    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=version)
    if candidates:
        return candidates[-1]
    raise RuleError(f"{name} was not found on PATH or in /usr/lib/postgresql/*/bin: install the PostgreSQL "
                    f"client programs (Debian/Ubuntu: apt-get install postgresql-client) and try again.")


def pg_environment(url: URL) -> dict:
    """The libpq environment for `url`: host, port, user, database and the password (PGPASSWORD)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    values = {"PGHOST": url.host, "PGPORT": url.port, "PGUSER": url.username, "PGPASSWORD": url.password,
              "PGDATABASE": url.database, "PGSSLMODE": url.query.get("sslmode")}
    env.update({k: str(v) for k, v in values.items() if v not in (None, "")})
    return env


def _run(command: list[str], env: dict, what: str) -> subprocess.CompletedProcess:
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise RuleError(f"{what} failed (exit status {result.returncode}): {' '.join(detail[-3:]) or 'no message'}")
    return result


def dump_contents(path: Path, only_table: str | None = None) -> tuple[dict[str, int], list[str]]:
    """Row counts per table in a pg_dump custom-format file, and the alembic_version rows, read by streaming
    `pg_restore --data-only` (COPY text format: one line per row)."""
    command = [pg_program("pg_restore"), "--data-only", "--file=-", str(path)]
    if only_table:
        command[2:2] = [f"--table={only_table}"]
    counts: dict[str, int] = {}
    versions: list[str] = []
    copy = re.compile(r'^COPY (?:"?[^ ."]+"?\.)?"?([^ "(]+)"? ')
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env=pg_environment(make_url("postgresql://"))) as process:
        table = None
        for raw in process.stdout:
            row = raw.rstrip("\n")
            if table is None:
                match = copy.match(row)
                if match and row.endswith("FROM stdin;"):
                    table = match.group(1)
                    counts[table] = 0
            elif row == "\\.":
                table = None
            else:
                counts[table] += 1
                if table == "alembic_version":
                    versions.append(row)
        error = process.stderr.read()
    if process.returncode != 0:
        raise RuleError(f"Cannot read the backup {path}: {error.strip() or 'pg_restore failed'}")
    return counts, versions


# --- reading a database ---------------------------------------------------------------------------------

def row_counts(connection) -> dict[str, int]:
    """Rows in each table of the connection's database (its default schema)."""
    names = sa.inspect(connection).get_table_names()
    preparer = connection.dialect.identifier_preparer
    return {name: connection.execute(sa.text(f"SELECT count(*) FROM {preparer.quote(name)}")).scalar_one()
            for name in names}


def data_tables(counts: dict[str, int]) -> dict[str, int]:
    return {name: n for name, n in sorted(counts.items()) if n and name not in BOOKKEEPING}


def describe(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} ({n} row{'s' if n != 1 else ''})" for name, n in counts.items())


def sqlite_backup_version(path: Path) -> str | None:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        try:
            rows = connection.execute("SELECT version_num FROM alembic_version").fetchall()
        except sqlite3.DatabaseError as error:
            raise RuleError(f"{path} is not an SQLite backup of the tracker ({error}).") from None
    finally:
        connection.close()
    return rows[0][0] if len(rows) == 1 else None


def sqlite_integrity(connection: sqlite3.Connection) -> str:
    return "; ".join(row[0] for row in connection.execute("PRAGMA integrity_check").fetchall())


# --- backup ---------------------------------------------------------------------------------------------

@dataclass
class Backup:
    path: Path
    size: int
    version: str | None
    counts: dict[str, int] = field(default_factory=dict)


def backup(out: Path | str | None = None, *, prefix: str = "tracker") -> Backup:
    """Copy the app's database to `out` (default: BACKUP_DIR/<prefix>-<UTC timestamp>.sqlite3 or .dump)."""
    out = Path(out) if out else default_backup_path(prefix)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists():
        raise RuleError(f"{out} already exists: choose another file name.", field="out")
    partial = out.with_name(out.name + ".partial")
    try:
        if dialect() == "sqlite":
            result = _backup_sqlite(partial)
        elif dialect() == "postgresql":
            result = _backup_postgresql(partial)
        else:
            raise RuleError(f"Backups are not supported on {dialect()}.")
        os.replace(partial, out)  # a file at `out` is always a complete backup
    finally:
        partial.unlink(missing_ok=True)
    result.path = out
    return result


def _backup_sqlite(target: Path) -> Backup:
    source = sqlite3.connect(str(sqlite_path()), timeout=30)
    copy = sqlite3.connect(str(target))
    try:
        source.execute("PRAGMA busy_timeout=30000")
        source.backup(copy)  # one step: a snapshot of one read transaction, consistent while others write
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        problems = sqlite_integrity(copy)
        if problems != "ok":
            raise RuleError(f"The backup copy failed its integrity check: {problems}")
        counts = row_counts_sqlite(copy)
    finally:
        copy.close()
        source.close()
    return Backup(target, target.stat().st_size, sqlite_backup_version(target), counts)


def row_counts_sqlite(connection: sqlite3.Connection) -> dict[str, int]:
    names = [r[0] for r in connection.execute(
        "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")]
    return {name: connection.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in names}


def _backup_postgresql(target: Path) -> Backup:
    url = database_url()
    _run([pg_program("pg_dump"), "--format=custom", "--no-owner", "--no-acl", f"--file={target}"],
         pg_environment(url), "pg_dump")
    counts, versions = dump_contents(target)
    return Backup(target, target.stat().st_size, versions[0] if len(versions) == 1 else None, counts)


# --- restore --------------------------------------------------------------------------------------------

def backup_version(path: Path) -> str | None:
    if dialect() == "sqlite":
        return sqlite_backup_version(path)
    _, versions = dump_contents(path, only_table="alembic_version")
    return versions[0] if len(versions) == 1 else None


def check_restorable(path: Path | str) -> str:
    """Refuse unless `path` is a backup of the code's schema version and the app's database holds no rows.
    Returns the version."""
    path = Path(path)
    if not path.is_file():
        raise RuleError(f"There is no backup file {path}.", field="file")
    head = head_revision()
    version = backup_version(path)
    if version is None:
        raise RuleError(f"{path} has no schema version (no alembic_version row): it is not a tracker backup.")
    if version != head:
        raise RuleError(f"{path} is a backup of schema version {version}, but this code's schema is {head}: "
                        f"restore it with the tracker release that made it (then upgrade), or use a newer backup.")
    with db.engine.connect() as connection:
        holding = data_tables(row_counts(connection))
    if holding:
        raise RuleError(f"The database is not empty: {describe(holding)}. Restore only into a new, empty "
                        f"database (create it, do not run `db upgrade`, then restore).")
    return version


@dataclass
class Restored:
    version: str
    counts: dict[str, int]


def restore(path: Path | str) -> Restored:
    """Restore `path` into the app's (empty) database, then verify: the schema version is the code's head,
    every table holds as many rows as the backup, and (SQLite) the integrity check passes."""
    path = Path(path)
    check_restorable(path)
    db.session.remove()
    db.engine.dispose()
    if dialect() == "sqlite":
        expected = _restore_sqlite(path)
    else:
        expected = _restore_postgresql(path)
    db.engine.dispose()
    with db.engine.connect() as connection:
        counts = row_counts(connection)
        version = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()
    if version != head_revision():
        raise RuleError(f"Restored, but the schema version is {version}, not {head_revision()}.")
    wrong = {name: (n, counts.get(name)) for name, n in expected.items() if counts.get(name) != n}
    if wrong:
        raise RuleError("Restored, but these tables do not hold the backup's rows: " + ", ".join(
            f"{name} ({got} rows, the backup has {want})" for name, (want, got) in sorted(wrong.items())))
    return Restored(version, counts)


def _restore_sqlite(path: Path) -> dict[str, int]:
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    target = sqlite3.connect(str(sqlite_path()), timeout=30)
    try:
        problems = sqlite_integrity(source)
        if problems != "ok":
            raise RuleError(f"{path} failed its integrity check, nothing was restored: {problems}")
        expected = row_counts_sqlite(source)
        target.execute("PRAGMA busy_timeout=30000")
        source.backup(target)  # replaces the whole (empty) database in one step
        target.execute("PRAGMA journal_mode=WAL")
        problems = sqlite_integrity(target)
        if problems != "ok":
            raise RuleError(f"Restored, but the database failed its integrity check: {problems}")
    finally:
        target.close()
        source.close()
    return expected


def _restore_postgresql(path: Path) -> dict[str, int]:
    expected, _ = dump_contents(path)
    # --clean --if-exists drops the (empty) tables a previous attempt or `db upgrade` may have made;
    # --single-transaction: all of it or nothing.
    _run([pg_program("pg_restore"), "--no-owner", "--no-acl", "--clean", "--if-exists", "--single-transaction",
          "--exit-on-error", f"--dbname={database_url().database}", str(path)],
         pg_environment(database_url()), "pg_restore")
    return expected


# --- the nightly job ------------------------------------------------------------------------------------

def nightly_backups(directory: Path) -> list[tuple[dt.date, Path]]:
    found = []
    for path in directory.glob("nightly-*.sqlite3"):
        match = NIGHTLY.match(path.name)
        if match:
            found.append((dt.datetime.strptime(match.group(1), "%Y%m%d").date(), path))
    return sorted(found)


def prune(directory: Path, keep_days: int, today: dt.date) -> list[Path]:
    """Delete the nightly backups older than the newest `keep_days` days (today included); returns them."""
    oldest_kept = today - dt.timedelta(days=max(keep_days, 1) - 1)
    removed = []
    for day, path in nightly_backups(directory):
        if day < oldest_kept:
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def scheduled_backup() -> None:
    """The scheduler's nightly job: back up the embedded SQLite database and keep BACKUP_KEEP_DAYS days.
    On PostgreSQL it does nothing (run `tracker backup` from cron: see README, Backups)."""
    if dialect() != "sqlite":
        log.info("Nightly backup skipped: the database is PostgreSQL (run `tracker backup` from cron).")
        return
    made = backup(prefix="nightly")
    removed = prune(made.path.parent, current_app.config.get("BACKUP_KEEP_DAYS", 14), utcnow().date())
    log.info("Nightly backup %s (%d bytes); removed %d older backup(s).", made.path, made.size, len(removed))


# --- the downgrade guard --------------------------------------------------------------------------------

def downgrade_losses(revision: str) -> dict[str, int]:
    """What `db downgrade revision` would delete: {table: rows lost}, for tables it drops (all their rows)
    or empties in part, and {"table.column": rows with a value} for columns it drops from tables it keeps.
    Found by running the downgrade where it can be undone: on PostgreSQL in a transaction that is rolled
    back (DDL is transactional), on SQLite against a backup copy; the dropped columns' values are then
    counted in the database itself, which the dry run left as it was."""
    from alembic import command

    config = alembic_config()
    config.attributes["quiet"] = True
    if dialect() == "postgresql":
        with db.engine.connect() as connection:
            transaction = connection.begin()
            try:
                before, columns_before = row_counts(connection), column_names(connection)
                config.attributes["connection"] = connection
                command.downgrade(config, revision)
                after, columns_after = row_counts(connection), column_names(connection)
            finally:
                transaction.rollback()
    elif dialect() == "sqlite":
        with tempfile.TemporaryDirectory(prefix="tracker-downgrade-") as scratch:
            copy_path = Path(scratch) / "copy.db"
            source = sqlite3.connect(str(sqlite_path()), timeout=30)
            copy = sqlite3.connect(str(copy_path))
            try:
                source.backup(copy)
            finally:
                copy.close()
                source.close()
            engine = sa.create_engine(f"sqlite:///{copy_path}", poolclass=sa.pool.NullPool)
            sa.event.listen(engine, "connect", lambda c, _r: c.execute("PRAGMA foreign_keys=ON"))
            try:
                with engine.connect() as connection:
                    before, columns_before = row_counts(connection), column_names(connection)
                    connection.commit()
                    config.attributes["connection"] = connection
                    command.downgrade(config, revision)
                    connection.commit()
                    after, columns_after = row_counts(connection), column_names(connection)
            finally:
                engine.dispose()
    else:
        return {}
    losses = {}
    for name, n in before.items():
        lost = n - after.get(name, 0)
        if lost > 0 and name not in BOOKKEEPING:
            losses[name] = lost
    dropped = {table: sorted(columns - columns_after[table]) for table, columns in columns_before.items()
               if table in columns_after and table not in BOOKKEEPING and columns - columns_after[table]}
    if dropped:
        with db.engine.connect() as connection:
            preparer = connection.dialect.identifier_preparer
            for table, columns in dropped.items():
                for column in columns:
                    held = connection.execute(sa.text(
                        f"SELECT count(*) FROM {preparer.quote(table)} WHERE {preparer.quote(column)} IS NOT NULL"
                    )).scalar_one()
                    if held:
                        losses[f"{table}.{column}"] = held
    return dict(sorted(losses.items()))


def column_names(connection) -> dict[str, set[str]]:
    """{table: its column names} in the connection's database."""
    inspector = sa.inspect(connection)
    return {name: {column["name"] for column in inspector.get_columns(name)} for name in inspector.get_table_names()}
