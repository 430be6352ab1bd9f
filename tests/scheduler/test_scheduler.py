"""The scheduler process: one at a time, a heartbeat, a banner for administrators, catch-up runs."""
from __future__ import annotations

import datetime as dt
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from flask import g

from tests.conftest import stop_process, subprocess_env
from tracker.extensions import db
from tracker.scheduler import heartbeat, process
from tracker.scheduler.jobs import JOBS, Job
from tracker.scheduler.lock import SchedulerLock
from tracker.scheduler.models import SchedulerHeartbeat
from tracker.timeutil import LONDON

ROOT = Path(__file__).resolve().parents[2]


def failing_job():
    raise RuntimeError("the workbook folder is missing")


def new_lock(app) -> SchedulerLock:
    return SchedulerLock(db.engine, app.instance_path)


def test_only_one_lock_holder_at_a_time(app):
    first, second = new_lock(app), new_lock(app)
    assert first.acquire()
    try:
        assert not second.acquire()
        assert first.held()
    finally:
        first.release()
    assert second.acquire()
    second.release()


HOLD_LOCK = """
import sys, time
from sqlalchemy import create_engine
from tracker.scheduler.lock import SchedulerLock
lock = SchedulerLock(create_engine(sys.argv[1]), sys.argv[2])
assert lock.acquire()
print("locked", flush=True)
time.sleep(60)
"""


def test_the_lock_is_released_when_the_holding_process_dies(app, database_url):
    child = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, database_url, app.instance_path],
                             cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "locked"
        lock = new_lock(app)
        assert not lock.acquire()
        child.send_signal(signal.SIGKILL)  # no clean-up code runs
        child.wait(timeout=10)
        deadline = time.monotonic() + 10
        while not lock.acquire():  # PostgreSQL notices the dead connection within moments
            assert time.monotonic() < deadline, "the lock was not released"
            time.sleep(0.1)
        lock.release()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stdout.close()


def test_a_second_scheduler_waits_as_a_standby_and_takes_over(app, monkeypatch):
    holder = new_lock(app)
    assert holder.acquire()
    started = threading.Event()

    class Stub:
        running = False  # as a scheduler whose start returned at once

        def start(self):
            started.set()

        def shutdown(self, wait=True):
            pass

    monkeypatch.setattr(process, "build_scheduler", lambda app, lock, *args, **kwargs: Stub())
    # Waits are timed by events, not sleeps: the standby's third refused attempt at the lock.
    refusals = []
    refused_thrice = threading.Event()
    real_acquire = SchedulerLock.acquire

    def counting_acquire(lock):
        got = real_acquire(lock)
        if not got:
            refusals.append(lock)
            if len(refusals) >= 3:
                refused_thrice.set()
        return got

    monkeypatch.setattr(SchedulerLock, "acquire", counting_acquire)
    said = []
    standby = threading.Thread(target=process.run, args=(app,),
                               kwargs={"wait": True, "poll_seconds": 0.05, "echo": said.append})
    standby.start()
    try:
        assert refused_thrice.wait(timeout=20), "the standby never tried the lock three times"
        assert not started.is_set()
        assert "Waiting as a standby" in said[0]
    finally:
        holder.release()
    standby.join(timeout=10)
    assert started.is_set()
    assert said[-1].startswith("Scheduler started")


