from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Date, Enum, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.extensions import db
from tracker.frameworks.models import Framework, FrameworkItem
from tracker.partnerships.models import Partnership
from tracker.timeutil import utcnow
from tracker.types import UTCDateTime


class RoundStatus(enum.StrEnum):
    DRAFT = "draft"
    AGREED = "agreed"
    SUBMITTED = "submitted"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class SelfEvaluationRound(db.Model):
    """One self-evaluation exercise ("MSG self-evaluation 2019")."""

    __tablename__ = "selfeval_rounds"
    __table_args__ = (UniqueConstraint("partnership_id", "framework_id", "title"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id"), index=True)
    framework_id: Mapped[int] = mapped_column(ForeignKey("frameworks.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    completed_on: Mapped[dt.date | None] = mapped_column(Date)
    agreed_at: Mapped[str | None] = mapped_column(String(300))  # "IJB development session, 10 May 2019"
    contact: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[RoundStatus] = mapped_column(
        Enum(RoundStatus, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]),
        default=RoundStatus.DRAFT,
    )
    previous_round_id: Mapped[int | None] = mapped_column(ForeignKey("selfeval_rounds.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    partnership: Mapped[Partnership] = relationship()
    framework: Mapped[Framework] = relationship()
    ratings: Mapped[list[Rating]] = relationship(back_populates="round", cascade="all, delete-orphan")
    previous_round: Mapped[SelfEvaluationRound | None] = relationship(remote_side=[id])


class Rating(db.Model):
    """A round's rating of one framework item, with the evidence behind it."""

    __tablename__ = "selfeval_ratings"
    __table_args__ = (UniqueConstraint("round_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("selfeval_rounds.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("framework_items.id"), index=True)
    #: Index into the framework's levels (0 = Not yet established); None when not rated.
    level: Mapped[int | None] = mapped_column(Integer)
    evidence: Mapped[str] = mapped_column(Text, default="")
    participants: Mapped[str | None] = mapped_column(Text)
    #: Proposed improvement actions as written in the return, one per line.
    proposed_actions: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}

    round: Mapped[SelfEvaluationRound] = relationship(back_populates="ratings")
    item: Mapped[FrameworkItem] = relationship()

    @property
    def level_label(self) -> str | None:
        if self.level is None:
            return None
        return self.round.framework.levels[self.level]
