"""The progress page of a job (refreshing itself without JavaScript), its cancel button and its result."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, flash, redirect, render_template, send_file, url_for
from flask_login import current_user, login_required

from tracker.doors import commit_or_refuse
from tracker.errors import NotFound
from tracker.jobs import services
from tracker.jobs.models import JobState

bp = Blueprint("jobs", __name__)

#: How often the progress page reloads itself while the job runs (seconds).
REFRESH_SECONDS = 2


def _job(job_id: int):
    try:
        return services.visible(job_id, current_user)
    except NotFound:
        abort(404)


@bp.get("/jobs")
@login_required
def index():
    return render_template("jobs/index.html", jobs=services.recent_for(current_user))


@bp.get("/jobs/<int:job_id>")
@login_required
def job(job_id: int):
    found = _job(job_id)
    done, total, message = services.progress_of(found)
    percent = 100 if found.state == JobState.DONE else (min(100, done * 100 // total) if total else 0)
    return render_template("jobs/job.html", job=found, done=done, total=total, message=message,
                           percent=percent, refresh=None if found.state.finished else REFRESH_SECONDS)


@bp.post("/jobs/<int:job_id>/cancel")
@login_required
def cancel(job_id: int):
    found = _job(job_id)
    outcome = commit_or_refuse(lambda: services.cancel(found, actor=current_user))
    if outcome.ok:
        flash("Asked the job to stop. It stops at its next step and changes nothing.", "success")
    return redirect(url_for("jobs.job", job_id=job_id))


@bp.get("/jobs/<int:job_id>/result")
@login_required
def result(job_id: int):
    found = _job(job_id)
    if found.state != JobState.DONE or not found.result_path or not Path(found.result_path).is_file():
        abort(404)
    response = send_file(found.result_path, mimetype=found.result_type or "application/octet-stream",
                         as_attachment=True, download_name=found.result_name or Path(found.result_path).name)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/jobs/backup")
@login_required
def start_backup():
    outcome = commit_or_refuse(lambda: services.start("backup", actor=current_user))
    if not outcome.ok:
        abort(outcome.status if outcome.status in (403, 404) else 400)
    services.hand_over(outcome.value)
    return redirect(url_for("jobs.job", job_id=outcome.value.id))
