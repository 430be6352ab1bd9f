"""Accounts: creating users, checking passwords, ending sessions."""
from __future__ import annotations

from sqlalchemy import func, select

from tracker.audit import services as audit
from tracker.auth.models import Membership, Role, User
from tracker.auth.passwords import hash_password, needs_rehash, verify_password
from tracker.extensions import db
from tracker.timeutil import utcnow


def normalise_email(email: str) -> str:
    return email.strip().lower()


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
    user = User(
        email=normalise_email(email) if email else None,
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
    """Change a password and end every existing session of that user."""
    user.password_hash = hash_password(password)
    user.rotate_session_token()
    audit.record(user_id=actor_id or user.id, entity_type="user", entity_id=user.id, verb="password",
                 summary="Password changed")


def end_sessions(user: User) -> None:
    user.rotate_session_token()
