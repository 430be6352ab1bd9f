"""Starting, running, cancelling and reading jobs. Rules here; the views and the CLI translate."""
from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from tracker.audit import services as audit
from tracker.errors import NotAllowed, NotFound, RuleError
from tracker.extensions import db
from tracker.jobs import queue
from tracker.jobs.models import Job, JobState
from tracker.timeutil import utcnow

log = logging.getLogger(__name__)

#: A job queued this long without starting (its hand-over to the queue was lost) is handed over again.
STRANDED_AFTER = dt.timedelta(minutes=2)
#: While a job runs, its worker renews the job's lease this often (seconds)...
LEASE_SECONDS = 15.0
#: ...and a running job whose lease is this old lost its worker (killed, crashed, restarted): it failed.
LOST_AFTER = dt.timedelta(minutes=2)
#: A job still waiting this long has probably no worker to run it (none started, or all stopped): its page says so.
NO_WORKER_AFTER = dt.timedelta(minutes=5)
LOST_MESSAGE = ("The worker running this job stopped before it finished (it was restarted, or it crashed), "
                "so nothing was changed. Start it again.")


class Cancelled(Exception):
    """Raised inside a job when its owner asked to stop it."""


@dataclass
class Result:
    """What a finished job leaves: a file to download (bytes written by the job) and/or a page to go to."""

    message: str
    path: Path | None = None
    name: str | None = None
    content_type: str | None = None
    url: str | None = None


class _Lease:
    """A thread renewing the job's lease in the queue's store every LEASE_SECONDS while the job runs: it dies with
    its process, so a lease that stops being renewed means the job's worker is gone (see `requeue_stranded`)."""

    def __init__(self, job_id: int):
        self.job_id, self.huey, self.stopped = job_id, queue.queue(), threading.Event()
        self.thread = threading.Thread(target=self._renew, name=f"job-{job_id}-lease", daemon=True)

    def __enter__(self):
        queue.put_alive(self.job_id, time.time(), self.huey)
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.stopped.set()
        self.thread.join()

    def _renew(self) -> None:
        while not self.stopped.wait(LEASE_SECONDS):
            try:
                queue.put_alive(self.job_id, time.time(), self.huey)
            except Exception:  # noqa: BLE001 - the store may be busy for a moment; the next renewal tries again
                log.warning("Could not renew the lease of job %s.", self.job_id, exc_info=True)


class Progress:
    """Handed to a job's work: `step(done, total)` reports, and raises Cancelled once a stop was asked for."""

    def __init__(self, job_id: int):
        self.job_id = job_id

    def step(self, done: int, total: int, message: str = "") -> None:
        queue.put_progress(self.job_id, done, total, message)
        if queue.cancel_requested(self.job_id):
            raise Cancelled()


def result_dir(job_id: int) -> Path:
    folder = Path(current_app.config.get("JOB_RESULTS_DIR") or Path(current_app.instance_path) / "job-results")
    path = folder / str(int(job_id))
    path.mkdir(parents=True, exist_ok=True)
    return path


def start(kind: str, *, actor, params: dict | None = None, partnership_id: int | None = None) -> Job:
    """A new job of `kind` for `actor`, queued once the caller commits (then call `hand_over`)."""
    from tracker.jobs.kinds import KINDS

    found = KINDS.get(kind)
    if found is None:
        raise RuleError(f"There is no kind of job called {kind!r}.", field="kind")
    params = dict(params or {})
    if actor is None or not getattr(actor, "is_authenticated", False) or not found.may_start(actor, params):
        raise NotAllowed("You cannot start this job.")
    running = db.session.scalar(select(Job.id).where(
        Job.owner_id == actor.id, Job.kind == kind, Job.params == json.dumps(params, sort_keys=True),
        Job.state.in_((JobState.QUEUED, JobState.RUNNING))))
    if running is not None:
        return db.session.get(Job, running)  # the same work asked for twice: show the one already going
    job = Job(kind=kind, title=found.title(params), owner_id=actor.id, partnership_id=partnership_id,
              params=json.dumps(params, sort_keys=True))
    db.session.add(job)
    db.session.flush()
    audit.record(user_id=actor.id, entity_type="job", entity_id=job.id, verb="create",
                 after={"kind": kind, "params": params}, summary=f"Started: {job.title}")
    return job


def hand_over(job: Job) -> None:
    """After the commit: give the job to the worker (if this is lost, `requeue_stranded` hands it over)."""
    queue.enqueue(job.id)


def visible(job_id: int, user) -> Job:
    job = db.session.get(Job, job_id)
    if job is None or user is None or not getattr(user, "is_authenticated", False):
        raise NotFound("There is no such job.")
    if job.owner_id != user.id and not getattr(user, "is_admin", False):
        raise NotFound("There is no such job.")
    return job


