"""The scheduler process: APScheduler's BackgroundScheduler, run by `flask --app tracker scheduler`.

Never started inside web workers. One per installation (tracker.scheduler.lock); a second one
waits as a standby and takes over when the first stops, or exits with --no-wait. A scheduler that loses
the lock (its database session ended) stops its jobs (the sender within one message) and becomes a standby;
a standby survives the database being away (it reconnects with backoff, never exits). On SIGTERM the
message in flight is finished, the run stops, and only then is the lock released.

The SIGTERM handler only raises a flag. Python runs a handler in the main thread between any two bytecodes,
including while that thread holds a lock: with BlockingScheduler the main thread submits every job to the
thread pool holding the pool's lock, and a handler that shut the scheduler down there waited for that very
lock for ever (the stop hung until systemd's SIGKILL, mid-message). So the scheduler runs in its own thread,
and the main thread only watches: it notices the flag within a tick and stops everything in plain code.
"""
from __future__ import annotations

import datetime as dt
import logging
import signal
import threading
import time

from apscheduler.schedulers.background import BackgroundScheduler
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
#: How often the main thread looks for a SIGTERM, a lost lock or a stopped scheduler.
TICK_SECONDS = 0.2


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
                    check_seconds: float = HEARTBEAT_SECONDS) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone=LONDON, job_defaults=JOB_DEFAULTS)
    started_at = utcnow()

    def keep_alive():
        if not lock.held():
            log.error("Lost the scheduler lock (%s): stopping so a standby can take over.", lock.description)
            shut_down(scheduler)
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


_SHUTTING_DOWN = threading.Lock()


def shut_down(scheduler: BackgroundScheduler) -> None:
    """Stop starting runs (runs in progress go on). The main thread and keep_alive may both get here: once."""
    with _SHUTTING_DOWN:
        if scheduler.running:
            scheduler.shutdown(wait=False)


def run(app: Flask, *, wait: bool, poll_seconds: float = 30, echo=print, jobs: list[Job] | None = None) -> int:
    """Hold the lock (or wait for it), then run the jobs until stopped. Returns an exit status."""
    with app.app_context():
        lock = SchedulerLock(db.engine, app.instance_path)
    stop = scheduler_lock.STOP
    stop.clear()
    terminated: list[int] = []

    def on_sigterm(signum, _frame):
        # systemd stops services with SIGTERM: no new runs; the sender stops after the message in flight.
        # Only a flag (a list append takes no lock): see the module's docstring for why.
        terminated.append(signum)

    def stopping() -> bool:
        if terminated and not stop.is_set():
            stop.set()  # from plain code in the main thread: the sender's threads see it before their next message
        return stop.is_set()

    def pause(seconds: float) -> None:
        """Wait `seconds`, or less if asked to stop: SIGTERM within a tick, stop.set() at once."""
        deadline = time.monotonic() + seconds
        while not stopping():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            stop.wait(min(left, TICK_SECONDS))

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, on_sigterm)
    announced, failures = False, 0
    try:
        while not stopping():
            try:
                got = lock.acquire()
            except Exception as error:  # noqa: BLE001 - the database is away: wait and try again, never exit
                failures += 1
                delay = min(poll_seconds, 0.5 * 2 ** min(failures, 10))
                log.warning("Cannot reach the database to take the scheduler lock (%s): trying again in %.1f s.",
                            type(error).__name__, delay)
                pause(delay)
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
                pause(poll_seconds)
                continue
            echo(f"Scheduler started (holding the {lock.description}). Jobs: {', '.join(j.id for j in JOBS)}.")
            scheduler_lock.set_process_lock(lock)
            lost = False
            try:
                scheduler = build_scheduler(app, lock, JOBS if jobs is None else jobs, check_seconds=poll_seconds)
                if not stopping():
                    scheduler.start()  # in its own thread: this one watches
                    while scheduler.running and not stopping():  # keep_alive stops it if the lock is lost
                        stop.wait(TICK_SECONDS)
                    shut_down(scheduler)
                lost = not stopping() and not lock.held()
            finally:
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
