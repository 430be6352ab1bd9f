"""A background job in a real browser: a site administrator starts a backup, watches its progress page refresh
itself (no script of ours) while a worker runs it, and downloads the copy."""
from __future__ import annotations

import sqlite3

import pytest
from playwright.sync_api import expect


@pytest.fixture
def worker(live_server, tmp_path):
    """A real queue file and a Huey consumer in this process, running the live server's jobs."""
    from huey.consumer import Consumer

    from tracker.backup.services import head_revision
    from tracker.jobs.queue import queue

    app = live_server.app
    app.config.update(JOBS_IMMEDIATE=False, JOBS_QUEUE_FILE=str(tmp_path / "queue.sqlite3"),
                      BACKUP_DIR=str(tmp_path / "backups"), JOB_RESULTS_DIR=str(tmp_path / "results"))
    app.extensions.pop("tracker_jobs_queue", None)
    database = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    with app.app_context():
        version = head_revision()
        huey = queue()
    with sqlite3.connect(database) as connection:  # the demo schema comes from create_all: give it its version
        connection.execute("CREATE TABLE IF NOT EXISTS alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
        connection.execute("INSERT OR REPLACE INTO alembic_version VALUES (?)", (version,))
    connection.close()
    consumer = Consumer(huey, workers=1, worker_type="thread", periodic=False)
    consumer.start()
    try:
        yield consumer
    finally:
        consumer.stop(graceful=True)
        app.extensions.pop("tracker_jobs_queue", None)


def test_a_backup_runs_in_the_background_with_its_progress_page(page, live_server, sign_in, worker,
                                                                  assert_accessible):
    sign_in(page, live_server, "admin@demo.scot")
    page.goto(f"{live_server.url}/admin/")
    page.get_by_role("button", name="Back up the database now").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("A backup of the whole database")
    assert_accessible(page)
    # The page reloads itself every 2 seconds until the worker has finished.
    expect(page.get_by_role("status")).to_contain_text("Finished", timeout=30_000)
    expect(page.get_by_role("status")).to_contain_text("1 of 1 done (100%)")
    assert_accessible(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download").click()
    assert download.value.suggested_filename.startswith("tracker-web-")
    page.goto(f"{live_server.url}/jobs")
    expect(page.get_by_role("table")).to_contain_text("Finished")
