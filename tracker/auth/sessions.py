"""How long a signed-in session lasts: it ends after an idle time and after an absolute lifetime.

The session holds the time of signing in and the time last seen (seconds since the epoch, UTC). Before each
request a session past either limit is signed out and sent to the sign-in page with a plain message. The
sign-in time also travels inside the signed user id ("id:session_token:signed_in_at"), so a remember-me cookie,
which carries only that id, is refused by the user loader once the absolute lifetime has passed as well.

Config: SESSION_IDLE_MINUTES (default 480, eight hours) and SESSION_ABSOLUTE_HOURS (default 168, seven days).
"""
from __future__ import annotations

from flask import current_app, flash, redirect, request, session, url_for
from flask_login import logout_user

from tracker.timeutil import utcnow

SIGNED_IN_AT = "signed_in_at"
SEEN_AT = "seen_at"
#: The last-seen time is rewritten at most this often, so that not every response sets a new cookie.
SEEN_RESOLUTION_SECONDS = 60

ENDED_IDLE = "You were signed out because you had not used the tracker for {idle}. Sign in again."
ENDED_ABSOLUTE = "You were signed out because you signed in more than {days} ago. Sign in again."


def _now() -> int:
    return int(utcnow().timestamp())


def _idle_seconds() -> int:
    return int(current_app.config["SESSION_IDLE_MINUTES"]) * 60


def _absolute_seconds() -> int:
    return int(current_app.config["SESSION_ABSOLUTE_HOURS"]) * 3600


def start(user, signed_in_at: int | None = None) -> None:
    """Call just after login_user: stamp the session, and put the sign-in time in the signed user id."""
    now = _now()
    signed_in_at = signed_in_at or now
    session[SIGNED_IN_AT] = signed_in_at
    session[SEEN_AT] = now
    session["_user_id"] = f"{user.get_id()}:{signed_in_at}"


def continue_as(user) -> None:
    """After login_user for the same person (a password change): the new id keeps the original sign-in time."""
    start(user, signed_in_at=session.get(SIGNED_IN_AT))


def signed_in_too_long_ago(signed_in_at: int | str | None) -> bool:
    """For the user loader: a sign-in time (from the session or a remember-me cookie) past the absolute lifetime."""
    if signed_in_at in (None, ""):
        return False
    try:
        signed_in_at = int(signed_in_at)
    except (TypeError, ValueError):
        return True
    return _now() - signed_in_at > _absolute_seconds()


def _describe_idle(seconds: int) -> str:
    minutes = seconds // 60
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def check():
    """before_request: end a session past its idle time or absolute lifetime; note activity otherwise."""
    if "_user_id" not in session or request.endpoint == "static":
        return None
    now = _now()
    signed_in_at = session.get(SIGNED_IN_AT)
    if not isinstance(signed_in_at, int):
        # A session from before these limits, or one restored from a remember-me cookie: its sign-in time
        # is the one in the signed id when there is one, otherwise it starts now.
        parts = str(session["_user_id"]).split(":")
        signed_in_at = int(parts[2]) if len(parts) == 3 and parts[2].isdigit() else now
        session[SIGNED_IN_AT] = signed_in_at
        session.setdefault(SEEN_AT, now)
    seen_at = session.get(SEEN_AT)
    if not isinstance(seen_at, int):
        seen_at = now
    if now - signed_in_at > _absolute_seconds():
        days = _absolute_seconds() // 86400
        return _end(ENDED_ABSOLUTE.format(days=f"{days} day{'s' if days != 1 else ''}" if days
                                          else _describe_idle(_absolute_seconds())))
    if now - seen_at > _idle_seconds():
        return _end(ENDED_IDLE.format(idle=_describe_idle(_idle_seconds())))
    if now - seen_at >= SEEN_RESOLUTION_SECONDS:
        session[SEEN_AT] = now
    return None


def _end(message: str):
    from tracker.auth import kept_forms

    owner = kept_forms.session_user_id(session.get("_user_id"))
    session.clear()
    logout_user()  # also clears a remember-me cookie, if the browser sent one
    if request.path.startswith("/api/"):
        return None  # the API authenticates by token only; the stale session is simply dropped
    flash(message, "info")
    if request.method == "POST":  # keep what was typed, to bring the form back after signing in
        return redirect(kept_forms.sign_in_url(kept_forms.keep(owner)))
    return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?")))
