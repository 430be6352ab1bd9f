"""Time helpers: one notion of 'now' and 'today' for the whole app (tests freeze them)."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


def utcnow() -> dt.datetime:
    """Timezone-aware current time in UTC; the default for every timestamp column."""
    return dt.datetime.now(dt.timezone.utc)


def today() -> dt.date:
    """Today's date in the UK, which is what 'overdue' means to users."""
    return dt.datetime.now(LONDON).date()


def as_utc(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite returns naive datetimes; treat them as UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc)


def local_date(value: dt.datetime | None) -> dt.date | None:
    if value is None:
        return None
    return as_utc(value).astimezone(LONDON).date()


def long_date(value: dt.date | None) -> str:
    """'31 March 2023', the way committee papers write dates."""
    if value is None:
        return ""
    return f"{value.day} {value:%B %Y}"
