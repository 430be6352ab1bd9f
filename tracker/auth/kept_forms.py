"""A form posted after its session ended keeps what was typed: after signing in it comes back filled, unsaved.

When a POST arrives and the session has ended (idle or too old, signed out elsewhere, password changed), the
form's fields (never the CSRF token, never files) are stored server-side under a random one-time key, for the
person the ended session belonged to. The sign-in page then leads back to the form's page with `?kept=<key>`;
there the person's forms (`tracker.once.OnceForm`) are filled from the kept fields, with a message, and the
row is deleted. Nothing is ever saved automatically: the person checks the form and presses Save again.

A POST with no session at all (nobody was signed in) keeps nothing.
"""
from __future__ import annotations

import datetime as dt
import secrets
from urllib.parse import urlsplit

from flask import flash, g, request, url_for
from flask_login import current_user
from sqlalchemy import JSON, ForeignKey, String, delete, select
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.datastructures import MultiDict

from tracker.extensions import db
from tracker.timeutil import utcnow
from tracker.types import UTCDateTime

ARG = "kept"
#: A kept form waits this long for its owner to sign in again.
KEEP_HOURS = 24
#: At most this many characters of typed text are kept (a long narrative is 20,000).
MAX_CHARS = 200_000
NOT_KEPT_FIELDS = {"csrf_token"}
RESTORED = ("You were signed out before your changes were saved. What you typed is back in the form below: "
            "check it and save it again. Nothing has been saved yet.")


class KeptForm(db.Model):
    """The fields of a form that arrived after its session had ended."""

    __tablename__ = "kept_forms"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(String(500))
    fields: Mapped[list] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


def session_user_id(value) -> int | None:
    """The user id in a session's signed "_user_id" ("id:token[:signed_in_at]"), whatever its token."""
    ident = str(value or "").partition(":")[0]
    return int(ident) if ident.isascii() and ident.isdigit() and 0 < len(ident) <= 10 and int(ident) < 2**31 else None


def form_page() -> str:
    """Where the form was shown: the same-site page that posted it, else the path it was posted to."""
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc == request.host and referrer.path.startswith("/") and not referrer.path.startswith("//"):
        return referrer.path
    return request.path


def keep(user_id: int | None) -> str | None:
    """Store the posted form for `user_id`, in its own small transaction; the key, or None if nothing is kept."""
    if user_id is None or request.method != "POST" or request.path.startswith("/api/"):
        return None
    fields = [(name, value) for name, value in request.form.items(multi=True)
              if name not in NOT_KEPT_FIELDS and isinstance(value, str)]
    if not any(value.strip() for name, value in fields if name != "once"):
        return None
    if sum(len(name) + len(value) for name, value in fields) > MAX_CHARS:
        return None
    key = secrets.token_urlsafe(24)
    try:
        from tracker.auth.models import User

        if db.session.get(User, user_id) is None:
            return None
        db.session.execute(delete(KeptForm).where(KeptForm.created_at < utcnow() - dt.timedelta(hours=KEEP_HOURS)))
        db.session.add(KeptForm(key=key, user_id=user_id, path=form_page()[:500], fields=fields))
        db.session.commit()
    except Exception:
        db.session.rollback()
        return None
    return key


def sign_in_url(key: str | None, fallback_next: str | None = None) -> str:
    """The sign-in page, leading back to the form (with its kept fields) afterwards."""
    if key is None:
        return url_for("auth.sign_in", next=fallback_next)
    return url_for("auth.sign_in", next=f"{form_page()}?{ARG}={key}")


def restore() -> None:
    """before_request: on the page a kept form belongs to, load its fields once for the signed-in owner."""
    key = request.args.get(ARG)
    if request.method != "GET" or not key or len(key) > 64 or not current_user.is_authenticated:
        return
    row = db.session.scalar(select(KeptForm).where(KeptForm.key == key, KeptForm.user_id == current_user.id))
    if row is None or row.path != request.path or row.created_at < utcnow() - dt.timedelta(hours=KEEP_HOURS):
        return
    g.kept_form = MultiDict([tuple(pair) for pair in row.fields])
    db.session.delete(row)
    db.session.commit()
    flash(RESTORED, "info")


def restored_formdata() -> MultiDict | None:
    """The kept fields for the forms of this page, if any (read by tracker.once.OnceForm)."""
    return g.get("kept_form") if request.method == "GET" else None
