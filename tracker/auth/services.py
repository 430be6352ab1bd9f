"""Accounts: creating users, checking passwords, ending sessions."""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.orm import lazyload

from tracker.audit import services as audit
from tracker.auth import throttle
from tracker.auth.models import Membership, PasswordResetToken, Role, User
from tracker.auth.passwords import hash_password, needs_rehash, verify_password
from tracker.errors import RuleError
from tracker.extensions import db
from tracker.text import line
from tracker.timeutil import utcnow

#: Shown for an unknown e-mail address, a wrong password and a disabled account alike.
SIGN_IN_FAILED = "The email address or password is not right."
#: At most this many reset links per account per hour.
MAX_RESETS_PER_HOUR = 3


def normalise_email(email: str) -> str:
    """The address as stored and looked up: one line, trimmed, lower case (RuleError for control characters).

    A NUL byte or a line break never reaches the database (PostgreSQL refuses NUL outright) or a mail header.
    """
    return line(email, field="email", label="The email address", max_length=254, required=True).lower()


def find_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


def authenticate(email: str, password: str) -> User | None:
    """The user, if the e-mail and password match an active account; None otherwise (same for every failure)."""
    user = find_by_email(email)
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.active:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_sign_in_at = utcnow()
    return user


@dataclass(frozen=True)
class SignInResult:
    user: User | None = None
    locked_until: dt.datetime | None = None


def sign_in(email: str, password: str, ip: str) -> SignInResult:
    """Check a sign-in against the rate limits and the password; records failures (the caller commits)."""
    email = normalise_email(email)
    until = throttle.locked_until(email, ip)
    if until is not None:
        return SignInResult(locked_until=until)
    user = authenticate(email, password)
    if user is None:
        throttle.record_failure(email, ip)
        return SignInResult()
    sso_only = password_refused(user)
    if sso_only:  # the right password, but the partnership signs its members in with single sign-on
        raise RuleError(sso_only, "email")
    throttle.clear_failures(email)
    return SignInResult(user=user)


def password_refused(user: User) -> str | None:
    """Why this account may not use a password (its partnership requires single sign-on), or None."""
    from tracker.auth import sso_services

    return sso_services.how_to_sign_in(user)


def create_user(
    *,
    email: str | None,
    name: str,
    password: str | None = None,
    memberships: dict[int, Role] | None = None,
    is_admin: bool = False,
    job_title: str | None = None,
    actor_id: int | None = None,
) -> User:
    email = normalise_email(email) if email else None
    name = line(name, field="name", label="The name", max_length=200, required=True)
    job_title = line(job_title, field="job_title", label="The job title", max_length=200)
    user = User(
        email=email,
        name=name,
        job_title=job_title,
        password_hash=hash_password(password) if password else None,
        is_admin=is_admin,
    )
    for partnership_id, role in (memberships or {}).items():
        user.memberships.append(Membership(partnership_id=partnership_id, role=role))
    db.session.add(user)
    db.session.flush()
    audit.record(
        user_id=actor_id,
        entity_type="user",
        entity_id=user.id,
        verb="create",
        after={"email": user.email, "name": name, "is_admin": is_admin,
               "roles": {str(k): v.value for k, v in (memberships or {}).items()}},
        summary=f"Created user {name}",
    )
    return user


def set_password(user: User, password: str, *, actor_id: int | None = None) -> None:
    """Change a password, end every existing session of that user and revoke their API tokens.

    A password is changed or reset because it may be known to someone else, who may also have made a token.
    """
    from tracker.api import tokens  # tracker.api.tokens imports this module

    user.password_hash = hash_password(password)
    user.rotate_session_token()
    audit.record(user_id=actor_id or user.id, entity_type="user", entity_id=user.id, verb="password",
                 summary="Password changed")
    tokens.revoke_all(user, actor_id=actor_id or user.id, reason="the password was changed")


#: Shown when the current password given to change it is wrong.
CURRENT_PASSWORD_WRONG = "Your current password is not right"


@dataclass(frozen=True)
class PasswordChange:
    changed: bool = False
    locked_until: dt.datetime | None = None


def change_password(user: User, current: str, new: str, ip: str) -> PasswordChange:
    """Check the current password under the sign-in limits, then set the new one (the caller commits).

    A stolen session must not become a way round the sign-in limits: each wrong current password counts as a
    failed sign-in for the account's address from this client, and a lock refuses even the right one.
    """
    email = user.email or f"user:{user.id}"
    until = throttle.locked_until(email, ip)
    if until is not None:
        return PasswordChange(locked_until=until)
    if not verify_password(user.password_hash, current):
        throttle.record_failure(email, ip)
        return PasswordChange()
    set_password(user, new)
    throttle.clear_failures(email)
    return PasswordChange(changed=True)


def end_sessions(user: User) -> None:
    user.rotate_session_token()


def token_hash(token: str) -> str:
    """Tokens are stored as SHA-256 hashes: they are long and random, so a slow hash adds nothing."""
    return hashlib.sha256(token.encode()).hexdigest()


def start_password_reset(email: str) -> tuple[User, str] | None:
    """A new single-use reset token for an active account, or None (unknown, disabled, too many requests, or
    a member of a partnership that requires single sign-on)."""
    started, _sso_only = _start_reset(email)
    return started


