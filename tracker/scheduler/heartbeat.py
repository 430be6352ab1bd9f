"""The scheduler's heartbeat, and the warning administrators see when it is stale."""
from __future__ import annotations

import datetime as dt
import os
import socket

from flask import current_app

from tracker.extensions import db
from tracker.scheduler.models import SchedulerHeartbeat
from tracker.timeutil import LONDON, as_utc, long_date, utcnow

HEARTBEAT_ID = 1


def beat(started_at: dt.datetime) -> None:
    """Record that this scheduler process is alive (one row, rewritten every minute)."""
    row = db.session.get(SchedulerHeartbeat, HEARTBEAT_ID)
    if row is None:
        row = SchedulerHeartbeat(id=HEARTBEAT_ID)
        db.session.add(row)
    row.host, row.pid, row.started_at, row.beat_at = socket.gethostname()[:255], os.getpid(), started_at, utcnow()
    db.session.commit()


def record_job(job_id: str, error: str | None) -> None:
    row = db.session.get(SchedulerHeartbeat, HEARTBEAT_ID)
    if row is not None:
        row.last_job, row.last_job_at, row.last_job_error = job_id, utcnow(), (error or None) and error[:500]
        db.session.commit()


def warning() -> str | None:
    """A sentence for administrators when no scheduler has reported recently, else None."""
    row = db.session.get(SchedulerHeartbeat, HEARTBEAT_ID)
    if row is None:
        return ("The scheduler has never reported: reminder e-mails are not being sent. "
                "Start it with 'flask --app tracker scheduler'.")
    stale_after = dt.timedelta(minutes=current_app.config["SCHEDULER_STALE_AFTER_MINUTES"])
    last = as_utc(row.beat_at)
    if utcnow() - last <= stale_after:
        return None
    local = last.astimezone(LONDON)
    return (f"The scheduler has not reported since {long_date(local.date())} at {local:%H:%M}: "
            "reminder e-mails are not being sent. Check the scheduler process.")
