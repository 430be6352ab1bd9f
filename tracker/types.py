"""Column types shared by the models."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Enum, TypeDecorator

from tracker.timeutil import as_utc


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always returned timezone-aware, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC timestamp column")
        value = value.astimezone(dt.timezone.utc)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        return as_utc(value)


def enum_column(cls, length: int = 20) -> Enum:
    """A Python enum stored as its values in a VARCHAR, the same on SQLite and PostgreSQL (no native type)."""
    return Enum(cls, native_enum=False, length=length, values_callable=lambda members: [m.value for m in members])
