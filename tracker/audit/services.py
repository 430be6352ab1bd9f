"""Record audit events. Services call `record`; it flushes nothing and commits nothing."""
from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from tracker.audit.models import AuditEvent
from tracker.extensions import db


def jsonable(value: Any) -> Any:
    """Turn model values into JSON-friendly ones for the before/after snapshots."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [jsonable(v) for v in value]
    return value


def changes(before: dict, after: dict) -> tuple[dict, dict]:
    """Only the keys whose values differ, as (before, after)."""
    keys = [k for k in after if jsonable(before.get(k)) != jsonable(after.get(k))]
    return ({k: jsonable(before.get(k)) for k in keys}, {k: jsonable(after.get(k)) for k in keys})


def record(
    *,
    user_id: int | None,
    entity_type: str,
    entity_id: int | None,
    verb: str,
    before: dict | None = None,
    after: dict | None = None,
    partnership_id: int | None = None,
    plan_id: int | None = None,
    summary: str | None = None,
    at: dt.datetime | None = None,
) -> AuditEvent:
    """Add an audit event to the session; `at` backdates it (only for loading history, e.g. demo data)."""
    event = AuditEvent(
        user_id=user_id,
        entity_type=entity_type,
        entity_id=entity_id,
        verb=verb,
        before=jsonable(before) if before is not None else None,
        after=jsonable(after) if after is not None else None,
        partnership_id=partnership_id,
        plan_id=plan_id,
        summary=summary[:500] if summary else None,
    )
    if at is not None:
        event.at = at
    db.session.add(event)
    return event
