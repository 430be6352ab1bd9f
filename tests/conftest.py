"""Shared fixtures: the app on SQLite (default) or PostgreSQL (TEST_DATABASE_URL), clients per role."""
from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import g
from sqlalchemy import text

from tests import factories, url_builders
from tracker import create_app
from tracker.auth.models import Role, User
from tracker.extensions import db

FIXTURES = Path(__file__).parent / "fixtures"
URL_BUILDERS_SHARED = url_builders.install()  # an app per test: its URL rules compiled once per process


def in_ci() -> bool:
    """CI=true: every component the suite promises (PostgreSQL, Chromium, LibreOffice) must be there."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes", "on"}


def skip_unless(available: bool, reason: str) -> None:
    """Skip for a missing component on a developer's machine; in CI, fail instead (a skip there would
    hide that the component was never installed)."""
    if available:
        return
    if in_ci():
        pytest.fail(f"{reason}, and CI=true refuses to skip it", pytrace=False)
    pytest.skip(reason)


def soffice_path() -> str | None:
    return shutil.which("soffice") or ("/usr/bin/soffice" if os.path.exists("/usr/bin/soffice") else None)


@pytest.fixture
def soffice() -> str:
    """LibreOffice's soffice: the test skips without it, or fails in CI."""
    path = soffice_path()
    skip_unless(path is not None, "LibreOffice (soffice) is not installed")
    return path


def pytest_runtest_logreport(report):
    """Record each skip (node id and reason) in TRACKER_SKIP_REPORT, for the allow-list check (tests/skips.py)."""
    target = os.environ.get("TRACKER_SKIP_REPORT")
    if not target or not report.skipped or getattr(report, "wasxfail", None) is not None:
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    with open(target, "a", encoding="utf-8") as file:
        file.write(f"{report.nodeid}\t{' '.join(str(reason).split())}\n")


def _database_url(tmp_dir: str) -> str:
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_dir}/tests.db"


@pytest.fixture(scope="session")
def database_url():
    with tempfile.TemporaryDirectory(prefix="tracker-tests-") as tmp_dir:
        yield _database_url(tmp_dir)


def subprocess_env(**explicit: str) -> dict:
    """The environment for a `flask ...` subprocess: the caller's, minus every variable the app's
    configuration reads (so a developer's TRUST_PROXY or MAIL_* cannot leak in), plus `explicit`."""
    from tracker.config import environment_names

    names = environment_names()
    return {**{k: v for k, v in os.environ.items() if k not in names}, **explicit}


def stop_process(process: subprocess.Popen, timeout: float = 30):
    """SIGTERM a test's child process and wait for it, returning what it printed (if piped). If it does not
    stop in time, SIGKILL it (so it cannot go on working on the shared test database through the tests after
    this one) and fail."""
    if process.poll() is None:
        process.terminate()
    try:
        return process.communicate(timeout=timeout)[0]
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise AssertionError(f"{process.args} did not stop within {timeout:g} s of SIGTERM (killed)") from None


_SCRATCH = tempfile.mkdtemp(prefix="tracker-test-files-")  # backups and job results of the tests' apps
atexit.register(shutil.rmtree, _SCRATCH, ignore_errors=True)


def app_config(database_url: str, **overrides) -> dict:
    return {
        "BACKUP_DIR": os.path.join(_SCRATCH, "backups"),
        "JOB_RESULTS_DIR": os.path.join(_SCRATCH, "job-results"),
        "TESTING": True,
        "SECRET_KEY": "tests",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "SERVER_NAME": "tracker.test",
        "BASE_URL": "http://tracker.test",
        "MAIL_SUPPRESS_SEND": True,
        "DEMO_PASSWORD": factories.PASSWORD,
        "JOBS_IMMEDIATE": True,  # a job runs where it starts; tests/test_jobs.py runs a real worker too
        **overrides,
    }


@pytest.fixture(scope="session")
def _schema(database_url):
    """Create the schema once per test session."""
    app = create_app(app_config(database_url))
    with app.app_context():
        db.drop_all()
        db.create_all()
    yield
    with app.app_context():
        db.drop_all()
        db.engine.dispose()


#: A table holding more rows than this is emptied with TRUNCATE (PostgreSQL), which costs about 0.1 s whatever
#: the size; a test's few rows go faster with DELETE (a few milliseconds for every table), and that is most tests.
_DELETE_AT_MOST = 5_000


