"""Personal API tokens: created by their owner, stored hashed, revocable, with the time of last use."""
from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import select
from sqlalchemy.orm import joinedload, load_only

from tracker.audit import services as audit
from tracker.auth.models import ApiToken, Membership, User
from tracker.auth.services import token_hash
from tracker.extensions import db
from tracker.text import line
from tracker.timeutil import utcnow

PREFIX = "trk_"
#: last_used_at is written at most this often per token, so that reading the API rarely writes.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def create_token(user: User, name: str, *, actor_id: int | None = None) -> tuple[ApiToken, str]:
    """A new token for `user`; the plain token is returned once and never stored."""
    name = line(name, field="name", label="The token name", max_length=100, required=True)
    plain = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, prefix=plain[:12], token_hash=token_hash(plain))
    db.session.add(token)
    db.session.flush()
    audit.record(user_id=actor_id or user.id, entity_type="api_token", entity_id=token.id, verb="create",
                 after={"user_id": user.id, "name": token.name, "prefix": token.prefix},
                 summary=f"Created API token {token.name} for {user.name}")
    return token, plain


def authenticate(plain: str) -> ApiToken | None:
    """The active token for this secret, if its owner's account is active; notes the time of use."""
    if not plain.startswith(PREFIX) or len(plain) > 200:
        return None
    # The token, its owner and the owner's roles in one round trip (every API request starts here), with only
    # the columns a request reads: not the password hash, session token or sign-in times, nor the token's own
    # name and hash (each column returned costs PostgreSQL's driver a description and a conversion per
    # request; anything else is loaded if a request ever reads it).
    token = db.session.scalars(select(ApiToken).where(ApiToken.token_hash == token_hash(plain)).options(
        load_only(ApiToken.user_id, ApiToken.last_used_at, ApiToken.revoked_at),
        joinedload(ApiToken.user).load_only(User.name, User.email, User.job_title, User.active, User.is_admin)
        .joinedload(User.memberships).load_only(Membership.user_id, Membership.partnership_id, Membership.role),
    )).unique().first()
    if token is None or not token.is_active or not token.user.active:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        token.last_used_at = now
    return token


def tokens_of(user: User) -> list[ApiToken]:
    return list(db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    ))


def revoke_token(token: ApiToken, *, actor_id: int | None) -> None:
    if token.revoked_at is not None:
        return
    token.revoked_at = utcnow()
    audit.record(user_id=actor_id, entity_type="api_token", entity_id=token.id, verb="revoke",
                 before={"revoked_at": None}, after={"revoked_at": token.revoked_at},
                 summary=f"Revoked API token {token.name}")


def revoke_all(user: User, *, actor_id: int | None, reason: str) -> int:
    """Revoke every active token of `user` (a password change or reset); returns how many were revoked."""
    active = db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ).all()
    now = utcnow()
    for token in active:
        token.revoked_at = now
        audit.record(user_id=actor_id, entity_type="api_token", entity_id=token.id, verb="revoke",
                     before={"revoked_at": None}, after={"revoked_at": now},
                     summary=f"Revoked API token {token.name}: {reason}")
    return len(active)
