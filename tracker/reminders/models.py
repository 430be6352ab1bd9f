from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tracker.extensions import db
from tracker.timeutil import utcnow
from tracker.types import UTCDateTime, enum_column



class DueSoonFrequency(enum.StrEnum):
    """How often an officer hears about actions due soon; overdue ones come at least weekly."""

    DAILY = "daily"
    WEEKLY = "weekly"
    OFF = "off"

    @property
    def label(self) -> str:
        return {
            "daily": "Daily, on working days",
            "weekly": "Weekly, on the first working day of the week",
            "off": "Off: only a weekly e-mail about overdue actions",
        }[self.value]


class ReminderPreference(db.Model):
    """An officer's choice of reminder frequency; no row means the default (daily)."""

    __tablename__ = "reminder_preferences"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    due_soon: Mapped[DueSoonFrequency] = mapped_column(enum_column(DueSoonFrequency),
                                                       default=DueSoonFrequency.DAILY)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class PartnershipReminderSettings(db.Model):
    """Per-partnership reminder settings: the chief officer who is copied into escalations (optional)."""

    __tablename__ = "partnership_reminder_settings"

    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id", ondelete="CASCADE"), primary_key=True)
    chief_officer_email: Mapped[str | None] = mapped_column(String(254))


class SendStatus(enum.StrEnum):
    PENDING = "pending"  # decided (or given back untried): the next delivery run sends it
    IN_FLIGHT = "in_flight"  # committed just before this message's DATA: the server may be receiving it now
    SENT = "sent"  # the server accepted it (250 after the final dot)
    FAILED = "failed"  # the server refused it (a 4xx/5xx for it): retried with backoff, up to MAX_ATTEMPTS
    UNCERTAIN = "uncertain"  # broke or timed out after the final dot, or its sender died: never resent automatically
    SUPPRESSED = "suppressed"  # MAIL_SUPPRESS_SEND was on: rendered and logged, not sent


class ReminderSend(db.Model):
    """The outbox (send log) of every e-mail the tracker sends: reminders, papers issued, password resets,
    welcomes. One row per message, unique per (recipient, kind, period), so each goes out once; `period`
    is the key within the kind ("day:2026-11-23", "meeting:12", "workbook:7", "reset:41")."""

    __tablename__ = "reminder_sends"
    __table_args__ = (UniqueConstraint("recipient", "kind", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(254))
    kind: Mapped[str] = mapped_column(String(30))  # "digest", "escalation", "papers_issued", "password_reset"...
    period: Mapped[str] = mapped_column(String(40))  # "day:2026-11-23", "week:2026-W48", "meeting:12"
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    recipient_name: Mapped[str] = mapped_column(String(200), default="")
    subject: Mapped[str] = mapped_column(String(300))
    status: Mapped[SendStatus] = mapped_column(enum_column(SendStatus), default=SendStatus.PENDING, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    #: Identifies the run that claimed the row, so a crashed run's claims can be told apart.
    claim_token: Mapped[str | None] = mapped_column(String(32))
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: A failed message is not tried again before this (backoff).
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<ReminderSend {self.kind} {self.period} to {self.recipient} {self.status}>"


class ReminderMessage(db.Model):
    """The rendered bodies of a send-log row, written once with it. Kept apart so that the many
    small status updates of the send log never rewrite (or, on SQLite, scan through) the bodies."""

    __tablename__ = "reminder_messages"

    send_id: Mapped[int] = mapped_column(ForeignKey("reminder_sends.id", ondelete="CASCADE"), primary_key=True)
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