def test_the_scheduler_command_runs_and_a_second_one_exits_with_a_clear_message(app, database_url, tmp_path):
    # BACKUP_DIR: the nightly backup may catch up at start; its copy goes to the test's folder.
    env = subprocess_env(DATABASE_URL=database_url, SECRET_KEY="tests", MAIL_SUPPRESS_SEND="1",
                         TRACKER_INSTANCE_PATH=app.instance_path, PYTHONPATH=str(ROOT),
                         BACKUP_DIR=str(tmp_path / "backups"))
    flask = [sys.executable, "-m", "flask", "--app", "tracker", "scheduler"]
    first = subprocess.Popen(flask, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert "Scheduler started" in first.stdout.readline()
        deadline = time.monotonic() + 20
        while db.session.get(SchedulerHeartbeat, heartbeat.HEARTBEAT_ID) is None:  # the first beat is at once
            assert time.monotonic() < deadline, "no heartbeat"
            time.sleep(0.2)
            db.session.rollback()
        second = subprocess.run([*flask, "--no-wait"], cwd=ROOT, env=env, capture_output=True, text=True,
                                timeout=60)
        assert second.returncode == 1
        assert "Another scheduler is already running" in second.stdout
    finally:
        stop_process(first)


def test_a_failing_job_is_logged_on_the_heartbeat_and_does_not_stop_the_scheduler(app):
    heartbeat.beat(dt.datetime.now(dt.timezone.utc))
    process.run_job(app, Job("broken", "tests.scheduler.test_scheduler:failing_job", {"hour": 6}))
    db.session.expire_all()
    row = db.session.get(SchedulerHeartbeat, heartbeat.HEARTBEAT_ID)
    assert row.last_job == "broken"
    assert row.last_job_error == "RuntimeError: the workbook folder is missing"


SIGTERM_WHILE_SUBMITTING = """
import os, signal, sys
import concurrent.futures.thread as pool

real_adjust = pool.ThreadPoolExecutor._adjust_thread_count

def adjust(executor):  # called by submit() while it holds the pool's lock: SIGTERM arrives exactly then
    os.kill(os.getpid(), signal.SIGTERM)
    real_adjust(executor)

pool.ThreadPoolExecutor._adjust_thread_count = adjust
from tracker import create_app
from tracker.scheduler import process
sys.exit(process.run(create_app(), wait=True, poll_seconds=1, jobs=[]))
"""


def test_sigterm_while_a_job_is_being_submitted_stops_the_scheduler(app, database_url):
    """The SIGTERM handler used to shut the scheduler down itself. It ran in the main thread, where the
    scheduler was submitting a job with the thread pool's lock held, and waited for that lock for ever: the
    stop hung (in CI, the stuck scheduler then sent the next tests' e-mail). Now the signal arrives inside
    submit() every time, and the process must still stop promptly with status 0."""
    env = subprocess_env(DATABASE_URL=database_url, SECRET_KEY="tests", MAIL_SUPPRESS_SEND="1",
                         TRACKER_INSTANCE_PATH=app.instance_path, PYTHONPATH=str(ROOT))
    child = subprocess.Popen([sys.executable, "-c", SIGTERM_WHILE_SUBMITTING], cwd=ROOT, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        output = child.communicate(timeout=30)[0]
    except subprocess.TimeoutExpired:
        child.kill()
        output = child.communicate()[0]
        pytest.fail(f"the scheduler hung after SIGTERM:\n{output}")
    assert child.returncode == 0, output
    assert "Scheduler started" in output


def test_jobs_are_declared_as_module_function_with_cron_fields():
    for job in JOBS:
        assert callable(job.resolve())
        process.trigger_for(job)  # valid cron fields


@pytest.mark.parametrize("local_time, expected", [
    (dt.datetime(2026, 11, 23, 6, 59), False),  # Monday, before 07:00: it will fire on time
    (dt.datetime(2026, 11, 23, 9, 30), True),  # Monday 09:30: restarted after a missed 07:00 run
    (dt.datetime(2026, 11, 22, 9, 30), False),  # Sunday: not a day the job runs
])
def test_a_scheduler_started_after_todays_run_time_catches_up_at_once(local_time, expected):
    trigger = process.trigger_for(next(job for job in JOBS if job.id == "reminders"))
    assert process.fired_earlier_today(trigger, local_time.replace(tzinfo=LONDON)) is expected


def page(client) -> str:
    """The plans page's HTML. (Requests share the test's app context, where Flask-Login caches the
    signed-in user in g: forget it so each client is seen as itself.)"""
    g.pop("_login_user", None)
    return client.get("/").get_data(as_text=True)


def test_administrators_see_a_warning_when_the_heartbeat_is_stale(world, client_as, time_machine):
    time_machine.move_to(dt.datetime(2026, 11, 23, 8, tzinfo=dt.timezone.utc), tick=False)
    admin, officer = client_as(world.admin), client_as(world.officer)
    assert "The scheduler has never reported" in page(admin)
    assert "scheduler" not in page(officer)

    heartbeat.beat(dt.datetime.now(dt.timezone.utc))
    assert "app-scheduler-warning" not in page(admin)

    time_machine.move_to(dt.datetime(2026, 11, 23, 8, 11, tzinfo=dt.timezone.utc), tick=False)
    assert "The scheduler has not reported since 23 November 2026 at 08:00" in page(admin)
    assert "scheduler" not in page(officer)


def test_a_scheduler_that_loses_its_postgresql_session_knows_it(app):
    if db.engine.dialect.name != "postgresql":
        # The one skip allowed in CI (tests/allowed-skips.txt): the SQLite pass has no advisory locks.
        pytest.skip("advisory locks are PostgreSQL's")
    from sqlalchemy import text

    lock = new_lock(app)
    assert lock.acquire()
    backend = lock._connection.scalar(text("SELECT pg_backend_pid()"))
    with db.engine.connect() as other:
        other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
        other.commit()
    assert not lock.held()  # the scheduler stops, and a standby takes over
    lock.release()
    successor = new_lock(app)
    assert successor.acquire()
    successor.release()


def test_two_schedulers_survive_a_postgresql_outage_and_one_sends_again_within_a_minute(app, database_url):
    """Issue 12: an outage made both schedulers exit (OperationalError escaped the standby's wait loop).

    The outage is simulated without stopping the shared server: every session of the test database is
    terminated, again and again, for a few seconds. Never two holders (the advisory lock is exclusive, and
    the sender writes through the session holding it); afterwards both processes are alive and one holds it.
    """
    if db.engine.dialect.name != "postgresql":
        pytest.skip("advisory locks are PostgreSQL's")
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    from tracker.scheduler.lock import ADVISORY_LOCK_KEY

    env = subprocess_env(DATABASE_URL=database_url, SECRET_KEY="tests", MAIL_SUPPRESS_SEND="1",
                         TRACKER_INSTANCE_PATH=app.instance_path, PYTHONPATH=str(ROOT))
    command = [sys.executable, "-m", "flask", "--app", "tracker", "scheduler", "--poll-seconds", "1"]
    schedulers = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL) for _ in range(2)]
    admin = create_engine(db.engine.url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    holders = text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                   "AND ((classid::bigint << 32) | objid::bigint) = :key")
    name = db.engine.url.database
    db.session.remove()
    db.engine.dispose()

    probes = create_engine(database_url, poolclass=NullPool)

    def holder_count() -> int:
        with probes.connect() as probe:
            return probe.scalar(holders, {"key": ADVISORY_LOCK_KEY})

    try:
        deadline = time.monotonic() + 30
        while holder_count() != 1:
            assert time.monotonic() < deadline, "no scheduler took the lock"
            time.sleep(0.2)
        with admin.connect() as conn:
            outage_ends = time.monotonic() + 4
            while time.monotonic() < outage_ends:  # the database "stopped": every session ends at once
                conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                  "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name})
                time.sleep(0.05)
        back = time.monotonic()
        while True:
            try:
                if holder_count() == 1:
                    break
            except Exception:  # noqa: BLE001 - a probe may meet the end of the outage
                pass
            assert time.monotonic() < back + 60, "no scheduler took over within a minute"
            time.sleep(0.2)
        assert [s.poll() for s in schedulers] == [None, None], "a scheduler exited during the outage"
        assert holder_count() == 1
    finally:
        for scheduler in schedulers:
            scheduler.terminate()
        try:
            for scheduler in schedulers:
                stop_process(scheduler)
        finally:
            admin.dispose()
            probes.dispose()
