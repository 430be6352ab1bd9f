"""Audit reports, the grade schemes auditors use, and their recommendations with the actions that implement them."""
from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Column, Date, ForeignKey, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.auth.models import User
from tracker.committees.models import Committee
from tracker.extensions import db
from tracker.partnerships.models import Partnership
from tracker.plans.models import Action, Plan
from tracker.timeutil import utcnow
from tracker.types import UTCDateTime, enum_column


class AuditorKind(enum.StrEnum):
    INTERNAL = "internal"
    EXTERNAL = "external"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {"internal": "Internal audit", "external": "External audit",
                "other": "Other scrutiny body"}[self.value]


class Assurance(enum.StrEnum):
    SUBSTANTIAL = "substantial"
    REASONABLE = "reasonable"
    LIMITED = "limited"
    NONE = "none"

    @property
    def label(self) -> str:
        return {"substantial": "Substantial assurance", "reasonable": "Reasonable assurance",
                "limited": "Limited assurance", "none": "No assurance"}[self.value]


class GradeScheme(db.Model):
    """An auditor's grading of recommendations ("Priority 1-3", "High / medium / low"), per partnership."""

    __tablename__ = "audit_grade_schemes"
    __table_args__ = (UniqueConstraint("partnership_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    grades: Mapped[list[Grade]] = relationship(back_populates="scheme", order_by="Grade.position",
                                               cascade="all, delete-orphan")


class Grade(db.Model):
    """One grade of a scheme; position 1 is the most serious."""

    __tablename__ = "audit_grades"
    __table_args__ = (UniqueConstraint("scheme_id", "label"), UniqueConstraint("scheme_id", "position"))

    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("audit_grade_schemes.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(60))

    scheme: Mapped[GradeScheme] = relationship(back_populates="grades")


class AuditReport(db.Model):
    """An internal or external audit (or other scrutiny body's) report received by a committee."""

    __tablename__ = "audit_reports"
    __table_args__ = (UniqueConstraint("partnership_id", "title"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id"), index=True)
    #: The plan whose actions implement the recommendations (leads, dates, RAG and reminders as for any action).
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    committee_id: Mapped[int | None] = mapped_column(ForeignKey("committees.id"), index=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("audit_grade_schemes.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    auditor_kind: Mapped[AuditorKind] = mapped_column(enum_column(AuditorKind), default=AuditorKind.INTERNAL)
    auditor_name: Mapped[str | None] = mapped_column(String(200))
    issued_on: Mapped[dt.date] = mapped_column(Date)
    assurance: Mapped[Assurance | None] = mapped_column(enum_column(Assurance))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    partnership: Mapped[Partnership] = relationship()
    plan: Mapped[Plan] = relationship()
    committee: Mapped[Committee | None] = relationship()
    scheme: Mapped[GradeScheme] = relationship()
    recommendations: Mapped[list[Recommendation]] = relationship(back_populates="report",
                                                                 order_by="Recommendation.id")


recommendation_actions = Table(
    "audit_recommendation_actions",
    db.Model.metadata,
    Column("recommendation_id", ForeignKey("audit_recommendations.id", ondelete="CASCADE"), primary_key=True),
    Column("action_id", ForeignKey("actions.id"), primary_key=True, index=True),
)


class Recommendation(db.Model):
    """A graded recommendation, management's response, and the action(s) that implement it.

    Its status is derived (tracker.scrutiny.rules.status) from its actions and the auditor's verification.
    """

    __tablename__ = "audit_recommendations"
    __table_args__ = (UniqueConstraint("report_id", "ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("audit_reports.id"), index=True)
    ref: Mapped[str] = mapped_column(String(40))
    finding: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text)
    grade_id: Mapped[int | None] = mapped_column(ForeignKey("audit_grades.id"), index=True)
    response: Mapped[str | None] = mapped_column(Text)
    #: The date management agreed; the actions' due dates are the current ones.
    agreed_date: Mapped[dt.date | None] = mapped_column(Date)
    verified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    verification_note: Mapped[str | None] = mapped_column(Text)
    reopened_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    reopen_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    report: Mapped[AuditReport] = relationship(back_populates="recommendations")
    grade: Mapped[Grade | None] = relationship()
    verified_by: Mapped[User | None] = relationship()
    actions: Mapped[list[Action]] = relationship(secondary=recommendation_actions, order_by="Action.id")

    @property
    def partnership_id(self) -> int:
        return self.report.partnership_id
