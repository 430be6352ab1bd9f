"""Only one scheduler at a time: a PostgreSQL session-level advisory lock, or on SQLite an
fcntl.flock on a file next to the database. Both are released by the operating system or the
database server when the process dies, so a crashed scheduler never blocks its successor."""
from __future__ import annotations

import fcntl
import os
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

#: Any fixed 64-bit number, the same in every process of this installation.
ADVISORY_LOCK_KEY = 6_020_210_406_001


class SchedulerLock:
    """acquire() -> bool without waiting; held() checks it is still ours; release() gives it up."""

    def __init__(self, engine: Engine, instance_path: str):
        self.engine = engine
        self.url = engine.url
        self.instance_path = instance_path
        self._connection = None
        self._file = None

    @property
    def description(self) -> str:
        if self.url.get_backend_name() == "postgresql":
            return f"PostgreSQL advisory lock {ADVISORY_LOCK_KEY} on database {self.url.database}"
        return f"file lock {self.lock_path()}"

    def lock_path(self) -> Path:
        database = make_url(self.url).database
        if database and database != ":memory:":
            return Path(database).resolve().with_name(Path(database).name + ".scheduler.lock")
        return Path(self.instance_path) / "scheduler.lock"

    def acquire(self) -> bool:
        if self.url.get_backend_name() == "postgresql":
            connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            if connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY}):
                self._connection = connection
                return True
            connection.close()
            return False
        path = self.lock_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a+")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle
        return True

    def held(self) -> bool:
        """False if the lock was lost (the PostgreSQL connection dropped): the scheduler must stop."""
        if self._connection is not None:
            try:
                # A session-level lock lasts as long as the session: alive session, lock still ours.
                return self._connection.scalar(text("SELECT 1")) == 1
            except Exception:  # noqa: BLE001 - any failure means the session, and the lock, are gone
                return False
        return self._file is not None

    def release(self) -> None:
        if self._connection is not None:
            try:
                self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY})
            except Exception:  # noqa: BLE001 - closing the connection releases it anyway
                pass
            self._connection.close()
            self._connection = None
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None
