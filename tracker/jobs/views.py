"""The progress page of a job (a "Check progress" button without JavaScript; polled with it), its cancel button
and its result."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required

from tracker.doors import commit_or_refuse
from tracker.errors import NotFound
from tracker.jobs import services
from tracker.jobs.models import JobState
from tracker.text import parse_id

bp = Blueprint("jobs", __name__)


def start_and_follow(kind: str, *, params: dict, partnership_id: int | None):
    """A page's door to a background job: start it through the service (committed, or refused: 403, 404, else
    400), hand it to the worker, and go to its progress page."""
    outcome = commit_or_refuse(lambda: services.start(kind, actor=current_user, params=params,
                                                      partnership_id=partnership_id))
    if not outcome.ok:
        abort(outcome.status if outcome.status in (403, 404) else 400)
    services.hand_over(outcome.value)
    return redirect(url_for("jobs.job", job_id=outcome.value.id))

def _job(job_id: int):
    try:
        return services.visible(job_id, current_user)
    except NotFound:
        abort(404)


@bp.get("/jobs")
@login_required
def index():
    return render_template("jobs/index.html", jobs=services.recent_for(current_user))


def _figures(found) -> dict:
    done, total, message = services.progress_of(found)
    percent = 100 if found.state == JobState.DONE else (min(100, done * 100 // total) if total else 0)
    if total:
        words = f"{done:,} of {total:,} done ({percent}%)."
    elif services.waiting_too_long(found):
        words = ("Still waiting for the worker to start, after more than "
                 f"{services.NO_WORKER_AFTER.seconds // 60} minutes: the worker may not be running. "
                 "Please tell your site administrator.")
    else:
        words = "Waiting for the worker to start." if found.state == JobState.QUEUED else ""
    return {"done": done, "total": total, "message": message, "percent": percent, "words": words}


@bp.get("/jobs/<int:job_id>")
@login_required
def job(job_id: int):
    found = _job(job_id)
    return render_template("jobs/job.html", job=found, running=not found.state.finished, **_figures(found))


@bp.get("/jobs/<int:job_id>/progress")
@login_required
def progress(job_id: int):
    """The figures the progress page's script polls (the page itself works without it)."""
    found = _job(job_id)
    figures = _figures(found)
    response = jsonify(state=found.state.label, finished=found.state.finished, **figures)
    response.headers["Cache-Control"] = "no-store"
    return response


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


def _start(kind: str, params: dict | None = None):
    outcome = commit_or_refuse(lambda: services.start(kind, actor=current_user, params=params))
    if not outcome.ok:
        abort(outcome.status if outcome.status in (403, 404) else 400)
    services.hand_over(outcome.value)
    return redirect(url_for("jobs.job", job_id=outcome.value.id))


@bp.post("/jobs/backup")
@login_required
def start_backup():
    return _start("backup")


@bp.post("/jobs/benchmarking")
@login_required
def start_benchmarking():
    """The national benchmarking grid as a spreadsheet, built in the background."""
    framework_id = parse_id(request.form.get("framework"))
    if framework_id is None:
        abort(400)
    return _start("benchmarking", {"framework_id": framework_id})
