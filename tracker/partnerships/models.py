from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.extensions import db
from tracker.timeutil import utcnow
from tracker.types import UTCDateTime, enum_column


class Partnership(db.Model):
    """An Integration Joint Board and the health and social care partnership it directs."""

    __tablename__ = "partnerships"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    full_name: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Members sign in only through single sign-on (tracker.auth.sso): no password sign-in or reset.
    sso_required: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: E-mail domains (one a line) whose people may create an account, with no role, by signing in with SSO.
    sso_jit_domains: Mapped[str | None] = mapped_column(String(2000))

    organisations: Mapped[list[Organisation]] = relationship(back_populates="partnership")

    @property
    def jit_domains(self) -> list[str]:
        return [d for d in (self.sso_jit_domains or "").split() if d]

    def __repr__(self) -> str:
        return f"<Partnership {self.name!r}>"


class OrganisationKind(enum.StrEnum):
    COUNCIL = "council"
    HEALTH_BOARD = "health_board"
    HSCP = "hscp"
    THIRD_SECTOR = "third_sector"
    CARERS_CENTRE = "carers_centre"
    SUBGROUP = "subgroup"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            "council": "Council",
            "health_board": "Health board",
            "hscp": "Health and social care partnership",
            "third_sector": "Third-sector body",
            "carers_centre": "Carers centre",
            "subgroup": "Subgroup",
            "other": "Other",
        }[self.value]


class Organisation(db.Model):
    """A body that can lead actions: council, health board, third-sector body, carers centre, subgroup."""

    __tablename__ = "organisations"
    __table_args__ = (UniqueConstraint("partnership_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[OrganisationKind] = mapped_column(
        enum_column(OrganisationKind),
        default=OrganisationKind.OTHER,
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    partnership: Mapped[Partnership] = relationship(back_populates="organisations")
    aliases: Mapped[list[OrganisationAlias]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Organisation {self.name!r}>"


class OrganisationAlias(db.Model):
    """Another way a plan writes an organisation's name ("DH&SCP", "NHST"); users can correct these."""

    __tablename__ = "organisation_aliases"
    __table_args__ = (UniqueConstraint("partnership_id", "alias"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id"), index=True)
    alias: Mapped[str] = mapped_column(String(200))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)

    organisation: Mapped[Organisation] = relationship(back_populates="aliases")
