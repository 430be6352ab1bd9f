from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.extensions import db
from tracker.timeutil import utcnow
from tracker.types import UTCDateTime, enum_column


class JobState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (JobState.DONE, JobState.FAILED, JobState.CANCELLED)

    @property
    def label(self) -> str:
        return {"queued": "Waiting to start", "running": "Running", "done": "Finished",
                "failed": "Failed", "cancelled": "Cancelled"}[self.value]


class Job(db.Model):
    """One piece of long work: who asked, what, how far it has gone and where its result is."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_state_created", "state", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    partnership_id: Mapped[int | None] = mapped_column(ForeignKey("partnerships.id"))
    params: Mapped[str] = mapped_column(Text, default=lambda: "{}")  # JSON
    state: Mapped[JobState] = mapped_column(enum_column(JobState), default=lambda: JobState.QUEUED)
    done: Mapped[int] = mapped_column(Integer, default=lambda: 0)
    total: Mapped[int] = mapped_column(Integer, default=lambda: 0)
    message: Mapped[str] = mapped_column(String(500), default=lambda: "")
    result_path: Mapped[str | None] = mapped_column(String(500))
    result_name: Mapped[str | None] = mapped_column(String(200))
    result_type: Mapped[str | None] = mapped_column(String(100))
    result_url: Mapped[str | None] = mapped_column(String(500))  # a page to go to when done, instead of a file
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    cancel_requested_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    owner = relationship("User")

    @property
    def percent(self) -> int:
        if self.state == JobState.DONE:
            return 100
        return min(100, self.done * 100 // self.total) if self.total else 0

    def __repr__(self) -> str:
        return f"<Job {self.id} {self.kind} {self.state}>"
