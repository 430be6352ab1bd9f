"""Backups that restore (tracker.backup), on the suite's database (SQLite, or PostgreSQL with TEST_DATABASE_URL):
a backup taken while others write holds every row committed before it began; restore goes only into an empty
database of the same schema version; the nightly SQLite backup keeps BACKUP_KEEP_DAYS days; `db downgrade`
refuses to drop tables holding rows unless told it may."""
from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
import threading
import time
import uuid

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from tracker import create_app
from tracker.backup import services
from tracker.extensions import db
from tracker.timeutil import utcnow

from .conftest import app_config

WRITERS = 4


class Databases:
    """Fresh databases for one test: migrated ones (copies of one migrated template) and empty ones."""

    def __init__(self, base_url: str, tmp_path, template):
        self.base = make_url(base_url)
        self.tmp_path = tmp_path
        self.template = template
        self.apps = []
        self.made = []

    @property
    def sqlite(self) -> bool:
        return self.base.get_backend_name() == "sqlite"

    def _url(self, empty: bool) -> str:
        name = f"bk_{uuid.uuid4().hex[:8]}"
        if self.sqlite:
            path = self.tmp_path / f"{name}.db"
            if not empty:
                shutil.copy(self.template, path)
            return f"sqlite:///{path}"
        full = f"{self.base.database}_{name}"
        with _admin(self.base) as conn:
            conn.execute(text(f'CREATE DATABASE "{full}"' + ("" if empty else f' TEMPLATE "{self.template}"')))
        self.made.append(full)
        return self.base.set(database=full).render_as_string(hide_password=False)

    def app(self, empty: bool = False, **config):
        app = create_app(app_config(self._url(empty), BACKUP_DIR=str(self.tmp_path / "backups"), **config))
        self.apps.append(app)
        return app

    def close(self):
        for app in self.apps:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
        for name in self.made:
            with _admin(self.base) as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


class _admin:
    def __init__(self, url):
        self.engine = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")

    def __enter__(self):
        self.conn = self.engine.connect()
        return self.conn

    def __exit__(self, *exc):
        self.conn.close()
        self.engine.dispose()


