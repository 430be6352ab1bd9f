"""A plan over JOBS_IMPORT_THRESHOLD rows is previewed and committed by background jobs, with progress."""
from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.imports.test_views import DUNDEE, GLASGOW, sign_in_client
from tracker.audit.models import AuditEvent
from tracker.errors import NotAllowed
from tracker.extensions import db
from tracker.imports import services as imports
from tracker.imports.models import ImportJob
from tracker.imports.safety import check
from tracker.imports.xlsx_plan import count_rows
from tracker.jobs import queue
from tracker.jobs import services as jobs
from tracker.jobs.models import Job, JobState
from tracker.plans.models import Action, Plan


@pytest.fixture
def small_threshold(app):
    """Imports of more than 10 rows run in the background (the Dundee plan has 54 rows)."""
    app.config["JOBS_IMPORT_THRESHOLD"] = 10
    yield
    app.config["JOBS_IMPORT_THRESHOLD"] = 2000


def _upload(client, world, path=DUNDEE, plan_name="Imported plan"):
    return client.post("/imports/", data={
        "file": (io.BytesIO(Path(path).read_bytes()), Path(path).name),
        "partnership": str(world.home.id), "plan_name": plan_name,
    }, content_type="multipart/form-data")


def _progress_reports(monkeypatch) -> list[tuple[int, int, str]]:
    seen: list[tuple[int, int, str]] = []
    real = queue.put_progress
    monkeypatch.setattr(queue, "put_progress", lambda job_id, done, total, message: (
        seen.append((done, total, message)), real(job_id, done, total, message)))
    return seen


def test_rows_are_counted_from_the_sheet_before_reading():
    checked = check(DUNDEE)
    assert 50 <= count_rows(checked) <= 60  # every row with a cell, the title block and header row too
    assert imports.rows_in(check(GLASGOW)) == 0  # a self-evaluation is always read at once


def test_a_big_plan_is_previewed_then_committed_in_the_background(app, world, small_threshold, monkeypatch):
    client = sign_in_client(app, world.manager)
    reports = _progress_reports(monkeypatch)
    response = _upload(client, world)
    assert response.status_code == 302 and response.location.startswith("/jobs/")
    page = client.get(response.location).get_data(as_text=True)
    assert "Finished" in page and "54 rows" in page and "50 to create" in page
    job = db.session.scalar(select(ImportJob))
    assert job.status == "previewed" and job.plan_name == "Imported plan"
    assert f'href="/imports/{job.token}"' in page  # the result page leads back to the preview
    preview = client.get(f"/imports/{job.token}").get_data(as_text=True)
    assert "54 rows from the sheet" in preview and "50 to create" in preview
    assert reports[0][0] == 0 and reports[0][1] > 0 and all(message == "Rows checked" for *_, message in reports)
    read = db.session.scalar(select(Job))
    assert read.kind == "import" and read.state == JobState.DONE and read.done == read.total > 0
    assert db.session.scalar(select(func.count(Action.id))) == 3  # nothing imported by the preview

    reports.clear()
    confirmed = client.post(f"/imports/{job.token}/confirm")
    assert confirmed.status_code == 302 and confirmed.location.startswith("/jobs/")
    page = client.get(confirmed.location).get_data(as_text=True)
    assert "Finished" in page and "50 actions created" in page
    assert f'href="/imports/{job.token}/leads"' in page  # then on to the plan's lead officers
    assert any(message == "Rows imported" for _, _, message in reports)
    plan = db.session.scalar(select(Plan).where(Plan.name == "Imported plan"))
    assert len(plan.actions) == 50
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.plan_id == plan.id, AuditEvent.entity_type == "action")) == 50
    db.session.refresh(job)
    assert job.status == "committed"
    again = client.post(f"/imports/{job.token}/confirm", follow_redirects=True)
    assert "already committed" in again.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Action.id)).where(Action.plan_id == plan.id)) == 50


