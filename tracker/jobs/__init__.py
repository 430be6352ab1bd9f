"""Long work off the web request: a job row the web shows with its progress, run by the worker process.

The web starts a job (`services.start`: a `Job` row, committed with the request) and hands its id to the
queue (Huey: an embedded SQLite queue file in the instance folder by default, Redis with JOBS_REDIS_URL for
several servers). The worker (`flask --app tracker worker`) runs it, reporting rows done of total; the web's
progress page reads them. A job outlives a restarted web worker; its result file is kept for download.
"""
