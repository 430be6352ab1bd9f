"""The task queue the worker reads: Huey, on a SQLite file in the instance folder, or on Redis."""
from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app
from huey import MemoryHuey, RedisHuey, SqliteHuey


def make_queue(app: Flask):
    """The app's Huey. JOBS_IMMEDIATE (tests): run each job at once, in the process that starts it."""
    if app.config.get("JOBS_IMMEDIATE"):
        return MemoryHuey("tracker-jobs", immediate=True)
    if app.config.get("JOBS_REDIS_URL"):
        return RedisHuey("tracker-jobs", url=app.config["JOBS_REDIS_URL"])
    path = Path(app.config.get("JOBS_QUEUE_FILE") or Path(app.instance_path) / "jobs-queue.sqlite3")
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("tracker-jobs", filename=str(path))


def queue():
    found = current_app.extensions.get("tracker_jobs_queue")
    if found is None:
        found = current_app.extensions["tracker_jobs_queue"] = make_queue(current_app)
        _register_task(found, current_app._get_current_object())
    return found


def _register_task(huey, app: Flask) -> None:
    @huey.task(name="tracker.run_job")
    def run_job(job_id: int) -> None:
        from tracker.jobs import services

        if app.config.get("JOBS_IMMEDIATE"):
            services.run(job_id)  # already inside the app (the request or command that started it)
        else:
            with app.app_context():
                services.run(job_id)

    @huey.periodic_task(_every_minute(), name="tracker.requeue_stranded_jobs")
    def requeue_stranded() -> None:
        from tracker.jobs import services

        with app.app_context():
            services.requeue_stranded()

    huey.tracker_run_job = run_job


def _every_minute():
    from huey import crontab

    return crontab(minute="*")


def enqueue(job_id: int) -> None:
    queue().tracker_run_job(job_id)


# Progress and cancellation live in the queue's key-value store, not in the database: a job writing in one
# long transaction (an import) must not wait for its own progress writes, nor the web for the job's lock.

def put_progress(job_id: int, done: int, total: int, message: str) -> None:
    queue().storage.put_data(f"progress:{job_id}", _pack(done, total, message))


def read_progress(job_id: int) -> tuple[int, int, str] | None:
    raw = queue().storage.peek_data(f"progress:{job_id}")
    if raw is None or raw is _empty():
        return None
    done, total, message = raw.decode("utf-8").split("\x1f", 2)
    return int(done), int(total), message


def request_cancel(job_id: int) -> None:
    queue().storage.put_data(f"cancel:{job_id}", b"1")


def cancel_requested(job_id: int) -> bool:
    raw = queue().storage.peek_data(f"cancel:{job_id}")
    return raw is not None and raw is not _empty()


def put_alive(job_id: int, at: float, huey=None) -> None:
    """The worker running a job says it is still alive (its lease); `huey` lets a thread without the app say so."""
    (huey or queue()).storage.put_data(f"alive:{job_id}", repr(float(at)).encode())


def read_alive(job_id: int) -> float | None:
    """When the worker running the job last said it was alive (seconds since the epoch), or None."""
    raw = queue().storage.peek_data(f"alive:{job_id}")
    if raw is None or raw is _empty():
        return None
    return float(raw.decode("ascii"))


def forget(job_id: int) -> None:
    for key in (f"progress:{job_id}", f"cancel:{job_id}", f"alive:{job_id}"):
        queue().storage.pop_data(key)


def _pack(done: int, total: int, message: str) -> bytes:
    return f"{int(done)}\x1f{int(total)}\x1f{message.replace(chr(0x1f), ' ')}".encode()


def _empty():
    from huey.constants import EmptyData

    return EmptyData
