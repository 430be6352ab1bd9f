"""The scheduler process: APScheduler's BlockingScheduler, run by `flask --app tracker scheduler`.

Never started inside web workers. One per installation (tracker.scheduler.lock); a second one
waits as a standby and takes over when the first stops, or exits with --no-wait. A scheduler that loses
the lock (its database session ended) stops its jobs (the sender within one message) and becomes a standby;
a standby survives the database being away (it reconnects with backoff, never exits). On SIGTERM the
message in flight is finished, the run stops, and only then is the lock released.
"""
from __future__ import annotations

import datetime as dt
import logging
import signal
import threading

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask

from tracker.extensions import db
from tracker.scheduler import heartbeat
from tracker.scheduler.jobs import JOBS, Job
from tracker.scheduler import lock as scheduler_lock
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


class _Running:
    """How many jobs are running now, so the lock is released only once they have all stopped."""

    def __init__(self):
        self.count = 0
        self.changed = threading.Condition()

    def __enter__(self):
        with self.changed:
            self.count += 1

    def __exit__(self, *exc_info):
        with self.changed:
            self.count -= 1
            self.changed.notify_all()

    def wait_idle(self, timeout: float | None = None) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: self.count == 0, timeout)


RUNNING = _Running()


def run_job(app: Flask, job: Job) -> None:
    """Run one job in its own app context, recording its outcome on the heartbeat row."""
    with RUNNING, app.app_context():
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


def build_scheduler(app: Flask, lock: SchedulerLock, jobs: list[Job] = JOBS,
                    check_seconds: float = HEARTBEAT_SECONDS) -> BlockingScheduler:
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
            except Exception:  # noqa: BLE001 - the database may be away for a moment; the lock check decides
                log.warning("Could not record the heartbeat.", exc_info=True)
            finally:
                db.session.remove()

    scheduler.add_job(keep_alive, IntervalTrigger(seconds=min(HEARTBEAT_SECONDS, check_seconds), timezone=LONDON),
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


def run(app: Flask, *, wait: bool, poll_seconds: float = 30, echo=print, jobs: list[Job] | None = None) -> int:
    """Hold the lock (or wait for it), then run the jobs until stopped. Returns an exit status."""
    with app.app_context():
        lock = SchedulerLock(db.engine, app.instance_path)
    stop = scheduler_lock.STOP
    stop.clear()
    current: dict[str, BlockingScheduler] = {}

    def on_sigterm(*_):
        # systemd stops services with SIGTERM: no new runs; the sender stops after the message in flight.
        stop.set()
        if "scheduler" in current:
            current["scheduler"].shutdown(wait=False)

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, on_sigterm)
    announced, failures = False, 0
    try:
        while not stop.is_set():
            try:
                got = lock.acquire()
            except Exception as error:  # noqa: BLE001 - the database is away: wait and try again, never exit
                failures += 1
                delay = min(poll_seconds, 0.5 * 2 ** min(failures, 10))
                log.warning("Cannot reach the database to take the scheduler lock (%s): trying again in %.1f s.",
                            type(error).__name__, delay)
                stop.wait(delay)
                continue
            failures = 0
            if not got:
                if not wait:
                    echo(f"Another scheduler is already running (it holds the {lock.description}). Exiting.")
                    return 1
                if not announced:
                    echo(f"Another scheduler is running (it holds the {lock.description}). "
                         f"Waiting as a standby; checking every {poll_seconds:g} seconds.")
                    announced = True
                stop.wait(poll_seconds)
                continue
            echo(f"Scheduler started (holding the {lock.description}). Jobs: {', '.join(j.id for j in JOBS)}.")
            scheduler_lock.set_process_lock(lock)
            lost = False
            try:
                scheduler = build_scheduler(app, lock, JOBS if jobs is None else jobs, check_seconds=poll_seconds)
                current["scheduler"] = scheduler
                if not stop.is_set():
                    scheduler.start()  # returns on SIGTERM, or when keep_alive finds the lock lost
                lost = not stop.is_set() and not lock.held()
            finally:
                current.pop("scheduler", None)
                RUNNING.wait_idle()  # a run in progress stops first (after its message in flight)...
                scheduler_lock.set_process_lock(None)
                lock.release()  # ...and only then is the lock given up
            if not lost:
                return 0
            echo(f"Lost the {lock.description}: waiting as a standby.")
            announced = True
    except KeyboardInterrupt:
        pass
    finally:
        stop.clear()  # (for the next run in this process: tests)
    return 0
