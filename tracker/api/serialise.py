"""Plans, actions and progress updates as JSON-ready dicts (the shapes the OpenAPI document describes)."""
from __future__ import annotations

import datetime as dt

from flask import url_for

from tracker.auth.models import User
from tracker.plans.models import Action, Plan, ProgressUpdate


def _iso(value: dt.date | dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def person(user: User | None) -> dict | None:
    if user is None:
        return None
    return {"id": user.id, "name": user.name, "job_title": user.job_title, "email": user.email}


def plan(p: Plan) -> dict:
    return {
        "id": p.id,
        "name": p.name,
        "kind": p.kind.value,
        "description": p.description,
        "partnership": {"id": p.partnership.id, "name": p.partnership.name},
        "framework": {"id": p.framework.id, "name": p.framework.name},
        "manager": person(p.manager),
        "created_at": _iso(p.created_at),
        "links": {"self": url_for("api.get_plan", plan_id=p.id),
                  "actions": url_for("api.plan_actions", plan_id=p.id)},
    }


def action(a: Action, today: dt.date) -> dict:
    rag = a.rag(today)
    return {
        "id": a.id,
        "plan_id": a.plan_id,
        "ref": a.ref,
        "text": a.text,
        "status": a.status.value,
        "status_label": a.status.label,
        "rag": {"colour": rag.rag.value, "reason": rag.reason, "text": rag.text, "days_overdue": rag.days_overdue},
        "timescale": {"text": a.timescale_text, "kind": a.timescale_kind,
                      "start": _iso(a.due_start), "end": _iso(a.due_end)},
        "lead": person(a.lead_officer),
        "lead_text": a.lead_text,
        "organisations": [{"id": o.id, "name": o.name, "kind": o.kind.value} for o in a.organisations],
        "items": [{"id": i.id, "number": i.number, "title": i.title} for i in a.items],
        "superseded_by_id": a.superseded_by_id,
        "last_update_at": _iso(a.last_update_at),
        "updated_at": _iso(a.updated_at),
        "version": a.version,
        "links": {"self": url_for("api.get_action", action_id=a.id),
                  "updates": url_for("api.action_updates", action_id=a.id)},
    }


def progress_update(u: ProgressUpdate) -> dict:
    return {
        "id": u.id,
        "action_id": u.action_id,
        "created_at": _iso(u.created_at),
        "author": person(u.author),
        "status": u.status.value,
        "narrative": u.shown_narrative,  # as its author last corrected it (tracker.plans.narratives)
        "corrected": u.corrected,
        "corrected_at": _iso(u.corrections[-1].created_at) if u.corrections else None,
        "original_narrative": u.narrative if u.corrections else None,
        "revised_timescale": u.revised_timescale_text,
        "revised_due_end": _iso(u.revised_due_end),
        "revision_reason": u.revision_reason,
    }
