"""Start-up checks in production: each problem is one clear line and a non-zero exit, before any request."""
from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from tracker.config import ConfigError, check, check_database, from_environment, problems

ROOT = str(Path(__file__).resolve().parent.parent)
KEY = secrets.token_hex(32)
PG_DOWN = "postgresql+psycopg://tracker:hunter2@127.0.0.1:1/tracker"


def production(**overrides) -> dict:
    config = from_environment("/tmp/tracker-instance")
    config.update(ENV_NAME="production", SECRET_KEY=KEY, BASE_URL="https://tracker.hscp.example.org",
                  SQLALCHEMY_DATABASE_URI="postgresql+psycopg://tracker@db/tracker", ALLOW_SQLITE_IN_PRODUCTION=False)
    config.update(overrides)
    return config


MAKE_A_KEY = "e.g. from python3 -c 'import secrets; print(secrets.token_hex(32))'"


@pytest.mark.parametrize("overrides, message", [
    ({"SECRET_KEY": None},
     f"SECRET_KEY is not set: production (TRACKER_ENV=production) needs a long random one, {MAKE_A_KEY}"),
    ({"SECRET_KEY": "..."}, f"SECRET_KEY is the placeholder '...': set a long random one, {MAKE_A_KEY}"),
    ({"SECRET_KEY": "change-me"}, f"SECRET_KEY is the placeholder 'change-me': set a long random one, {MAKE_A_KEY}"),
    ({"SECRET_KEY": "s3cr3t-but-short"},
     f"SECRET_KEY is too short (16 characters): use at least 32 random characters, {MAKE_A_KEY}"),
    ({"SQLALCHEMY_DATABASE_URI": "sqlite:////var/lib/tracker/tracker.db"},
     "DATABASE_URL is an SQLite file: use PostgreSQL in production (DATABASE_URL=postgresql+psycopg://...), "
     "or set ALLOW_SQLITE_IN_PRODUCTION=1 to run on SQLite"),
    ({"SQLALCHEMY_DATABASE_URI": "sqlite:////var/lib/tracker/tracker.db", "GUNICORN_WORKERS": 4},
     "DATABASE_URL is an SQLite file shared by 4 gunicorn workers: use PostgreSQL in production "
     "(DATABASE_URL=postgresql+psycopg://...), or set ALLOW_SQLITE_IN_PRODUCTION=1 to run on SQLite"),
    ({"BASE_URL": "http://tracker.hscp.example.org"},
     "BASE_URL must be the public https:// address in production, e.g. BASE_URL=https://tracker.hscp.example.org "
     "(it is 'http://tracker.hscp.example.org')"),
    ({"BASE_URL": "tracker.hscp.example.org"},
     "BASE_URL must be the public https:// address in production, e.g. BASE_URL=https://tracker.hscp.example.org "
     "(it is 'tracker.hscp.example.org')"),
])
def test_each_problem_is_one_line(overrides, message):
    assert problems(production(**overrides)) == [message]
    with pytest.raises(ConfigError) as raised:
        check(production(**overrides))
    assert raised.value.problems == [message]


def test_a_good_production_config_passes():
    assert problems(production()) == []
    assert problems(production(SQLALCHEMY_DATABASE_URI="sqlite:////srv/t.db", ALLOW_SQLITE_IN_PRODUCTION=True,
                               GUNICORN_WORKERS=4)) == []


def test_development_and_tests_are_not_checked():
    assert problems(production(ENV_NAME="development", SECRET_KEY=None, BASE_URL="http://x")) == []
    assert problems(production(TESTING=True, SECRET_KEY=None)) == []


def test_every_problem_is_reported_at_once():
    found = problems(production(SECRET_KEY=None, BASE_URL="http://127.0.0.1:5000", SQLALCHEMY_DATABASE_URI="sqlite://"))
    assert [line.split(" ")[0] for line in found] == ["SECRET_KEY", "DATABASE_URL", "BASE_URL"]


def test_allow_sqlite_in_production_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("ALLOW_SQLITE_IN_PRODUCTION", "1")
    assert from_environment("/tmp")["ALLOW_SQLITE_IN_PRODUCTION"] is True


