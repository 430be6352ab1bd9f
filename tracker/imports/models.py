from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.auth.models import User
from tracker.extensions import db
from tracker.partnerships.models import Partnership
from tracker.timeutil import utcnow
from tracker.types import UTCDateTime


def new_token() -> str:
    return secrets.token_urlsafe(24)


class ImportJob(db.Model):
    """An uploaded file, parsed once and kept with its preview until the user confirms it."""

    __tablename__ = "import_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The preview's address; unguessable so an id cannot be tried in turn.
    token: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # "xlsx" or "docx"
    filename: Mapped[str] = mapped_column(String(300), default="")
    #: The file itself, so a changed column mapping can be read again without another upload.
    data: Mapped[bytes] = mapped_column(LargeBinary)
    plan_name: Mapped[str] = mapped_column(String(300))
    #: role -> column letter, as guessed or as the user corrected it.
    mapping: Mapped[dict] = mapped_column(JSON, default=dict)
    #: The parsed rows, problems and planned changes shown in the preview.
    preview: Mapped[dict] = mapped_column(JSON, default=dict)
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(20), default="previewed")  # previewed, committed
    summary: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    committed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    partnership: Mapped[Partnership] = relationship()
    user: Mapped[User | None] = relationship()
