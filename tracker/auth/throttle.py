"""Sign-in rate limits, kept in the database for every worker.

Three keys, each with its own limit within the window: the e-mail address (from anywhere), the e-mail address
from one client address, and the client address alone. The last is set high (200 by default): a council or
NHS board puts thousands of staff behind one address, and one person's mistakes must not lock them all out.
The same limits guard the current-password check when a signed-in user changes their password.
"""
from __future__ import annotations

import datetime as dt

from flask import current_app
from sqlalchemy import delete, select

from tracker.auth.models import SignInAttempt
from tracker.extensions import db
from tracker.timeutil import utcnow

#: Failed attempts are forgotten after this long.
KEEP_FOR = dt.timedelta(days=1)


def lock_ends(failures: list[dt.datetime], *, max_failures: int, window: dt.timedelta,
              lock: dt.timedelta) -> dt.datetime | None:
    """When the lock from these failures ends: `lock` after the last time `max_failures` fell within `window`."""
    times = sorted(failures)
    end = None
    for i in range(max_failures - 1, len(times)):
        if times[i] - times[i - max_failures + 1] <= window:
            end = times[i] + lock
    return end


def _limits() -> tuple[dt.timedelta, dt.timedelta]:
    config = current_app.config
    return dt.timedelta(minutes=config["SIGN_IN_WINDOW_MINUTES"]), dt.timedelta(minutes=config["SIGN_IN_LOCK_MINUTES"])


def locked_until(email: str, ip: str) -> dt.datetime | None:
    """The time sign-in unlocks for this e-mail address, this address from this client, or this client address
    alone; None when it is open."""
    config = current_app.config
    window, lock = _limits()
    now = utcnow()
    ends = []
    for conditions, max_failures in (
        ((SignInAttempt.email == email,), config["SIGN_IN_MAX_FAILURES_PER_EMAIL"]),
        ((SignInAttempt.email == email, SignInAttempt.ip == ip),
         config.get("SIGN_IN_MAX_FAILURES_PER_IP_AND_EMAIL", config["SIGN_IN_MAX_FAILURES_PER_EMAIL"])),
        ((SignInAttempt.ip == ip,), config["SIGN_IN_MAX_FAILURES_PER_IP"]),
    ):
        times = db.session.scalars(
            select(SignInAttempt.at)
            .where(*conditions, SignInAttempt.at > now - window - lock)
            .order_by(SignInAttempt.at.desc())
            .limit(max_failures * 4)
        ).all()
        end = lock_ends(list(times), max_failures=max_failures, window=window, lock=lock)
        if end is not None and end > now:
            ends.append(end)
    return max(ends, default=None)


def record_failure(email: str, ip: str) -> None:
    now = utcnow()
    db.session.execute(delete(SignInAttempt).where(SignInAttempt.at < now - KEEP_FOR))
    db.session.add(SignInAttempt(email=email[:254], ip=ip[:45], at=now))


def clear_failures(email: str) -> None:
    """A successful sign-in forgives the address's earlier mistakes."""
    db.session.execute(delete(SignInAttempt).where(SignInAttempt.email == email))