def waiting_too_long(job: Job, now: dt.datetime | None = None) -> bool:
    return job.state == JobState.QUEUED and job.created_at < (now or utcnow()) - NO_WORKER_AFTER


def progress_of(job: Job) -> tuple[int, int, str]:
    """Rows done, of total, and the latest message: live while it runs, the stored figures once finished."""
    if job.state == JobState.RUNNING:
        live = queue.read_progress(job.id)
        if live is not None:
            return live
    return job.done, job.total, job.message


def cancel(job: Job, *, actor) -> None:
    if job.owner_id != actor.id and not getattr(actor, "is_admin", False):
        raise NotAllowed("Only the person who started this job can stop it.")
    if job.state.finished:
        raise RuleError(f"This job has already {job.state.label.lower()}: there is nothing to stop.")
    job.cancel_requested_at = utcnow()
    if job.state == JobState.QUEUED:
        _finish(job, JobState.CANCELLED, "Cancelled before it started.")
    queue.request_cancel(job.id)
    audit.record(user_id=actor.id, entity_type="job", entity_id=job.id, verb="cancel",
                 summary=f"Asked to stop: {job.title}")


def run(job_id: int) -> None:
    """The worker's side: run one job to its end, recording the outcome in its own transaction."""
    from tracker.jobs.kinds import KINDS

    job = db.session.get(Job, job_id)
    if job is None or job.state != JobState.QUEUED:
        db.session.rollback()
        return  # already run, cancelled, or taken by another worker
    job.state = JobState.RUNNING
    job.started_at = utcnow()
    db.session.commit()
    kind = KINDS[job.kind]
    params = json.loads(job.params)
    try:
        with _Lease(job.id):
            result = kind.run(job, params, Progress(job.id))
    except Cancelled:
        db.session.rollback()
        job = db.session.get(Job, job_id)
        _finish(job, JobState.CANCELLED, "Stopped at your request: nothing was changed.")
    except RuleError as refusal:
        db.session.rollback()
        job = db.session.get(Job, job_id)
        _finish(job, JobState.FAILED, refusal.message)
    except Exception:
        log.exception("job %s (%s) failed", job_id, job.kind)
        db.session.rollback()
        job = db.session.get(Job, job_id)
        _finish(job, JobState.FAILED, "Something went wrong and the job stopped; nothing was changed. "
                                      "The error is in the worker's log.")
    else:
        done = queue.read_progress(job.id)
        if done is not None:
            job.done, job.total = done[0], done[1]
        job.done = max(job.done, job.total)
        job.result_path = str(result.path) if result.path else None
        job.result_name = result.name
        job.result_type = result.content_type
        job.result_url = result.url
        _finish(job, JobState.DONE, result.message)
    db.session.commit()
    queue.forget(job_id)


def _finish(job: Job, state: JobState, message: str) -> None:
    live = queue.read_progress(job.id)
    if live is not None and state != JobState.DONE:
        job.done, job.total = live[0], live[1]
    job.state = state
    job.message = message[:500]
    job.finished_at = utcnow()


def requeue_stranded(now: dt.datetime | None = None) -> int:
    """Run every minute by the worker. Hands over again the jobs whose hand-over was lost (queued for a while and
    never started), and ends the running jobs whose worker is gone (their lease not renewed for LOST_AFTER):
    their work was one transaction that never committed, so nothing changed, and the same work may be started
    again. Returns how many were handed over."""
    now = now or utcnow()
    ids = list(db.session.scalars(select(Job.id).where(
        Job.state == JobState.QUEUED, Job.created_at < now - STRANDED_AFTER)))
    gone = []
    for job in db.session.scalars(select(Job).where(Job.state == JobState.RUNNING,
                                                    Job.started_at < now - LOST_AFTER)):
        alive = queue.read_alive(job.id)
        if alive is not None and now.timestamp() - alive < LOST_AFTER.total_seconds():
            continue
        log.warning("job %s (%s) lost its worker: ending it as failed", job.id, job.kind)
        if job.cancel_requested_at is not None:
            _finish(job, JobState.CANCELLED, "Stopped at your request: nothing was changed.")
        else:
            _finish(job, JobState.FAILED, LOST_MESSAGE)
        gone.append(job.id)
    db.session.commit()  # (a job of the worker's own, as `run` is: one commit)
    for job_id in gone:
        queue.forget(job_id)
    for job_id in ids:
        queue.enqueue(job_id)
    return len(ids)


def recent_for(user, limit: int = 20) -> list[Job]:
    return list(db.session.scalars(
        select(Job).where(Job.owner_id == user.id).order_by(Job.created_at.desc(), Job.id.desc()).limit(limit)))
