"""Only one scheduler at a time: a PostgreSQL session-level advisory lock, or on SQLite an
fcntl.flock on a file next to the database. Both are released by the operating system or the
database server when the process dies, so a crashed scheduler never blocks its successor."""
from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

#: Any fixed 64-bit number, the same in every process of this installation.
ADVISORY_LOCK_KEY = 6_020_210_406_001

#: The lock this process holds as the running scheduler (set by tracker.scheduler.process), so that its
#: jobs send e-mail under it rather than trying to take it a second time.
_held_by_process: SchedulerLock | None = None


#: Set when this process is asked to stop (SIGTERM): the sender stops before its next message.
STOP = threading.Event()


def stop_requested() -> bool:
    return STOP.is_set()


class LockLost(Exception):
    """This process no longer holds the scheduler lock: whatever it was doing under the lock must stop."""


def process_lock() -> SchedulerLock | None:
    return _held_by_process


def set_process_lock(lock: SchedulerLock | None) -> None:
    global _held_by_process
    _held_by_process = lock


class SchedulerLock:
    """acquire() -> bool without waiting; held() checks it is still ours; release() gives it up."""

    def __init__(self, engine: Engine, instance_path: str):
        self.engine = engine
        self.url = engine.url
        self.instance_path = instance_path
        self._connection = None
        self._file = None
        #: The PostgreSQL session holding the lock is shared by the heartbeat and the sender: one at a time.
        self._mutex = threading.Lock()

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
        """Take the lock if it is free. Raises the database's error if it cannot be reached."""
        if self.url.get_backend_name() == "postgresql":
            connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            try:
                if connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY}):
                    self._connection = connection
                    return True
            except BaseException:
                connection.invalidate()
                connection.close()
                raise
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

    @property
    def has_session(self) -> bool:
        """True on PostgreSQL: fenced statements run on the lock's own session (`fallback` is not used)."""
        return self._connection is not None

    def held(self) -> bool:
        """False if the lock was lost (the PostgreSQL connection dropped): the scheduler must stop."""
        if self._connection is not None:
            if not self._mutex.acquire(blocking=False):
                return True  # the sender is using the session right now, and finds out itself if it is gone
            try:
                # A session-level lock lasts as long as the session: alive session, lock still ours.
                return self._connection.scalar(text("SELECT 1")) == 1
            except Exception:  # noqa: BLE001 - any failure means the session, and the lock, are gone
                return False
            finally:
                self._mutex.release()
        return self._file is not None

    def fenced(self, statement, parameters: dict, fallback) -> int:
        """Run a write that is allowed only while the lock is ours; returns its row count, or raises LockLost.

        On PostgreSQL it runs through the very session that holds the advisory lock (autocommit): if that
        session is gone, so is the lock, and the statement fails. On SQLite the lock is a file lock held by
        this process; the statement runs (and is committed) on `fallback`, the caller's connection.
        """
        return self._fenced(statement, parameters, fallback, lambda result: result.rowcount)

    def fenced_ids(self, statement, parameters: dict, fallback) -> set:
        """`fenced` for an UPDATE ... RETURNING id: the ids it changed (one round trip, one commit)."""
        return self._fenced(statement, parameters, fallback, lambda result: set(result.scalars()))

    def _fenced(self, statement, parameters: dict, fallback, read):
        if self._connection is not None:
            with self._mutex:
                try:
                    return read(self._connection.execute(statement, parameters))
                except Exception as error:  # noqa: BLE001 - the session, and the lock with it, are gone
                    raise LockLost(f"Lost the {self.description}: {type(error).__name__}") from error
        if self._file is None:
            raise LockLost(f"This process does not hold the {self.description}.")
        found = read(fallback.execute(statement, parameters))
        fallback.commit()
        return found

    def release(self) -> None:
        if self._connection is not None:
            with self._mutex:
                try:
                    self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY})
                except Exception:  # noqa: BLE001 - closing the connection releases it anyway
                    pass
                try:
                    self._connection.close()
                except Exception:  # noqa: BLE001 - a dead session cannot be closed cleanly
                    pass
                self._connection = None
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None
