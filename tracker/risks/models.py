"""Risks, their scored reviews (append-only), their partnership's matrix, and the reminders sent."""
from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, Column, Date, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.auth.models import User
from tracker.extensions import db
from tracker.partnerships.models import Partnership
from tracker.plans.models import Action, Plan, forbid_changes
from tracker.risks import scoring
from tracker.timeutil import utcnow
from tracker.types import UTCDateTime, enum_column


class RiskStatus(enum.StrEnum):
    OPEN = "open"
    TOLERATED = "tolerated"  # accepted at its residual level, still watched
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return {"open": "Open", "tolerated": "Tolerated", "closed": "Closed"}[self.value]

    @property
    def is_live(self) -> bool:
        return self is not RiskStatus.CLOSED


risk_plans = Table(
    "risk_plans",
    db.Model.metadata,
    Column("risk_id", ForeignKey("risks.id", ondelete="CASCADE"), primary_key=True),
    Column("plan_id", ForeignKey("plans.id"), primary_key=True, index=True),
)

#: The tracked actions that mitigate a risk (many-to-many with plans' actions).
risk_actions = Table(
    "risk_actions",
    db.Model.metadata,
    Column("risk_id", ForeignKey("risks.id", ondelete="CASCADE"), primary_key=True),
    Column("action_id", ForeignKey("actions.id"), primary_key=True, index=True),
)


class RiskMatrix(db.Model):
    """A partnership's scoring matrix; without one, scoring.DEFAULT (5 x 5) applies."""

    __tablename__ = "risk_matrices"

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id"), unique=True)
    size: Mapped[int] = mapped_column(Integer)
    #: [[band name, lowest score], ...], lowest band first.
    bands: Mapped[list] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def matrix(self) -> scoring.Matrix:
        return scoring.Matrix.of(self.size, [tuple(pair) for pair in self.bands])


class Risk(db.Model):
    """A risk on a partnership's register, optionally on one or more of its plans."""

    __tablename__ = "risks"
    __table_args__ = (UniqueConstraint("partnership_id", "reference"),
                      Index("ix_risks_partnership_status", "partnership_id", "status"))

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id"))
    reference: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    #: Comma-separated, as committee reports write them ("Financial, Political").
    categories: Mapped[str] = mapped_column(String(500), default="")
    #: The mitigating actions as the source report wrote them (with timescales and resources).
    mitigations: Mapped[str] = mapped_column(Text, default="")
    recommendation: Mapped[str] = mapped_column(Text, default="")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[RiskStatus] = mapped_column(enum_column(RiskStatus), default=RiskStatus.OPEN)
    review_date: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}

    partnership: Mapped[Partnership] = relationship()
    owner: Mapped[User | None] = relationship()
    plans: Mapped[list[Plan]] = relationship(secondary=risk_plans, order_by="Plan.name")
    actions: Mapped[list[Action]] = relationship(secondary=risk_actions, order_by="Action.id")
    reviews: Mapped[list[RiskReview]] = relationship(back_populates="risk", order_by="RiskReview.id",
                                                     viewonly=True)

    @property
    def category_list(self) -> list[str]:
        return [c.strip() for c in (self.categories or "").split(",") if c.strip()]

    def __repr__(self) -> str:
        return f"<Risk {self.reference}>"


class RiskReview(db.Model):
    """One scored entry: who reviewed the risk, when, why, and its inherent, residual and target levels then.
    Append-only: a review never changes an earlier one."""

    __tablename__ = "risk_reviews"
    __table_args__ = (Index("ix_risk_reviews_risk_id_id", "risk_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    risk_id: Mapped[int] = mapped_column(ForeignKey("risks.id"))
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    reviewed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[RiskStatus] = mapped_column(enum_column(RiskStatus))
    inherent_likelihood: Mapped[int] = mapped_column(Integer)
    inherent_impact: Mapped[int] = mapped_column(Integer)
    residual_likelihood: Mapped[int] = mapped_column(Integer)
    residual_impact: Mapped[int] = mapped_column(Integer)
    target_likelihood: Mapped[int] = mapped_column(Integer)
    target_impact: Mapped[int] = mapped_column(Integer)

    risk: Mapped[Risk] = relationship(back_populates="reviews")
    reviewed_by: Mapped[User | None] = relationship()

    @property
    def inherent(self) -> scoring.Score:
        return scoring.Score(self.inherent_likelihood, self.inherent_impact)

    @property
    def residual(self) -> scoring.Score:
        return scoring.Score(self.residual_likelihood, self.residual_impact)

    @property
    def target(self) -> scoring.Score:
        return scoring.Score(self.target_likelihood, self.target_impact)


class RiskReminder(db.Model):
    """The owner was asked to review a risk whose review date passed: once per risk and review date."""

    __tablename__ = "risk_reminders"
    __table_args__ = (UniqueConstraint("risk_id", "review_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    risk_id: Mapped[int] = mapped_column(ForeignKey("risks.id"))
    review_date: Mapped[dt.date] = mapped_column(Date)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    queued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


forbid_changes(RiskReview)