def _start_reset(email: str) -> tuple[tuple[User, str] | None, User | None]:
    """start_password_reset's work, and the account when it is refused because it must use single sign-on."""
    from tracker.partnerships.models import Partnership

    sso_only = (select(Membership.id).join(Partnership, Partnership.id == Membership.partnership_id)
                .where(Membership.user_id == User.id, Partnership.sso_required.is_(True))
                .exists().correlate(User))
    # Memberships are not needed: not loading them keeps the reading the same as for an unknown address, and
    # whether the account must use single sign-on comes in the same statement.
    row = db.session.execute(select(User, sso_only).where(func.lower(User.email) == normalise_email(email))
                             .options(lazyload(User.memberships))).first()
    user, must_use_sso = (row[0], bool(row[1])) if row is not None else (None, False)
    if user is None or not user.active:
        return None, None
    if must_use_sso:
        return None, user
    now = utcnow()
    recent = db.session.scalar(
        select(func.count(PasswordResetToken.id)).where(
            PasswordResetToken.user_id == user.id, PasswordResetToken.created_at > now - dt.timedelta(hours=1)
        )
    )
    if recent >= MAX_RESETS_PER_HOUR:
        return None, None
    token = secrets.token_urlsafe(32)
    hours = current_app.config["PASSWORD_RESET_HOURS"]
    db.session.add(PasswordResetToken(user_id=user.id, token_hash=token_hash(token), created_at=now,
                                      expires_at=now + dt.timedelta(hours=hours)))
    audit.record(user_id=user.id, entity_type="user", entity_id=user.id, verb="reset_requested",
                 summary="Password reset link sent")
    return (user, token), None


#: The subject of a password reset e-mail.
RESET_SUBJECT = "Reset your password"


def request_password_reset(email: str, compose: Callable[[str, str], str]) -> None:
    """Someone asked for a reset link: queue one for an active account, and do as much work when there is none.

    The reply must not tell anyone whether an address has an account, in its words or its timing: both cases
    look the user up once, count recent links once, make and hash a token and render the e-mail with
    `compose(name, link_token)`; only an account's case then writes the reset and queues the e-mail (sent after
    the commit by the outbox, never during the request). The caller commits.
    """
    from tracker.outbox import services as outbox

    started, sso_only = _start_reset(email)
    if started is None:
        _as_much_work_as_a_reset()
        if sso_only is not None:
            _tell_how_to_sign_in(sso_only)
        compose("Someone", secrets.token_urlsafe(32))
        return
    user, token = started
    name = outbox.header_safe(user.name)  # a name stored with a line break must not break the header
    outbox.enqueue(kind="password_reset", key=f"reset:{token_hash(token)[:34]}", to=user.email, to_name=name,
                   subject=RESET_SUBJECT, body=compose(name or user.email, token), user_id=user.id)


#: The subject of the e-mail sent instead of a reset link to a member who must sign in with single sign-on.
SSO_ONLY_SUBJECT = "How to sign in to the improvement action tracker"


def _tell_how_to_sign_in(user: User) -> None:
    """A reset asked for by an account that must sign in with single sign-on: no link, but an e-mail to its
    owner saying how to sign in (the page's reply is the same as for any address)."""
    from tracker.outbox import services as outbox

    how = password_refused(user)
    if how is None:
        return
    name = outbox.header_safe(user.name)
    from tracker.timeutil import today

    # One a day at most, however often the reset page is asked (the key is the account and the day).
    outbox.enqueue(kind="password_reset", key=f"sso-only:{user.id}:{today().isoformat()}", to=user.email,
                   to_name=name, user_id=user.id, subject=SSO_ONLY_SUBJECT,
                   body=f"Hello {name or user.email},\n\nSomeone (probably you) asked to reset the password of your "
                        f"account on the improvement action tracker. {how}\n\nThe tracker does not use a "
                        f"password for your account, so nothing has changed.\n")


def _as_much_work_as_a_reset() -> None:
    """The queries and hashing of start_password_reset for an address with no account (or too many links)."""
    db.session.scalar(select(func.count(PasswordResetToken.id)).where(
        PasswordResetToken.user_id == -1, PasswordResetToken.created_at > utcnow() - dt.timedelta(hours=1)))
    token_hash(secrets.token_urlsafe(32))


def valid_reset(token: str) -> PasswordResetToken | None:
    """The unused, unexpired reset for this token, for an active account; None otherwise."""
    reset = db.session.scalar(select(PasswordResetToken).where(PasswordResetToken.token_hash == token_hash(token)))
    if reset is None or reset.used_at is not None or reset.expires_at <= utcnow() or not reset.user.active:
        return None
    return reset


def complete_password_reset(reset: PasswordResetToken, password: str) -> User | None:
    """Set the new password, use up every outstanding link of the account, and end its sessions.

    None when the link was used in the meantime (two tabs, or a replayed request): nothing changes.
    """
    now = utcnow()
    claimed = db.session.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.id == reset.id, PasswordResetToken.used_at.is_(None))
        .values(used_at=now)
    )
    if claimed.rowcount != 1:
        return None
    db.session.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.user_id == reset.user_id, PasswordResetToken.used_at.is_(None))
        .values(used_at=now)
    )
    set_password(reset.user, password)
    throttle.clear_failures(reset.user.email)  # a lock from someone else's guesses ends with the reset
    return reset.user
