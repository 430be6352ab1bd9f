from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Column, Date, ForeignKey, Integer, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.auth.models import User
from tracker.extensions import db
from tracker.partnerships.models import Partnership
from tracker.plans.models import Plan
from tracker.timeutil import utcnow
from tracker.types import UTCDateTime, enum_column


class CommitteeKind(enum.StrEnum):
    IJB = "ijb"
    PAC = "pac"  # performance and audit committee
    SPG = "spg"  # strategic planning (advisory) group
    CARERS_PARTNERSHIP = "carers_partnership"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            "ijb": "Integration Joint Board",
            "pac": "Performance and audit committee",
            "spg": "Strategic planning group",
            "carers_partnership": "Carers partnership",
            "other": "Other committee",
        }[self.value]


committee_plans = Table(
    "committee_plans",
    db.Model.metadata,
    Column("committee_id", ForeignKey("committees.id", ondelete="CASCADE"), primary_key=True),
    Column("plan_id", ForeignKey("plans.id"), primary_key=True, index=True),
)


class Committee(db.Model):
    __tablename__ = "committees"
    __table_args__ = (UniqueConstraint("partnership_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[CommitteeKind] = mapped_column(
        enum_column(CommitteeKind),
        default=CommitteeKind.OTHER,
    )
    #: Papers are due this many working days (Scottish bank holidays excluded) before a meeting.
    papers_due_working_days: Mapped[int] = mapped_column(Integer, default=10)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    partnership: Mapped[Partnership] = relationship()
    plans: Mapped[list[Plan]] = relationship(secondary=committee_plans)
    members: Mapped[list[CommitteeMember]] = relationship(
        back_populates="committee", cascade="all, delete-orphan"
    )
    meetings: Mapped[list[Meeting]] = relationship(back_populates="committee", order_by="Meeting.held_on")


class CommitteeMember(db.Model):
    __tablename__ = "committee_members"
    __table_args__ = (UniqueConstraint("committee_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    committee_id: Mapped[int] = mapped_column(ForeignKey("committees.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    #: "Voting member", "Carer representative", "Service-user representative", "Officer", ...
    role_label: Mapped[str] = mapped_column(String(100), default="Member")

    committee: Mapped[Committee] = relationship(back_populates="members")
    user: Mapped[User] = relationship()


class Meeting(db.Model):
    __tablename__ = "meetings"
    __table_args__ = (UniqueConstraint("committee_id", "held_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    committee_id: Mapped[int] = mapped_column(ForeignKey("committees.id"), index=True)
    held_on: Mapped[dt.date] = mapped_column(Date)
    title: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    committee: Mapped[Committee] = relationship(back_populates="meetings")