@pytest.fixture(scope="module")
def migrated_template(database_url, tmp_path_factory):
    """A database migrated to head once per module: an SQLite file to copy, or a PostgreSQL template."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        target = f"sqlite:///{tmp_path_factory.mktemp('backup-template')}/template.db"
        name = make_url(target).database
    else:
        name = f"{url.database}_bk_template"
        with _admin(url) as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        target = url.set(database=name).render_as_string(hide_password=False)
    app = create_app(app_config(target))
    with app.app_context():
        upgrade()
        db.session.remove()
        db.engine.dispose()
    yield name
    if url.get_backend_name() != "sqlite":
        with _admin(url) as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def databases(database_url, tmp_path, migrated_template):
    made = Databases(database_url, tmp_path, migrated_template)
    yield made
    made.close()


def invoke(app, *args, input=None):
    return app.test_cli_runner().invoke(args=list(args), input=input, catch_exceptions=False)


def table_names(app) -> set[str]:
    with app.app_context():
        return set(inspect(db.engine).get_table_names())


AUDIT = text("INSERT INTO audit_events (at, entity_type, entity_id, verb, summary) "
             "VALUES (:at, 'test', :n, 'create', :summary) RETURNING id")


def test_a_backup_taken_while_four_writers_commit_restores_every_row_committed_before_it(databases):
    source = databases.app()
    with source.app_context():
        engine = db.engine
    committed: list[int] = []
    lock = threading.Lock()
    stop = threading.Event()
    errors = []

    def write(writer: int):
        n = 0
        try:
            while not stop.is_set():
                n += 1
                with engine.begin() as conn:
                    new_id = conn.execute(AUDIT, {"at": utcnow(), "n": n, "summary": f"writer {writer}"}).scalar_one()
                with lock:  # after the commit returned: this row is committed
                    committed.append(new_id)
        except Exception as error:  # noqa: BLE001 - reported by the test below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    try:
        started = time.monotonic()
        deadline = started + 10
        while len(committed) < 200 or time.monotonic() < started + 1:  # a second of writing first
            assert time.monotonic() < deadline and not errors, errors or "the writers are too slow"
            time.sleep(0.01)
        with lock:
            before_backup = set(committed)
        result = invoke(source, "backup")
        time.sleep(0.5)  # the writers keep going after the backup
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
    assert not errors
    assert result.exit_code == 0, result.output
    assert "Backed up schema version" in result.output and "iB)" in result.output
    [backup_file] = (databases.tmp_path / "backups").iterdir()
    assert str(backup_file) in result.output
    assert len(committed) > len(before_backup)  # writes went on during and after the backup

    target = databases.app(empty=True)
    result = invoke(target, "restore", str(backup_file), "--yes")
    assert result.exit_code == 0, result.output
    assert "every table holds the backup's rows" in result.output
    with target.app_context():
        restored = set(db.session.scalars(text("SELECT id FROM audit_events WHERE entity_type = 'test'")))
        assert before_backup <= restored
        assert restored <= set(committed)
        if databases.sqlite:
            assert db.session.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
        assert db.session.scalar(text("SELECT count(*) FROM framework_items")) == 25
        assert db.session.scalar(text("SELECT version_num FROM alembic_version")) == services.head_revision()
        db.session.remove()
    if databases.sqlite:
        check = sqlite3.connect(str(backup_file))
        assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        check.close()


def test_restore_refuses_a_database_that_holds_rows_and_asks_before_it_restores(databases):
    source = databases.app()
    backup_file = databases.tmp_path / "copy.bak"
    assert invoke(source, "backup", "--out", str(backup_file)).exit_code == 0
    result = invoke(source, "restore", str(backup_file), "--yes")
    assert result.exit_code == 1
    assert "The database is not empty: framework_items (25 rows), frameworks (1 row)" in result.output
    target = databases.app(empty=True)
    result = invoke(target, "restore", str(backup_file), input="n\n")
    assert result.exit_code == 1 and "Aborted" in result.output
    assert "audit_events" not in table_names(target)
    result = invoke(target, "restore", str(backup_file), input="y\n")
    assert result.exit_code == 0, result.output


def test_restore_refuses_a_backup_of_another_schema_version(databases):
    source = databases.app()
    backup_file = databases.tmp_path / "old.bak"
    with source.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '0008'"))
    assert invoke(source, "backup", "--out", str(backup_file)).exit_code == 0
    target = databases.app(empty=True)
    result = invoke(target, "restore", str(backup_file), "--yes")
    assert result.exit_code == 1
    with target.app_context():
        head = services.head_revision()
    assert f"is a backup of schema version 0008, but this code's schema is {head}" in result.output
    assert "audit_events" not in table_names(target)


def test_backup_refuses_to_overwrite_a_file(databases, tmp_path):
    source = databases.app()
    existing = tmp_path / "there.bak"
    existing.write_text("keep me")
    result = invoke(source, "backup", "--out", str(existing))
    assert result.exit_code == 1 and "already exists" in result.output
    assert existing.read_text() == "keep me"


def test_the_nightly_job_keeps_the_newest_days_and_only_on_sqlite(databases):
    source = databases.app(BACKUP_KEEP_DAYS=3)
    folder = databases.tmp_path / "backups"
    folder.mkdir()
    today = utcnow().date()
    for age in range(10):
        day = today - dt.timedelta(days=age)
        (folder / f"nightly-{day:%Y%m%d}-021500.sqlite3").write_text("old")
    (folder / "tracker-20200101-000000.sqlite3").write_text("a manual backup")  # never deleted by the job
    from tracker.scheduler import process
    from tracker.scheduler.jobs import JOBS

    from tracker.scheduler import heartbeat
    from tracker.scheduler.models import SchedulerHeartbeat

    with source.app_context():
        heartbeat.beat(utcnow())
        db.session.remove()
    job = next(job for job in JOBS if job.id == "backup")
    process.run_job(source, job)
    with source.app_context():
        row = db.session.get(SchedulerHeartbeat, heartbeat.HEARTBEAT_ID)
        assert (row.last_job, row.last_job_error) == ("backup", None)
        db.session.remove()
    names = sorted(path.name for path in folder.iterdir())
    if not databases.sqlite:
        assert len(names) == 11  # nothing made, nothing deleted: PostgreSQL is backed up from cron
        return
    kept_days = sorted({services.NIGHTLY.match(name).group(1) for name in names if name.startswith("nightly-")})
    assert kept_days == [f"{today - dt.timedelta(days=age):%Y%m%d}" for age in (2, 1, 0)]
    assert len([name for name in names if name.startswith("nightly-")]) == 4  # three old days and tonight's
    assert "tracker-20200101-000000.sqlite3" in names
    newest = max(folder.glob("nightly-*"), key=lambda path: path.stat().st_mtime)
    with source.app_context():
        assert services.sqlite_backup_version(newest) == services.head_revision()


def test_a_downgrade_that_would_drop_tables_holding_rows_refuses_and_lists_them(databases):
    app = databases.app()
    before = table_names(app)
    result = invoke(app, "db", "downgrade", "base")
    assert result.exit_code == 1
    assert ("Downgrading to base would delete data: framework_items (25 rows), frameworks (1 row), "
            "themes (6 rows)") in result.output
    assert "--i-understand-this-deletes-data" in result.output
    assert table_names(app) == before  # the dry run changed nothing
    with app.app_context():
        assert db.session.scalar(text("SELECT count(*) FROM framework_items")) == 25
        db.session.remove()

    # A step that drops only empty tables goes ahead without the flag.
    result = invoke(app, "db", "downgrade", "0008")
    assert result.exit_code == 0, result.output
    assert "outbox_messages" not in table_names(app)

    result = invoke(app, "db", "downgrade", "base", "--i-understand-this-deletes-data")
    assert result.exit_code == 0, result.output
    assert table_names(app) <= {"alembic_version"}


def test_a_downgrade_that_would_drop_columns_holding_values_refuses_and_names_them(databases):
    """Issue 12: the guard looked only at tables; a downgrade dropping a column of a kept table went ahead."""
    app = databases.app()
    with app.app_context():
        db.session.execute(text(
            "INSERT INTO reminder_sends (recipient, kind, period, recipient_name, subject, status, attempts, "
            "created_at, next_attempt_at) VALUES ('a@example.scot', 'digest', 'day:2026-11-23', '', 'S', "
            "'failed', 1, '2026-11-23 07:00:00+00:00', '2026-11-23 07:01:00+00:00')"))
        db.session.commit()
        db.session.remove()
    result = invoke(app, "db", "downgrade", "e1bf010c4b95")
    assert result.exit_code == 1
    assert "would delete data: reminder_sends.next_attempt_at (1 row)" in result.output
    with app.app_context():
        assert "next_attempt_at" in {c["name"] for c in inspect(db.engine).get_columns("reminder_sends")}
        db.session.remove()
    result = invoke(app, "db", "downgrade", "e1bf010c4b95", "--i-understand-this-deletes-data")
    assert result.exit_code == 0, result.output


def test_without_the_postgresql_client_programs_the_message_says_what_to_install(monkeypatch):
    monkeypatch.setattr(services.shutil, "which", lambda name: None)
    monkeypatch.setattr(services.glob, "glob", lambda pattern: [])
    with pytest.raises(services.RuleError, match=r"pg_dump was not found on PATH or in /usr/lib/postgresql/\*/bin: "
                                                 r"install the PostgreSQL client programs"):
        services.pg_program("pg_dump")


def test_the_password_goes_to_pg_dump_in_its_environment_never_on_its_command_line():
    url = make_url("postgresql+psycopg://tracker:s3cret@db.internal:5433/tracker?sslmode=require")
    env = services.pg_environment(url)
    assert (env["PGHOST"], env["PGPORT"], env["PGUSER"], env["PGPASSWORD"], env["PGDATABASE"], env["PGSSLMODE"]) == (
        "db.internal", "5433", "tracker", "s3cret", "tracker", "require")


LOAD_WRITERS = 16


def test_a_backup_taken_while_sixteen_clients_write_through_the_services_restores_consistently(databases):
    """Issue 12: `flask backup` while 16 clients each create actions and record progress through the services
    (each write one transaction: the action or update with its audit event). The restore holds every row
    committed before the backup began, only rows that were written, each transaction whole, and checks clean."""
    from tests import factories
    from tracker.plans import services as plans
    from tracker.plans.models import Action, Plan, ProgressUpdate
    from tracker.rag import Status

    # The pool's default (5 + 10 overflow) is fewer than 16 writers and the backup: size it for the test.
    source = databases.app(SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True, "pool_size": LOAD_WRITERS + 2,
                                                      "max_overflow": 2, "pool_timeout": 10})
    with source.app_context():
        home = factories.partnership("Home IJB")
        plan_ids = [factories.plan(home, f"Plan {n}").id for n in range(LOAD_WRITERS)]
        db.session.commit()
        db.session.remove()
    committed = {"actions": set(), "updates": set()}
    attempted = {"actions": set(), "updates": set()}
    lock = threading.Lock()
    stop = threading.Event()
    errors = []

    def write(writer: int):
        try:
            with source.app_context():
                plan = db.session.get(Plan, plan_ids[writer])
                n = 0
                while not stop.is_set():
                    n += 1
                    action = factories.action(plan, text=f"Writer {writer} action {n}", ref=f"W{writer}-{n}")
                    with lock:
                        attempted["actions"].add(action.id)
                    db.session.commit()
                    with lock:  # after the commit returned: committed
                        committed["actions"].add(action.id)
                    update = plans.record_progress(action, status=Status.ON_TRACK, narrative=f"Update {n}")
                    with lock:
                        attempted["updates"].add(update.id)
                    db.session.commit()
                    with lock:
                        committed["updates"].add(update.id)
                db.session.remove()
        except Exception as error:  # noqa: BLE001 - reported by the test below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(LOAD_WRITERS)]
    for thread in threads:
        thread.start()
    try:
        started = time.monotonic()
        while len(committed["updates"]) < 2 * LOAD_WRITERS or time.monotonic() < started + 0.5:
            assert time.monotonic() < started + 20 and not errors, errors or "the writers are too slow"
            time.sleep(0.01)
        with lock:
            before_backup = {kind: set(ids) for kind, ids in committed.items()}
        result = invoke(source, "backup")
        time.sleep(0.3)  # the writers keep going after the backup
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=20)
    assert not errors, errors
    assert result.exit_code == 0, result.output
    assert len(committed["updates"]) > len(before_backup["updates"]), "writes went on during and after the backup"
    [backup_file] = (databases.tmp_path / "backups").iterdir()
    with source.app_context():
        source_objects = None if databases.sqlite else schema_objects()
        db.session.remove()

    target = databases.app(empty=True)
    result = invoke(target, "restore", str(backup_file), "--yes")
    assert result.exit_code == 0, result.output
    assert "every table holds the backup's rows" in result.output
    with target.app_context():
        actions = set(db.session.scalars(select_ids(Action)))
        updates = set(db.session.scalars(select_ids(ProgressUpdate)))
        assert before_backup["actions"] <= actions <= attempted["actions"]
        assert before_backup["updates"] <= updates <= attempted["updates"]
        # Each transaction whole: an action with its creation's audit event, an update with its own and its action.
        audited = {(kind, entity) for kind, entity in db.session.execute(text(
            "SELECT entity_type, entity_id FROM audit_events WHERE entity_type = 'action'"))}
        assert {("action", i) for i in actions} <= audited
        assert {i for kind, i in audited if kind == "action"} <= actions, "an audit event without its action"
        progress_audits = db.session.scalar(text(
            "SELECT count(*) FROM audit_events WHERE entity_type = 'action' AND verb = 'progress'"))
        assert progress_audits == len(updates), "each update with its audit event"
        orphans = db.session.scalar(text(
            "SELECT count(*) FROM progress_updates p LEFT JOIN actions a ON a.id = p.action_id WHERE a.id IS NULL"))
        assert orphans == 0
        stale = db.session.scalar(text(
            "SELECT count(*) FROM actions a WHERE a.last_update_at IS NOT NULL AND NOT EXISTS "
            "(SELECT 1 FROM progress_updates p WHERE p.action_id = a.id AND p.created_at = a.last_update_at)"))
        assert stale == 0, "an action saying it was updated, without that update"
        if databases.sqlite:
            assert db.session.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
            assert db.session.execute(text("PRAGMA foreign_key_check")).all() == []
        else:  # every constraint and index came back, and each index agrees with its table (amcheck)
            assert schema_objects() == source_objects
            if db.session.scalar(text("SELECT count(*) FROM pg_available_extensions WHERE name = 'amcheck'")):
                db.session.execute(text("CREATE EXTENSION IF NOT EXISTS amcheck"))
                for (index,) in db.session.execute(text(
                        "SELECT c.oid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am "
                        "ON am.oid = c.relam WHERE am.amname = 'btree' AND c.relnamespace = 'public'::regnamespace")):
                    db.session.execute(text("SELECT bt_index_check(:index, true)"), {"index": index})
        db.session.remove()


def select_ids(model):
    from sqlalchemy import select

    return select(model.id)


def schema_objects() -> set[tuple[str, str]]:
    """PostgreSQL: every constraint and index of the public schema, by table and name."""
    return {tuple(row) for row in db.session.execute(text(
        "SELECT conrelid::regclass::text, conname FROM pg_constraint WHERE connamespace = 'public'::regnamespace "
        "UNION SELECT tablename, indexname FROM pg_indexes WHERE schemaname = 'public'"))}
