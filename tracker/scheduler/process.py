"""The scheduler process: APScheduler's BlockingScheduler, run by `flask --app tracker scheduler`.

Never started inside web workers. One per installation (tracker.scheduler.lock); a second one
waits as a standby and takes over when the first stops, or exits with --no-wait.
"""
from __future__ import annotations

import datetime as dt
import logging
import signal
import threading
import time

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask

from tracker.extensions import db
from tracker.scheduler import heartbeat
from tracker.scheduler.jobs import JOBS, Job
from tracker.scheduler.lock import SchedulerLock
from tracker.timeutil import LONDON, utcnow

log = logging.getLogger("tracker.scheduler")

JOB_DEFAULTS = {
    "coalesce": True,  # several missed fire times run once
    "max_instances": 1,
    "misfire_grace_time": 6 * 60 * 60,  # a run delayed by up to 6 hours still happens
}
HEARTBEAT_SECONDS = 60


def trigger_for(job: Job) -> CronTrigger:
    return CronTrigger(timezone=LONDON, **job.cron)


def fired_earlier_today(trigger: CronTrigger, now: dt.datetime) -> bool:
    """Whether the trigger had a fire time between local midnight and now (a run to catch up)."""
    local_now = now.astimezone(LONDON)
    midnight = dt.datetime.combine(local_now.date(), dt.time(), tzinfo=LONDON)
    first = trigger.get_next_fire_time(None, midnight)
    return first is not None and first <= local_now


def run_job(app: Flask, job: Job) -> None:
    """Run one job in its own app context, recording its outcome on the heartbeat row."""
    with app.app_context():
        error = None
        try:
            job.resolve()()
        except Exception as exc:  # noqa: BLE001 - a failing job must not stop the scheduler
            log.exception("Scheduled job %s failed", job.id)
            db.session.rollback()
            error = f"{type(exc).__name__}: {exc}"
        try:
            heartbeat.record_job(job.id, error)
        finally:
            db.session.remove()


def build_scheduler(app: Flask, lock: SchedulerLock, jobs: list[Job] = JOBS) -> BlockingScheduler:
    scheduler = BlockingScheduler(timezone=LONDON, job_defaults=JOB_DEFAULTS)
    started_at = utcnow()

    def keep_alive():
        if not lock.held():
            log.error("Lost the scheduler lock (%s): stopping so a standby can take over.", lock.description)
            scheduler.shutdown(wait=False)
            return
        with app.app_context():
            try:
                heartbeat.beat(started_at)
            finally:
                db.session.remove()

    scheduler.add_job(keep_alive, IntervalTrigger(seconds=HEARTBEAT_SECONDS, timezone=LONDON),
                      id="heartbeat", name="heartbeat", next_run_time=dt.datetime.now(LONDON))
    now = dt.datetime.now(LONDON)
    for job in jobs:
        trigger = trigger_for(job)
        catch_up = fired_earlier_today(trigger, now)
        if catch_up:
            log.info("Job %s was due earlier today: running it now to catch up.", job.id)
        scheduler.add_job(run_job, trigger, args=(app, job), id=job.id, name=job.id,
                          **({"next_run_time": now} if catch_up else {}))
    return scheduler


def run(app: Flask, *, wait: bool, poll_seconds: float = 30, echo=print) -> int:
    """Hold the lock (or wait for it), then run the jobs until stopped. Returns an exit status."""
    with app.app_context():
        lock = SchedulerLock(db.engine, app.instance_path)
    announced = False
    while not lock.acquire():
        if not wait:
            echo(f"Another scheduler is already running (it holds the {lock.description}). Exiting.")
            return 1
        if not announced:
            echo(f"Another scheduler is running (it holds the {lock.description}). "
                 f"Waiting as a standby; checking every {poll_seconds:g} seconds.")
            announced = True
        time.sleep(poll_seconds)
    echo(f"Scheduler started (holding the {lock.description}). Jobs: {', '.join(j.id for j in JOBS)}.")
    try:
        scheduler = build_scheduler(app, lock)
        if threading.current_thread() is threading.main_thread():
            # systemd stops services with SIGTERM: stop taking new runs; a run in progress finishes first.
            signal.signal(signal.SIGTERM, lambda *_: scheduler.shutdown(wait=False))
        scheduler.start()
        status = 0 if lock.held() else 1  # the scheduler stops itself when the lock is lost
    except (KeyboardInterrupt, SystemExit):
        status = 0
    finally:
        lock.release()
    return status