def _empty_all_tables() -> None:
    """Every table emptied and, on PostgreSQL, every sequence restarted, as a fresh schema has them."""
    tables = list(reversed(db.metadata.sorted_tables))  # children before the rows they refer to
    if db.engine.dialect.name == "postgresql" and _holds_many_rows(tables):
        names = ", ".join(f'"{t.name}"' for t in tables)
        db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    elif db.engine.dialect.name == "postgresql":  # one round trip for every table
        db.session.execute(text("; ".join(f'DELETE FROM "{t.name}"' for t in tables)))
        db.session.execute(text(
            "SELECT setval(format('%I.%I', schemaname, sequencename)::regclass, 1, false) FROM pg_sequences "
            "WHERE schemaname = current_schema() AND last_value IS NOT NULL"))
    else:
        for table in tables:
            db.session.execute(table.delete())
    db.session.commit()


def _holds_many_rows(tables) -> bool:
    """Whether any table holds more than _DELETE_AT_MOST rows (one query; each scan stops there)."""
    checks = " UNION ALL ".join(
        f'SELECT 1 WHERE EXISTS (SELECT 1 FROM "{t.name}" OFFSET {_DELETE_AT_MOST})' for t in tables)
    return db.session.execute(text(checks)).first() is not None


def _forget_previous_user() -> None:
    """Requests in a test share the fixture's app context (and so `g`): Flask-Login must not reuse the user
    it loaded for an earlier request, or a second client (or a replayed cookie) would act as the first user."""
    g.pop("_login_user", None)


@pytest.fixture
def make_app(database_url, _schema):
    """Build an app with extra config; tables are emptied after the test."""
    apps = []

    def factory(**overrides):
        app = create_app(app_config(database_url, **overrides))
        app.before_request(_forget_previous_user)
        apps.append(app)
        return app

    yield factory
    for app in apps:
        with app.app_context():
            db.session.remove()
    if apps:
        with apps[0].app_context():
            _empty_all_tables()
        for app in apps:
            with app.app_context():
                db.engine.dispose()


@pytest.fixture
def app(make_app):
    app = make_app()
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def executions_of(app, client, url: str, what) -> tuple[list, object]:
    """`what(connection, statement)` for each statement one GET of `url` runs, and the response (a 200)."""
    from sqlalchemy import event

    seen = []

    def note(conn, cursor, statement, parameters, context, executemany):
        seen.append(what(conn, statement))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        response = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert response.status_code == 200, url
    return seen, response


def statements_of(app, client, url: str) -> tuple[list[str], str]:
    """The statements one GET of `url` runs (each shortened to 100 characters), and the page it answers with."""
    seen, response = executions_of(app, client, url, lambda _conn, statement: " ".join(statement.split())[:100])
    return seen, response.text


def sign_in_client(app, user: User):
    """A test client whose session is signed in as `user` (no password round trip)."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
    return client


@dataclass
class World:
    """Two partnerships, users in every role, and a plan with actions in each."""

    home: object
    other: object
    admin: User
    manager: User
    officer: User
    other_officer: User
    viewer: User
    outsider: User
    plan: object
    other_plan: object
    officer_action: object
    colleague_action: object
    outsider_action: object


@pytest.fixture
def world(app) -> World:
    home = factories.partnership("Home IJB")
    other = factories.partnership("Other IJB")
    admin = factories.user(is_admin=True, role=None, email="admin@example.scot")
    manager = factories.user(home, Role.PLAN_MANAGER, email="manager@example.scot")
    officer = factories.user(home, Role.LEAD_OFFICER, email="officer@example.scot")
    other_officer = factories.user(home, Role.LEAD_OFFICER, email="colleague@example.scot")
    viewer = factories.user(home, Role.VIEWER, email="viewer@example.scot")
    outsider = factories.user(other, Role.PLAN_MANAGER, email="outsider@example.scot")
    plan = factories.plan(home, "Home action plan", manager=manager)
    other_plan = factories.plan(other, "Other action plan", manager=outsider)
    officer_action = factories.action(plan, lead=officer, ref="A1")
    colleague_action = factories.action(plan, lead=other_officer, ref="A2")
    outsider_action = factories.action(other_plan, lead=outsider, ref="B1")
    db.session.commit()
    return World(home, other, admin, manager, officer, other_officer, viewer, outsider, plan, other_plan,
                 officer_action, colleague_action, outsider_action)


@pytest.fixture
def client_as(app):
    """client_as(user) -> a signed-in test client."""
    return lambda user: sign_in_client(app, user)


@pytest.fixture
def api(app):
    """api(user) -> a test client that sends a fresh API token for `user`."""
    return lambda user: api_client(app, user)


def api_client(app, user):
    """A test client of `app` that sends a fresh API token for `user`."""
    from tracker.api import tokens

    _, secret = tokens.create_token(user, "tests")
    db.session.commit()
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
    return client
