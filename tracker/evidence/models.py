"""Evidence: a link or a stored file on an action, progress update, self-evaluation rating or recommendation."""
from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.auth.models import User
from tracker.extensions import db
from tracker.plans.models import forbid_changes
from tracker.timeutil import utcnow
from tracker.types import UTCDateTime, enum_column


class Target(enum.StrEnum):
    """What a piece of evidence is about."""

    ACTION = "action"
    UPDATE = "update"
    RATING = "rating"
    RECOMMENDATION = "recommendation"

    @property
    def label(self) -> str:
        return {"action": "action", "update": "progress update", "rating": "self-evaluation rating",
                "recommendation": "audit recommendation"}[self.value]


class Evidence(db.Model):
    """One version of one piece of evidence. Append-only: a replacement is a new row naming the one it replaces.

    A file's bytes are kept outside the database (tracker.evidence.storage), under `storage_key`.
    """

    __tablename__ = "evidence"
    __table_args__ = (Index("ix_evidence_target", "target", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id"), index=True)
    target: Mapped[Target] = mapped_column(enum_column(Target))
    target_id: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(String(2000))
    filename: Mapped[str | None] = mapped_column(String(200))
    content_type: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[int | None] = mapped_column(Integer)
    sha256: Mapped[str | None] = mapped_column(String(64))
    storage_key: Mapped[str | None] = mapped_column(String(200))
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("evidence.id"), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    created_by: Mapped[User | None] = relationship()
    replaces: Mapped[Evidence | None] = relationship(remote_side=[id])

    @property
    def is_file(self) -> bool:
        return self.storage_key is not None


forbid_changes(Evidence)
