from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tracker.extensions import db
from tracker.timeutil import utcnow
from tracker.types import UTCDateTime


class SchedulerHeartbeat(db.Model):
    """The active scheduler's latest sign of life (one row), shown to administrators when stale."""

    __tablename__ = "scheduler_heartbeats"

    id: Mapped[int] = mapped_column(primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    beat_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_job: Mapped[str | None] = mapped_column(String(100))
    last_job_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_job_error: Mapped[str | None] = mapped_column(String(500))
