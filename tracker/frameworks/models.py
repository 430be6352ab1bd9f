from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.extensions import db
from tracker.partnerships.models import Partnership
from tracker.timeutil import utcnow
from tracker.types import UTCDateTime


class Framework(db.Model):
    """A national framework (MSG self-evaluation) or a plan's own (a carers strategy's outcomes)."""

    __tablename__ = "frameworks"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    #: None for national frameworks shipped with the tracker.
    partnership_id: Mapped[int | None] = mapped_column(ForeignKey("partnerships.id"), index=True)
    #: Rating levels in order, e.g. ["Not yet established", ..., "Exemplary"]; empty when not rated.
    levels: Mapped[list[str]] = mapped_column(JSON, default=list)
    theme_label: Mapped[str] = mapped_column(String(50), default="Key feature")
    item_label: Mapped[str] = mapped_column(String(50), default="Proposal")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    partnership: Mapped[Partnership | None] = relationship()
    themes: Mapped[list[Theme]] = relationship(
        back_populates="framework", order_by="Theme.position", cascade="all, delete-orphan"
    )

    @property
    def is_rated(self) -> bool:
        return bool(self.levels)

    def __repr__(self) -> str:
        return f"<Framework {self.code!r}>"


class Theme(db.Model):
    """A key feature (MSG) or strategic outcome (carers strategy)."""

    __tablename__ = "themes"
    __table_args__ = (UniqueConstraint("framework_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    framework_id: Mapped[int] = mapped_column(ForeignKey("frameworks.id"), index=True)
    number: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)

    framework: Mapped[Framework] = relationship(back_populates="themes")
    items: Mapped[list[FrameworkItem]] = relationship(
        back_populates="theme", order_by="FrameworkItem.position", cascade="all, delete-orphan"
    )


class FrameworkItem(db.Model):
    """A proposal (MSG) or priority area (carers strategy), with its level descriptors."""

    __tablename__ = "framework_items"
    __table_args__ = (UniqueConstraint("theme_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    theme_id: Mapped[int] = mapped_column(ForeignKey("themes.id"), index=True)
    number: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(Text)
    #: One descriptor per level of the framework, in level order ("" where the template has none).
    descriptors: Mapped[list[str]] = mapped_column(JSON, default=list)
    local_completion: Mapped[bool] = mapped_column(Boolean, default=True)
    note: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)

    theme: Mapped[Theme] = relationship(back_populates="items")

    @property
    def label(self) -> str:
        return f"{self.number} {self.title}"

    def __repr__(self) -> str:
        return f"<FrameworkItem {self.number}>"
