from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from tracker.auth.models import User
from tracker.committees.models import Committee, Meeting
from tracker.extensions import db
from tracker.plans.models import Plan
from tracker.timeutil import utcnow
from tracker.types import UTCDateTime


class IssuedWorkbook(db.Model):
    """A quarter's workbook as issued to a committee: frozen figures and the exact file sent."""

    __tablename__ = "issued_workbooks"
    __table_args__ = (
        UniqueConstraint("plan_id", "meeting_id"),
        UniqueConstraint("issue_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    committee_id: Mapped[int | None] = mapped_column(ForeignKey("committees.id"), index=True)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id"), index=True)
    #: "plan 3 meeting 7" or "plan 3 quarter Q2 2023/24" when issued without a meeting: never issued twice.
    issue_key: Mapped[str] = mapped_column(String(100))
    quarter: Mapped[str] = mapped_column(String(20))  # "Q2 2023/24"
    as_at: Mapped[dt.date] = mapped_column()
    filename: Mapped[str] = mapped_column(String(255))
    #: The WorkbookData snapshot as JSON: rebuilding from it gives the same workbook.
    snapshot_json: Mapped[str] = deferred(mapped_column(Text, nullable=False))
    content: Mapped[bytes] = deferred(mapped_column(LargeBinary, nullable=False))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    plan: Mapped[Plan] = relationship()
    committee: Mapped[Committee | None] = relationship()
    meeting: Mapped[Meeting | None] = relationship()
    issued_by: Mapped[User | None] = relationship()
    #: The PDF paper and the covering report issued with the workbook, from the same snapshot.
    papers: Mapped[list[IssuedPaper]] = relationship(back_populates="workbook", order_by="IssuedPaper.id")


class IssuedPaper(db.Model):
    """A paper issued in a set with its workbook (the PDF paper, the covering report): the exact file sent."""

    __tablename__ = "issued_papers"
    __table_args__ = (UniqueConstraint("workbook_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workbook_id: Mapped[int] = mapped_column(ForeignKey("issued_workbooks.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # "pdf", "docx"
    filename: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes] = deferred(mapped_column(LargeBinary, nullable=False))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))

    workbook: Mapped[IssuedWorkbook] = relationship(back_populates="papers")


class ReturnUpload(db.Model):
    """An uploaded update return waiting for its uploader to confirm the preview."""

    __tablename__ = "return_uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    #: Parsed rows: [{"action_id", "version", "status", "narrative", "revised_timescale", "reason"}, ...]
    rows: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    applied_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    plan: Mapped[Plan] = relationship()
    user: Mapped[User] = relationship()