def test_a_small_plan_stays_in_the_request(app, world):
    client = sign_in_client(app, world.manager)
    response = _upload(client, world)
    assert response.location.startswith("/imports/")
    assert db.session.scalar(select(func.count(Job.id))) == 0


def test_a_new_mapping_of_a_big_plan_is_read_again_in_the_background(app, world, small_threshold):
    client = sign_in_client(app, world.manager)
    _upload(client, world)
    job = db.session.scalar(select(ImportJob))
    form = {f"column_{letter}": role for role, letter in job.mapping.items()}
    form.update({"column_F": "", "plan": "Renamed plan"})
    response = client.post(f"/imports/{job.token}/mapping", data=form)
    assert response.location.startswith("/jobs/")
    db.session.refresh(job)
    assert job.plan_name == "Renamed plan" and "lead" not in job.mapping
    assert db.session.scalar(select(func.count(Job.id))) == 2


def test_an_unsafe_big_file_is_refused_before_any_job(app, world, small_threshold):
    client = sign_in_client(app, world.manager)
    response = client.post("/imports/", data={
        "file": (io.BytesIO(b"PK\x03\x04 not really a zip" * 100), "plan.xlsx"),
        "partnership": str(world.home.id), "plan_name": ""}, content_type="multipart/form-data")
    assert response.status_code == 400 and "damaged" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Job.id))) == 0
    assert db.session.scalar(select(func.count(ImportJob.id))) == 0


def test_only_the_partnerships_plan_managers_may_start_an_import_job(app, world):
    checked = check(DUNDEE)
    job = imports.create_reading_job(checked, world.home, "Imported plan", world.manager.id, 54)
    db.session.commit()
    for actor, params in [(world.outsider, {"import_id": job.id, "step": "preview"}),
                          (world.officer, {"import_id": job.id, "step": "preview"}),
                          (world.manager, {"import_id": job.id, "step": "format"}),
                          (world.manager, {"import_id": 2 ** 70, "step": "preview"}),
                          (world.manager, {"import_id": "1", "step": "preview"})]:
        with pytest.raises(NotAllowed):
            jobs.start("import", actor=actor, params=params)
    assert db.session.scalar(select(func.count(Job.id))) == 0
    outsider = sign_in_client(app, world.outsider)
    assert outsider.get(f"/imports/{job.token}").status_code == 404


def test_a_failed_preview_job_sends_the_user_back_to_upload_with_the_reason(app, world, small_threshold,
                                                                             monkeypatch):
    def refuse(*args, **kwargs):
        raise imports.ImportRefused("The sheet 'Plan' has more than 20,000 rows, the most one import takes.")

    monkeypatch.setattr(imports, "read", refuse)
    client = sign_in_client(app, world.manager)
    response = _upload(client, world)
    failed = db.session.scalar(select(Job))
    assert failed.state == JobState.FAILED and "more than 20,000 rows" in failed.message
    job = db.session.scalar(select(ImportJob))
    assert job.status == imports.READING
    back = client.get(f"/imports/{job.token}", follow_redirects=True).get_data(as_text=True)
    assert "more than 20,000 rows" in back and response.status_code == 302


def test_stopping_a_big_commit_imports_nothing(app, world, small_threshold, monkeypatch):
    client = sign_in_client(app, world.manager)
    _upload(client, world)
    job = db.session.scalar(select(ImportJob))
    monkeypatch.setattr(queue, "cancel_requested", lambda job_id: True)  # as if the stop button was pressed
    response = client.post(f"/imports/{job.token}/confirm")
    stopped = db.session.get(Job, int(response.location.rsplit("/", 1)[1]))
    assert stopped.state == JobState.CANCELLED
    assert json.loads(stopped.params)["step"] == "commit"
    db.session.refresh(job)
    assert job.status == "previewed"
    assert db.session.scalar(select(func.count(Plan.id)).where(Plan.name == "Imported plan")) == 0
