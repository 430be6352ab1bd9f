from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.auth.models import User
from tracker.extensions import db
from tracker.frameworks.models import Framework, FrameworkItem
from tracker.partnerships.models import Organisation, Partnership
from tracker.rag import Rag, RagResult, Status, derive
from tracker.timeutil import local_date, utcnow
from tracker.types import UTCDateTime, enum_column



class PlanKind(enum.StrEnum):
    ACTION_PLAN = "action_plan"
    DELIVERY_PLAN = "delivery_plan"

    @property
    def label(self) -> str:
        return "Improvement action plan" if self is PlanKind.ACTION_PLAN else "Delivery plan"


class Plan(db.Model):
    """A partnership's improvement action plan or delivery plan on a framework."""

    __tablename__ = "plans"
    __table_args__ = (UniqueConstraint("partnership_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id"), index=True)
    framework_id: Mapped[int] = mapped_column(ForeignKey("frameworks.id"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[PlanKind] = mapped_column(enum_column(PlanKind), default=PlanKind.ACTION_PLAN)
    description: Mapped[str | None] = mapped_column(Text)
    #: Receives escalations and "needs a lead" digests.
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    archived_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    partnership: Mapped[Partnership] = relationship()
    framework: Mapped[Framework] = relationship()
    manager: Mapped[User | None] = relationship()
    actions: Mapped[list[Action]] = relationship(back_populates="plan", order_by="Action.id")

    def __repr__(self) -> str:
        return f"<Plan {self.name!r}>"


action_items = Table(
    "action_items",
    db.Model.metadata,
    Column("action_id", ForeignKey("actions.id", ondelete="CASCADE"), primary_key=True),
    Column("item_id", ForeignKey("framework_items.id"), primary_key=True, index=True),
)

action_organisations = Table(
    "action_organisations",
    db.Model.metadata,
    Column("action_id", ForeignKey("actions.id", ondelete="CASCADE"), primary_key=True),
    Column("organisation_id", ForeignKey("organisations.id"), primary_key=True, index=True),
)


class Action(db.Model):
    """A tracked improvement action: who leads it, by when, and where it stands."""

    __tablename__ = "actions"
    __table_args__ = (
        UniqueConstraint("plan_id", "ref"),
        Index("ix_actions_lead_status_due", "lead_officer_id", "status", "due_end"),
        Index("ix_actions_plan_status", "plan_id", "status"),
        Index("ix_actions_status_due", "status", "due_end"),  # the digest: open actions across partnerships
        # The plan page's stamp (tracker.plans.queries.plan_stamp) read from the index alone, not from
        # thousands of rows.
        Index("ix_actions_plan_stamp", "plan_id", "id", "version", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"))
    ref: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    lead_officer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: The lead as the source document wrote it ("Penumbra/Carseview/ Carers Trust").
    lead_text: Mapped[str | None] = mapped_column(String(500))
    #: The timescale as written, and the window it names (see tracker.timescales).
    timescale_text: Mapped[str] = mapped_column(String(200), default="")
    timescale_kind: Mapped[str] = mapped_column(String(10), default="unknown")
    due_start: Mapped[dt.date | None] = mapped_column(Date)
    due_end: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[Status] = mapped_column(enum_column(Status), default=Status.NOT_STARTED)
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("actions.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    #: When the latest progress update was made; kept here so lists need no extra query.
    last_update_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: Optimistic concurrency: a save based on an older version is refused.
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}

    plan: Mapped[Plan] = relationship(back_populates="actions")
    lead_officer: Mapped[User | None] = relationship(foreign_keys=[lead_officer_id])
    items: Mapped[list[FrameworkItem]] = relationship(secondary=action_items, order_by="FrameworkItem.id")
    organisations: Mapped[list[Organisation]] = relationship(
        secondary=action_organisations, order_by="Organisation.name"
    )
    updates: Mapped[list[ProgressUpdate]] = relationship(
        back_populates="action", order_by="ProgressUpdate.created_at"
    )
    superseded_by: Mapped[Action | None] = relationship(remote_side=[id])

    def rag(self, today: dt.date) -> RagResult:
        return derive(
            self.status,
            self.due_end,
            local_date(self.last_update_at),
            today,
            created=local_date(self.created_at),
        )

    def rag_colour(self, today: dt.date) -> Rag:
        return self.rag(today).rag

    @property
    def is_open(self) -> bool:
        return Status(self.status).is_open

    def __repr__(self) -> str:
        return f"<Action {self.ref}>"


class ProgressUpdate(db.Model):
    """A lead officer's report on an action. Append-only: history is never edited."""

    __tablename__ = "progress_updates"
    __table_args__ = (Index("ix_progress_updates_action_created", "action_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[Status] = mapped_column(enum_column(Status))
    narrative: Mapped[str] = mapped_column(Text, default="")
    revised_timescale_text: Mapped[str | None] = mapped_column(String(200))
    revised_due_end: Mapped[dt.date | None] = mapped_column(Date)
    revision_reason: Mapped[str | None] = mapped_column(Text)

    action: Mapped[Action] = relationship(back_populates="updates")
    author: Mapped[User | None] = relationship()
    #: Its author's corrections of the narrative, oldest first (the original stays in `narrative`).
    corrections: Mapped[list[UpdateCorrection]] = relationship(
        order_by="UpdateCorrection.created_at, UpdateCorrection.id", viewonly=True)

    @property
    def shown_narrative(self) -> str:
        """The narrative as its author last corrected it (tracker.plans.narratives decides, for every door)."""
        from tracker.plans.narratives import shown

        return shown(self.narrative, self.corrections)

    @property
    def corrected(self) -> bool:
        return bool(self.corrections)


class AppendOnlyError(RuntimeError):
    """History rows (progress updates, audit events) are never changed or deleted."""


def forbid_changes(model) -> None:
    """Make a model append-only at the ORM level."""

    @event.listens_for(model, "before_update")
    def _no_update(mapper, connection, target):
        raise AppendOnlyError(f"{model.__name__} is append-only")

    @event.listens_for(model, "before_delete")
    def _no_delete(mapper, connection, target):
        raise AppendOnlyError(f"{model.__name__} is append-only")


class UpdateCorrection(db.Model):
    """A correction of a progress update's narrative by its author (the update row itself keeps the original).

    Append-only like the update: a second correction adds a row; the latest one is what pages show."""

    __tablename__ = "update_corrections"

    id: Mapped[int] = mapped_column(primary_key=True)
    update_id: Mapped[int] = mapped_column(ForeignKey("progress_updates.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    narrative: Mapped[str] = mapped_column(Text)

    update: Mapped[ProgressUpdate] = relationship()


forbid_changes(ProgressUpdate)
forbid_changes(UpdateCorrection)