def test_an_unreachable_database_is_one_line_without_the_password():
    with pytest.raises(ConfigError) as raised:
        check_database(PG_DOWN, timeout_seconds=2)
    [line] = raised.value.problems
    assert line.startswith("Cannot reach the database postgresql+psycopg://tracker:***@127.0.0.1:1/tracker: ")
    assert "Connection refused" in line and "hunter2" not in line


def test_an_unopenable_sqlite_file_is_one_line(tmp_path):
    with pytest.raises(ConfigError) as raised:
        check_database(f"sqlite:///{tmp_path}/no/such/dir/tracker.db")
    assert raised.value.problems == [
        f"Cannot reach the database sqlite:///{tmp_path}/no/such/dir/tracker.db: unable to open database file"]


def test_a_reachable_database_passes(tmp_path):
    check_database(f"sqlite:///{tmp_path}/tracker.db")


# ---- the commands: one line per problem on stderr, exit status 1, no traceback ---------------------------

def _environment(tmp_path, **variables) -> dict:
    env = {name: value for name, value in os.environ.items()
           if name not in {"SECRET_KEY", "DATABASE_URL", "BASE_URL", "ALLOW_SQLITE_IN_PRODUCTION", "FLASK_APP"}}
    env.update(TRACKER_ENV="production", TRACKER_INSTANCE_PATH=str(tmp_path / "instance"), **variables)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [ROOT, env.get("PYTHONPATH")]))  # the checkout's tracker
    return env


def _run(command, tmp_path, **variables):
    return subprocess.run(command, cwd=tmp_path, env=_environment(tmp_path, **variables),
                          capture_output=True, text=True, timeout=60)


def test_the_tracker_command_prints_each_problem_and_exits_1(tmp_path):
    result = _run([sys.executable, "-m", "tracker", "db", "upgrade"], tmp_path, BASE_URL="http://tracker.example.org")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert [line.split(" ")[1] for line in errors] == ["SECRET_KEY", "DATABASE_URL", "BASE_URL"], result.stderr


def test_the_tracker_command_checks_the_database_in_production(tmp_path):
    result = _run([sys.executable, "-m", "tracker", "plans", "list"], tmp_path,
                  SECRET_KEY=KEY, BASE_URL="https://tracker.example.org", DATABASE_URL=PG_DOWN)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "hunter2" not in result.stderr
    assert result.stderr.startswith("Error: Cannot reach the database postgresql+psycopg://tracker:***@127.0.0.1:1/"), \
        result.stderr


def test_tracker_help_shows_the_problem_not_a_traceback(tmp_path):
    result = _run([sys.executable, "-m", "tracker", "--help"], tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("Error: SECRET_KEY is not set"), result.stderr


def test_tracker_version_needs_no_configuration(tmp_path):
    from importlib.metadata import version

    result = _run([sys.executable, "-m", "tracker", "--version"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"tracker {version('ijb-action-tracker')}"


def test_gunicorn_refuses_to_start_with_one_line_per_problem(tmp_path):
    result = _run([sys.executable, "-m", "gunicorn", "--config", "python:tracker.gunicorn_config",
                   "--bind", "127.0.0.1:0", "--workers", "4", "tracker:create_app()"],
                  tmp_path, SECRET_KEY="change-me", BASE_URL="https://tracker.example.org",
                  DATABASE_URL=f"sqlite:///{tmp_path}/tracker.db")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "Booting worker" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert errors == [
        f"Error: SECRET_KEY is the placeholder 'change-me': set a long random one, {MAKE_A_KEY}",
        "Error: DATABASE_URL is an SQLite file shared by 4 gunicorn workers: use PostgreSQL in production "
        "(DATABASE_URL=postgresql+psycopg://...), or set ALLOW_SQLITE_IN_PRODUCTION=1 to run on SQLite",
    ], result.stderr


def test_gunicorn_refuses_to_start_when_the_database_is_unreachable(tmp_path):
    result = _run([sys.executable, "-m", "gunicorn", "--config", "python:tracker.gunicorn_config",
                   "--bind", "127.0.0.1:0", "--workers", "2"],
                  tmp_path, SECRET_KEY=KEY, BASE_URL="https://tracker.example.org", DATABASE_URL=PG_DOWN)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "Booting worker" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1 and errors[0].startswith("Error: Cannot reach the database postgresql+psycopg://"), \
        result.stderr
