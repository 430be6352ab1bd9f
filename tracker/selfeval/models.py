from __future__ import annotations

import datetime as dt
import enum
from difflib import SequenceMatcher

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from tracker.extensions import db
from tracker.frameworks.models import Framework, FrameworkItem
from tracker.partnerships.models import Partnership
from tracker.plans.models import Action
from tracker.timeutil import utcnow
from tracker.types import UTCDateTime, enum_column


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
        enum_column(RoundStatus),
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
    #: The proposed improvement actions as rows, one per line of `proposed_actions`, each linkable to an Action.
    proposed: Mapped[list[ProposedAction]] = relationship(
        back_populates="rating", order_by="ProposedAction.position", cascade="all, delete-orphan"
    )

    @property
    def level_label(self) -> str | None:
        if self.level is None:
            return None
        return self.round.framework.levels[self.level]

    @property
    def evidence_paragraphs(self) -> list[str]:
        return split_lines(self.evidence)

    @validates("proposed_actions")
    def _sync_proposed(self, _key: str, value: str | None) -> str:
        """Keep the rows in step with the text, whoever sets it (forms, importers, demo), keeping links."""
        texts = split_lines(value)
        unused = list(self.proposed)
        rows: list[ProposedAction | None] = []
        for text in texts:
            row = next((r for r in unused if _key_of(r.text) == _key_of(text)), None)
            if row is not None:
                unused.remove(row)
            rows.append(row)
        for position, text in enumerate(texts):
            row = rows[position]
            if row is None:
                # A corrected line (a typo fixed, a word added) keeps the link of the line it replaced.
                row = _most_similar(text, unused) or ProposedAction()
                if row in unused:
                    unused.remove(row)
            row.text, row.position = text, position
            rows[position] = row
        self.proposed = rows
        return "\n".join(texts)


class ProposedAction(db.Model):
    """One proposed improvement action of a rating, and the tracked action it became (if any)."""

    __tablename__ = "selfeval_proposed_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    rating_id: Mapped[int] = mapped_column(ForeignKey("selfeval_ratings.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[str] = mapped_column(Text)
    action_id: Mapped[int | None] = mapped_column(ForeignKey("actions.id", ondelete="SET NULL"), index=True)

    rating: Mapped[Rating] = relationship(back_populates="proposed")
    action: Mapped[Action | None] = relationship()


def split_lines(text: str | None) -> list[str]:
    """Non-blank lines, stripped: how evidence and proposed actions are stored (one per line)."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _key_of(text: str) -> str:
    return " ".join(text.lower().split())


#: How alike an edited line must be to the old one to keep its link (difflib ratio).
SAME_ACTION_SIMILARITY = 0.7


def _most_similar(text: str, rows: list[ProposedAction]) -> ProposedAction | None:
    scored = [(SequenceMatcher(None, _key_of(text), _key_of(row.text)).ratio(), row) for row in rows]
    best = max(scored, key=lambda pair: pair[0], default=(0.0, None))
    return best[1] if best[0] >= SAME_ACTION_SIMILARITY else None
