"""Background jobs (tracker.jobs): started by the web, run by the worker process, shown with their progress."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import stop_process, subprocess_env
from tracker.errors import NotAllowed, RuleError
from tracker.extensions import db
from tracker.jobs import kinds, queue, services
from tracker.jobs.models import Job, JobState

ROOT = Path(__file__).resolve().parent.parent


def _fake_kind(monkeypatch, run, name="fake"):
    kind = kinds.JobKind(name=name, title=lambda params: "A fake job", may_start=lambda actor, params: True,
                         run=run)
    monkeypatch.setitem(kinds.KINDS, name, kind)
    return kind


@pytest.fixture
def stamped(app):
    """The test schema is built by create_all: give it the schema version a backup records."""
    from sqlalchemy import text

    from tracker.backup.services import head_revision

    db.session.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)"))
    db.session.execute(text("INSERT INTO alembic_version VALUES (:v)"), {"v": head_revision()})
    db.session.commit()
    yield
    db.session.rollback()
    db.session.execute(text("DROP TABLE alembic_version"))
    db.session.commit()


def test_a_site_administrator_backs_up_from_the_admin_page_and_downloads_the_copy(app, world, client_as, stamped):
    client = client_as(world.admin)
    assert b"Back up the database now" in client.get("/admin/").data
    response = client.post("/jobs/backup")
    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    text = page.get_data(as_text=True)
    assert "Finished" in text and "Download" in text
    assert "data-job-progress" not in text and "Check progress" not in text  # finished: nothing to poll
    job = db.session.query(Job).one()
    assert job.state == JobState.DONE and job.percent == 100
    download = client.get(f"/jobs/{job.id}/result")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["Cache-Control"] == "private, no-store"
    assert download.get_data()[:16] == b"SQLite format 3\x00" or download.get_data()[:5] == b"PGDMP"
    download.close()
    assert client_as(world.manager).get(f"/jobs/{job.id}/result").status_code == 404  # not theirs


def test_only_a_site_administrator_may_start_a_backup(app, world, client_as):
    assert client_as(world.manager).post("/jobs/backup").status_code == 403
    with pytest.raises(NotAllowed):
        services.start("backup", actor=world.manager)
    with pytest.raises(RuleError, match="no kind of job"):
        services.start("format-the-disk", actor=world.admin)
    assert db.session.query(Job).count() == 0


def test_the_same_work_asked_for_twice_while_it_waits_is_one_job(app, world):
    first = services.start("backup", actor=world.admin)
    db.session.commit()
    assert services.start("backup", actor=world.admin).id == first.id


def test_a_running_job_shows_rows_done_of_total_and_refreshes_itself(app, world, client_as, monkeypatch):
    seen = {}

    def run(job, params, progress):
        progress.step(250, 1000, "Reading rows")
        client = client_as(world.admin)
        seen["page"] = client.get(f"/jobs/{job.id}").get_data(as_text=True)
        seen["json"] = client.get(f"/jobs/{job.id}/progress").get_json()
        return services.Result(message="All read.")

    _fake_kind(monkeypatch, run)
    job = services.start("fake", actor=world.admin)
    db.session.commit()
    services.hand_over(job)  # JOBS_IMMEDIATE: runs here and now
    page = seen["page"]
    assert "250 of 1,000 done (25%)" in page
    assert "Check progress" in page and "Stop this job" in page  # without JavaScript: reload by hand
    assert "job-progress.js" in page  # with it: the figures follow by themselves
    assert seen["json"] == {"state": "Running", "finished": False, "done": 250, "total": 1000, "percent": 25,
                            "message": "Reading rows", "words": "250 of 1,000 done (25%)."}
    db.session.refresh(job)
    assert job.state == JobState.DONE and job.message == "All read."


def test_stopping_a_job_mid_way_changes_nothing(app, world, monkeypatch):
    from tracker.partnerships.models import Partnership

    def run(job, params, progress):
        for done in range(1, 101):
            db.session.add(Partnership(name=f"Scratch {done}"))
            db.session.flush()
            if done == 40:
                queue.request_cancel(job.id)  # as the cancel button does, from another request
            progress.step(done, 100)
        return services.Result(message="Imported")

    _fake_kind(monkeypatch, run)
    before = db.session.query(Partnership).count()
    job = services.start("fake", actor=world.admin)
    db.session.commit()
    services.hand_over(job)
    db.session.expire_all()
    assert job.state == JobState.CANCELLED
    assert "nothing was changed" in job.message
    assert (job.done, job.total) == (40, 100)
    assert db.session.query(Partnership).count() == before


def test_a_failing_job_says_so_plainly_and_keeps_no_half_work(app, world, monkeypatch):
    def run(job, params, progress):
        raise RuleError("Row 7 has no action text.")

    _fake_kind(monkeypatch, run)
    job = services.start("fake", actor=world.admin)
    db.session.commit()
    services.hand_over(job)
    db.session.expire_all()
    assert job.state == JobState.FAILED and job.message == "Row 7 has no action text."


def test_a_queued_job_is_cancelled_at_once_and_a_finished_one_cannot_be(app, world, client_as):
    job = services.start("backup", actor=world.admin)
    db.session.commit()  # never handed over
    client = client_as(world.admin)
    client.post(f"/jobs/{job.id}/cancel")
    db.session.expire_all()
    assert job.state == JobState.CANCELLED
    with pytest.raises(RuleError, match="already cancelled"):
        services.cancel(job, actor=world.admin)


def test_a_job_whose_hand_over_was_lost_is_handed_over_again(app, world):
    import datetime as dt

    job = services.start("backup", actor=world.admin)
    db.session.commit()
    assert services.requeue_stranded() == 0  # too recent: its hand-over may be on its way
    assert services.requeue_stranded(now=job.created_at + dt.timedelta(minutes=5)) == 1
    db.session.expire_all()
    assert job.state != JobState.QUEUED  # JOBS_IMMEDIATE: handed over and run (the schema here has no version)


def test_the_worker_process_runs_a_job_the_web_queued(app, world, database_url, tmp_path, stamped):
    """The real thing: a web process queues, `flask worker` (another process) runs; the result outlives both."""
    queue_file = tmp_path / "queue.sqlite3"
    env = subprocess_env(DATABASE_URL=database_url, SECRET_KEY="tests", MAIL_SUPPRESS_SEND="1",
                         TRACKER_INSTANCE_PATH=app.instance_path, PYTHONPATH=str(ROOT),
                         BACKUP_DIR=str(tmp_path / "backups"), JOB_RESULTS_DIR=str(tmp_path / "results"),
                         JOBS_QUEUE_FILE=str(queue_file))
    app.config.update(JOBS_IMMEDIATE=False, JOBS_QUEUE_FILE=str(queue_file))
    app.extensions.pop("tracker_jobs_queue", None)
    try:
        job = services.start("backup", actor=world.admin)
        db.session.commit()
        services.hand_over(job)  # into the queue file: nothing runs in this process
        db.session.expire_all()
        assert job.state == JobState.QUEUED
        worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "tracker", "worker"], cwd=ROOT, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            deadline = time.monotonic() + 60
            while job.state in (JobState.QUEUED, JobState.RUNNING):
                assert time.monotonic() < deadline, "the worker did not run the job"
                time.sleep(0.3)
                db.session.rollback()
                db.session.expire_all()
        finally:
            output = stop_process(worker)
        assert job.state == JobState.DONE, (job.message, output)
        assert Path(job.result_path).is_file()
    finally:
        app.extensions.pop("tracker_jobs_queue", None)


def test_a_running_job_renews_its_lease_until_it_ends(app, world, monkeypatch):
    monkeypatch.setattr(services, "LEASE_SECONDS", 0.01)
    seen = []

    def run(job, params, progress):
        seen.append(queue.read_alive(job.id))  # taken as the job starts
        deadline = time.monotonic() + 10
        while queue.read_alive(job.id) == seen[0]:  # ...and renewed while it runs
            assert time.monotonic() < deadline, "the lease was never renewed"
            time.sleep(0.01)
        return services.Result(message="Done.")

    _fake_kind(monkeypatch, run)
    job = services.start("fake", actor=world.admin)
    db.session.commit()
    services.hand_over(job)
    db.session.expire_all()
    assert job.state == JobState.DONE and seen[0] is not None
    assert queue.read_alive(job.id) is None  # forgotten with the job's other keys


def _running(world, *, started_minutes_ago: float, cancel: bool = False, tag: str = "") -> Job:
    import datetime as dt

    from tracker.timeutil import utcnow

    job = services.start("backup", actor=world.admin, params={"tag": tag} if tag else None)  # tag: not the same work
    job.state = JobState.RUNNING
    job.started_at = utcnow() - dt.timedelta(minutes=started_minutes_ago)
    if cancel:
        job.cancel_requested_at = utcnow()
    db.session.commit()
    return job


def test_a_running_job_whose_worker_died_ends_as_failed_and_can_be_started_again(app, world):
    """A worker killed mid-job (SIGKILL, a crash, a restart) left its job 'Running' for ever: its page said so,
    and starting the same work again only showed the dead job."""
    import time as clock

    job = _running(world, started_minutes_ago=10)
    assert services.start("backup", actor=world.admin).id == job.id  # the same work: the one "going"
    db.session.rollback()
    services.requeue_stranded()
    db.session.expire_all()
    assert job.state == JobState.FAILED and job.message == services.LOST_MESSAGE and job.finished_at
    assert "nothing was changed" in job.message
    again = services.start("backup", actor=world.admin)
    assert again.id != job.id and again.state == JobState.QUEUED
    db.session.rollback()

    alive = _running(world, started_minutes_ago=10, tag="a")  # a long job whose worker renews its lease
    queue.put_alive(alive.id, clock.time() - 20)
    fresh = _running(world, started_minutes_ago=0.5, tag="b")  # just started: its first renewal may be on its way
    stopping = _running(world, started_minutes_ago=10, cancel=True, tag="c")
    assert len({alive.id, fresh.id, stopping.id}) == 3
    services.requeue_stranded()
    db.session.expire_all()
    assert alive.state == JobState.RUNNING and fresh.state == JobState.RUNNING
    assert stopping.state == JobState.CANCELLED and "nothing was changed" in stopping.message


def test_a_job_waiting_long_for_a_worker_says_the_worker_may_not_be_running(app, world, client_as):
    import datetime as dt

    job = services.start("backup", actor=world.admin)
    db.session.commit()  # never handed over: no worker takes it
    client = client_as(world.admin)
    assert "Waiting for the worker to start." in client.get(f"/jobs/{job.id}").get_data(as_text=True)
    job.created_at -= dt.timedelta(minutes=6)
    db.session.commit()
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "the worker may not be running" in page and "tell your site administrator" in page


SLOW_WORKER = """
import sys, time
from flask.cli import main
from tracker.jobs import kinds, services


