from __future__ import annotations

import datetime as dt
import enum
import secrets

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.extensions import db
from tracker.partnerships.models import Partnership
from tracker.timeutil import utcnow
from tracker.types import UTCDateTime, enum_column


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


class Role(enum.StrEnum):
    """What a user may do in one partnership; each ranked role includes the ones before it.

    AUDITOR stands outside the ranking: an internal or external auditor reads what a viewer reads and verifies
    (or re-opens) audit recommendations, and no other role includes it, nor does it include any role but
    VIEWER: an auditor never gets a lead officer's or plan manager's powers, and a manager cannot verify.
    """

    VIEWER = "viewer"  # committee member, carer or service-user representative: reads only
    LEAD_OFFICER = "lead_officer"  # updates the actions they lead
    PLAN_MANAGER = "plan_manager"  # creates and edits plans and actions, assigns leads
    ADMIN = "admin"  # manages the partnership's users and organisations
    AUDITOR = "auditor"  # reads like a viewer, and verifies or re-opens audit recommendations (unranked)

    @property
    def rank(self) -> int:
        """The place in the ranking; the unranked AUDITOR ranks as a VIEWER."""
        return 0 if self is Role.AUDITOR else list(Role).index(self)

    @property
    def label(self) -> str:
        return {
            "viewer": "Viewer (committee member or representative)",
            "lead_officer": "Lead officer",
            "plan_manager": "Plan manager",
            "admin": "Administrator",
            "auditor": "Auditor (reads, and verifies audit recommendations)",
        }[self.value]

    def includes(self, other: Role) -> bool:
        if self is Role.AUDITOR or other is Role.AUDITOR:
            return other in (self, Role.VIEWER)
        return self.rank >= other.rank


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    job_title: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Site-wide administrator (manages partnerships); partnership roles live in Membership.
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Rotated on sign-out, password change or disabling, so old session cookies stop working.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_sign_in_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )
    #: Linked single sign-on accounts (tracker.auth.sso).
    sso_identities: Mapped[list[SsoIdentity]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="SsoIdentity.id"
    )

    # Flask-Login
    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    def rotate_session_token(self) -> None:
        self.session_token = new_session_token()

    def role_in(self, partnership_id: int) -> Role | None:
        if self.is_admin:
            return Role.ADMIN
        for membership in self.memberships:
            if membership.partnership_id == partnership_id:
                return membership.role
        return None

    def has_role(self, partnership_id: int, role: Role) -> bool:
        mine = self.role_in(partnership_id)
        return mine is not None and mine.includes(role)

    @property
    def partnership_ids(self) -> set[int]:
        return {m.partnership_id for m in self.memberships}

    def __repr__(self) -> str:
        return f"<User {self.email!r}>"


class Membership(db.Model):
    """A user's role in one partnership. A national team member has several."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "partnership_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id"), index=True)
    role: Mapped[Role] = mapped_column(
        enum_column(Role)
    )

    user: Mapped[User] = relationship(back_populates="memberships")
    partnership: Mapped[Partnership] = relationship()


class SignInAttempt(db.Model):
    """A failed sign-in, kept briefly so that limits hold across every server process."""

    __tablename__ = "sign_in_attempts"
    __table_args__ = (
        Index("ix_sign_in_attempts_email_at", "email", "at"),
        Index("ix_sign_in_attempts_ip_at", "ip", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    email: Mapped[str] = mapped_column(String(254))
    ip: Mapped[str] = mapped_column(String(45))


class PasswordResetToken(db.Model):
    """A single-use password reset link; only a hash of the token is stored."""

    __tablename__ = "password_reset_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class ApiToken(db.Model):
    """A personal token for the JSON API; only a hash is stored, the token is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    #: The first characters of the token, so that its owner can tell tokens apart.
    prefix: Mapped[str] = mapped_column(String(12))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class SsoIdentity(db.Model):
    """An account at an OpenID Connect provider linked to a tracker account (tracker.auth.sso).

    Once linked, the provider's stable subject identifier signs the person in, whatever e-mail address the
    provider sends later. `joined_partnership_id` is set for an account created just in time: the partnership
    whose allowed e-mail domain let it in, so that its administrators can see the account and give it a role.
    """

    __tablename__ = "sso_identities"
    __table_args__ = (UniqueConstraint("provider", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    provider: Mapped[str] = mapped_column(String(30))
    subject: Mapped[str] = mapped_column(String(255))
    #: The e-mail address the provider gave when the identity was linked (or last used).
    email: Mapped[str | None] = mapped_column(String(254))
    joined_partnership_id: Mapped[int | None] = mapped_column(ForeignKey("partnerships.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="sso_identities")

