"""Indicators, their yearly targets, and their values per period (append-only, so corrections keep history)."""
from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Boolean, Column, Date, Float, ForeignKey, Index, Integer, String, Table, Text
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.auth.models import User
from tracker.extensions import db
from tracker.frameworks.models import FrameworkItem
from tracker.periods import Period
from tracker.plans.models import Plan, forbid_changes
from tracker.timeutil import utcnow
from tracker.types import UTCDateTime, enum_column



class Unit(enum.StrEnum):
    COUNT = "count"
    PERCENTAGE = "percentage"
    HOURS = "hours"
    RATE = "rate"

    @property
    def label(self) -> str:
        return {"count": "Count", "percentage": "Percentage", "hours": "Hours", "rate": "Rate"}[self.value]

    @property
    def adds_up(self) -> bool:
        """Counts and hours of a breakdown add up to the total; percentages and rates do not."""
        return self in (Unit.COUNT, Unit.HOURS)


class Dimension(enum.StrEnum):
    """What a value is broken down by."""

    LOCALITY = "locality"
    PROTECTED_CHARACTERISTIC = "protected_characteristic"

    @property
    def label(self) -> str:
        return {"locality": "Locality", "protected_characteristic": "Protected characteristic"}[self.value]


indicator_items = Table(
    "indicator_items",
    db.Model.metadata,
    Column("indicator_id", ForeignKey("indicators.id", ondelete="CASCADE"), primary_key=True),
    Column("item_id", ForeignKey("framework_items.id"), primary_key=True, index=True),
)


class Indicator(db.Model):
    """A measure a plan reports to committees, with a target and a responsible officer."""

    __tablename__ = "indicators"
    __table_args__ = (UniqueConstraint("plan_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    definition: Mapped[str] = mapped_column(Text, default="")
    unit: Mapped[Unit] = mapped_column(enum_column(Unit), default=Unit.COUNT)
    #: One of tracker.periods.FREQUENCIES.
    frequency: Mapped[str] = mapped_column(String(10), default="quarterly")
    higher_is_better: Mapped[bool] = mapped_column(Boolean, default=True)
    #: The standing target; a yearly target (IndicatorTarget) overrides it for its financial year.
    target: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(500), default="")
    responsible_officer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    #: The first day of the first period a value is expected for (earlier periods are never "due").
    starts_on: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    plan: Mapped[Plan] = relationship()
    responsible_officer: Mapped[User | None] = relationship()
    items: Mapped[list[FrameworkItem]] = relationship(secondary=indicator_items, order_by="FrameworkItem.id")
    targets: Mapped[list[IndicatorTarget]] = relationship(
        back_populates="indicator", order_by="IndicatorTarget.financial_year", cascade="all, delete-orphan"
    )

    @property
    def first_period(self) -> Period:
        return Period.containing(self.frequency, self.starts_on)

    def __repr__(self) -> str:
        return f"<Indicator {self.name!r}>"



class IndicatorTarget(db.Model):
    """The target for one financial year (the year a period starts in)."""

    __tablename__ = "indicator_targets"
    __table_args__ = (UniqueConstraint("indicator_id", "financial_year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicators.id", ondelete="CASCADE"))
    #: The financial year's starting calendar year (2024 for 2024/25).
    financial_year: Mapped[int] = mapped_column(Integer)
    target: Mapped[float] = mapped_column(Float)

    indicator: Mapped[Indicator] = relationship(back_populates="targets")


class IndicatorValue(db.Model):
    """One entry of a value for a period. Append-only: a correction is a new entry that replaces the last."""

    __tablename__ = "indicator_values"
    __table_args__ = (Index("ix_indicator_values_indicator_period", "indicator_id", "period_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicators.id"))
    period_start: Mapped[dt.date] = mapped_column(Date)
    value: Mapped[float] = mapped_column(Float)
    note: Mapped[str] = mapped_column(Text, default="")
    #: The entry this one corrects; unique, so two people cannot both correct the same entry.
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("indicator_values.id"), unique=True)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    entered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    indicator: Mapped[Indicator] = relationship()
    entered_by: Mapped[User | None] = relationship()
    breakdowns: Mapped[list[IndicatorBreakdown]] = relationship(
        back_populates="value_entry", order_by="IndicatorBreakdown.id"
    )

    @property
    def is_correction(self) -> bool:
        return self.replaces_id is not None


class IndicatorBreakdown(db.Model):
    """Part of a value: one locality's or one protected characteristic group's figure."""

    __tablename__ = "indicator_breakdowns"

    id: Mapped[int] = mapped_column(primary_key=True)
    value_id: Mapped[int] = mapped_column(ForeignKey("indicator_values.id"), index=True)
    dimension: Mapped[Dimension] = mapped_column(enum_column(Dimension, 30))
    category: Mapped[str] = mapped_column(String(200))
    value: Mapped[float] = mapped_column(Float)

    value_entry: Mapped[IndicatorValue] = relationship(back_populates="breakdowns")


forbid_changes(IndicatorValue)
forbid_changes(IndicatorBreakdown)
