"""Lists of partnerships for the pages, decided by tracker.auth.permissions."""
from __future__ import annotations

from sqlalchemy import select

from tracker.auth.models import User
from tracker.auth.permissions import manageable_partnerships
from tracker.extensions import db
from tracker.partnerships.models import Partnership


def managed_by(user: User) -> list[Partnership]:
    """The partnerships whose plans, committees and imports this user manages, by name."""
    ids = manageable_partnerships(user)
    query = select(Partnership).order_by(Partnership.name)
    if ids is not None:
        if not ids:
            return []
        query = query.where(Partnership.id.in_(ids))
    return list(db.session.scalars(query))