SECONDS = float(sys.argv[1])


def slow(job, params, progress):
    progress.step(1, 100, "Working")
    time.sleep(SECONDS)
    return services.Result(message="Slept.")


kinds.KINDS["slow"] = kinds.JobKind("slow", lambda params: "A slow job", lambda actor, params: True, slow)
services.LEASE_SECONDS = 0.2
sys.argv = ["flask", "--app", "tracker", "worker"]
main()
"""


@pytest.fixture
def slow_job(app, world, database_url, tmp_path, monkeypatch):
    """slow_job(seconds) -> (job, worker): a real worker process (SLOW_WORKER) on a queue file of the test's,
    running a job that sleeps `seconds` after its first step, returned once that step is in."""
    queue_file = tmp_path / "queue.sqlite3"
    env = subprocess_env(DATABASE_URL=database_url, SECRET_KEY="tests", MAIL_SUPPRESS_SEND="1",
                         TRACKER_INSTANCE_PATH=app.instance_path, PYTHONPATH=str(ROOT),
                         JOB_RESULTS_DIR=str(tmp_path / "results"), JOBS_QUEUE_FILE=str(queue_file))
    app.config.update(JOBS_IMMEDIATE=False, JOBS_QUEUE_FILE=str(queue_file))
    app.extensions.pop("tracker_jobs_queue", None)
    _fake_kind(monkeypatch, lambda job, params, progress: None, name="slow")
    workers = []

    def start(seconds: float):
        job = services.start("slow", actor=world.admin)
        db.session.commit()
        services.hand_over(job)
        worker = subprocess.Popen([sys.executable, "-c", SLOW_WORKER, str(seconds)], cwd=ROOT, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        workers.append(worker)
        deadline = time.monotonic() + 60
        while queue.read_progress(job.id) is None:  # running, a step in
            assert worker.poll() is None and time.monotonic() < deadline, "the worker did not start the job"
            time.sleep(0.1)
        return job, worker

    try:
        yield start
    finally:
        try:
            for worker in workers:
                stop_process(worker)
        finally:
            app.extensions.pop("tracker_jobs_queue", None)


def test_a_job_whose_worker_is_killed_mid_way_ends_as_failed(app, world, slow_job):
    """The real thing: a worker process runs a job and is SIGKILLed; its lease (in the queue file) stops being
    renewed, and the next sweep ends the job, so its owner is told and may start it again."""
    import datetime as dt
    import signal

    from tracker.timeutil import utcnow

    job, worker = slow_job(600)
    first, deadline = queue.read_alive(job.id), time.monotonic() + 30
    while queue.read_alive(job.id) == first:
        assert time.monotonic() < deadline, "the worker did not renew the job's lease"
        time.sleep(0.1)
    services.requeue_stranded(now=utcnow() + dt.timedelta(minutes=1))
    db.session.expire_all()
    assert job.state == JobState.RUNNING, "a job whose worker is alive was ended"
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=30)
    db.session.expire_all()
    assert job.state == JobState.RUNNING  # nobody is left to say otherwise...
    services.requeue_stranded(now=utcnow() + dt.timedelta(minutes=3))  # ...until the next sweep
    db.session.expire_all()
    assert job.state == JobState.FAILED and job.message == services.LOST_MESSAGE
    assert services.start("slow", actor=world.admin).id != job.id
    db.session.rollback()


def test_a_worker_stopped_with_sigint_lets_the_running_job_finish(app, world, slow_job):
    """The worker's systemd unit stops it with SIGINT (README): Huey's graceful stop, which waits for the jobs
    running (SIGTERM would end them at once)."""
    import signal

    job, worker = slow_job(2)
    worker.send_signal(signal.SIGINT)
    output = worker.communicate(timeout=60)[0]
    db.session.expire_all()
    assert job.state == JobState.DONE and job.message == "Slept.", output
