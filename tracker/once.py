"""One-time form tokens: a replayed POST (Back then Save, a double click, a retry) records nothing new.

Every form that writes inherits `OnceForm`: it carries a hidden `once` field with a fresh random token each
time the form is issued. `tracker.doors.commit_or_refuse` spends the token in the same transaction as the
write (a row in `form_tokens`, whose token column is unique), so two POSTs of the same form can never both
commit. The second one is answered with a redirect to what the first one saved (the page it redirected to)
and a message saying nothing new was recorded. A form posted without a token (an old page, a script) is
saved as before; a malformed token is a bad request.
"""
from __future__ import annotations

import datetime as dt
import re
import secrets

from flask import abort, flash, g, redirect, request
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import ForeignKey, String, delete, select
from sqlalchemy.orm import Mapped, mapped_column
from wtforms import HiddenField

from tracker.extensions import db
from tracker.timeutil import utcnow
from tracker.types import UTCDateTime

FIELD = "once"
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,64}")
#: Spent tokens are kept this long (a form left open longer than this and posted twice is not caught).
KEEP_DAYS = 30
ALREADY_SAVED = "This form had already been saved, so nothing new was recorded. This is what was saved."


class FormToken(db.Model):
    """A spent form token: the form it came with has been saved once, and `saved_url` shows the result."""

    __tablename__ = "form_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: The page the form was posted to, and the page its successful save led to.
    posted_to: Mapped[str] = mapped_column(String(500))
    saved_url: Mapped[str | None] = mapped_column(String(500))
    spent_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


def new_token() -> str:
    return secrets.token_urlsafe(24)


class OnceForm(FlaskForm):
    """A form that can be saved once: the base class of every form that writes.

    On the page a form kept after an ended session belongs to (tracker.auth.kept_forms), the form is filled
    from what was typed and `restored` is true: views then leave its fields as they are.
    """

    once = HiddenField(default=new_token)

    def __init__(self, *args, **kwargs):
        from tracker.auth.kept_forms import restored_formdata

        kept = restored_formdata() if not args and "formdata" not in kwargs else None
        self.restored = kept is not None
        if kept is not None:
            kwargs["formdata"] = kept
            kwargs.pop("obj", None)
            kwargs.pop("data", None)
        super().__init__(*args, **kwargs)

    def validate_on_submit(self, extra_validators=None) -> bool:
        """A form whose token is already spent was saved before: show what was saved, before any check."""
        if self.is_submitted():
            token = posted_token(self)
            if token is not None and spent(token) is not None:
                replay(token)
        return super().validate_on_submit(extra_validators)


def posted_token(form) -> str | None:
    """The token a form came back with; None when the form has none; a malformed one is a bad request."""
    field = getattr(form, FIELD, None) if form is not None else None
    if field is None or request.method != "POST" or FIELD not in request.form:
        return None
    value = request.form.get(FIELD, "")
    if not TOKEN_PATTERN.fullmatch(value):
        abort(400, "The form was missing information. Reload the page and try again.")
    return value


def spent(token: str) -> FormToken | None:
    return db.session.scalar(select(FormToken).where(FormToken.token == token))


def spend(token: str) -> None:
    """Record the token as spent, in the caller's transaction (the write's): flushes, so a clash shows now."""
    user_id = current_user.id if current_user.is_authenticated else None
    db.session.add(FormToken(token=token, user_id=user_id, posted_to=request.path[:500]))
    db.session.flush()
    g.once_token = token


def replay(token: str):
    """Answer a replayed form: what the first save led to, with a message. Raises the redirect."""
    row = spent(token)
    target = row.saved_url if row is not None and row.saved_url else request.path
    flash(ALREADY_SAVED, "info")
    abort(redirect(target))


def remember_result(response):
    """after_request: note where the save led, so a replay of the form can show the same page."""
    token = g.pop("once_token", None)
    if token is None or response.status_code not in (301, 302, 303) or not response.location:
        return response
    try:
        db.session.execute(FormToken.__table__.update().where(FormToken.token == token)
                           .values(saved_url=response.location[:500]))
        db.session.execute(delete(FormToken).where(FormToken.spent_at < utcnow() - dt.timedelta(days=KEEP_DAYS)))
        db.session.commit()
    except Exception:  # the save itself is committed; losing the note only makes a replay show the form page
        db.session.rollback()
    return response


def init_app(app) -> None:
    app.after_request(remember_result)
