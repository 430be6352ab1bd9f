"""Decisions about plans and actions. Services flush, never commit; the caller commits once."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import select

from tracker.audit import services as audit
from tracker.extensions import db
from tracker.frameworks.models import FrameworkItem
from tracker.partnerships.models import Organisation
from tracker.plans.models import Action, Plan, PlanKind, ProgressUpdate
from tracker.rag import Status
from tracker.timescales import interpret
from tracker.timeutil import utcnow


class ConcurrentEditError(RuntimeError):
    """The record changed since the form was loaded; nothing was saved."""

    def __init__(self, current: Action):
        super().__init__("This action was changed by someone else while you were editing it.")
        self.current = current


def snapshot(action: Action) -> dict:
    """The fields an audit event compares."""
    return {
        "ref": action.ref,
        "text": action.text,
        "lead_officer_id": action.lead_officer_id,
        "lead_text": action.lead_text,
        "timescale_text": action.timescale_text,
        "due_end": action.due_end,
        "status": action.status,
        "items": sorted(item.number for item in action.items),
        "organisations": sorted(org.name for org in action.organisations),
        "superseded_by_id": action.superseded_by_id,
    }


def create_plan(*, partnership_id: int, framework_id: int, name: str, kind: PlanKind = PlanKind.ACTION_PLAN,
                description: str | None = None, manager_id: int | None = None,
                actor_id: int | None = None) -> Plan:
    plan = Plan(partnership_id=partnership_id, framework_id=framework_id, name=name, kind=kind,
                description=description, manager_id=manager_id)
    db.session.add(plan)
    db.session.flush()
    audit.record(user_id=actor_id, entity_type="plan", entity_id=plan.id, verb="create",
                 partnership_id=partnership_id, plan_id=plan.id, after={"name": name, "kind": kind},
                 summary=f"Created plan {name}")
    return plan


def apply_timescale(action: Action, text: str | dt.date | None) -> None:
    """Store the timescale as written and the window it names."""
    timescale = interpret(text)
    action.timescale_text = timescale.text[:200]
    action.timescale_kind = timescale.kind
    action.due_start = timescale.start
    action.due_end = timescale.end


def next_ref(plan: Plan) -> str:
    refs = db.session.scalars(select(Action.ref).where(Action.plan_id == plan.id)).all()
    numbers = [int(r[1:]) for r in refs if r[:1] == "A" and r[1:].isdigit()]
    return f"A{max(numbers, default=0) + 1}"


def create_action(
    *,
    plan: Plan,
    text: str,
    ref: str | None = None,
    timescale: str | dt.date | None = None,
    status: Status = Status.NOT_STARTED,
    lead_officer_id: int | None = None,
    lead_text: str | None = None,
    items: Iterable[FrameworkItem] = (),
    organisations: Iterable[Organisation] = (),
    actor_id: int | None = None,
    verb: str = "create",
    at: dt.datetime | None = None,
) -> Action:
    """A new action, audited; `at` backdates its creation when loading a plan's history."""
    action = Action(
        plan=plan,
        ref=ref or next_ref(plan),
        text=text.strip(),
        status=Status(status),
        lead_officer_id=lead_officer_id,
        lead_text=lead_text,
    )
    apply_timescale(action, timescale)
    action.items = list(items)
    action.organisations = list(organisations)
    if at is not None:
        action.created_at = action.updated_at = at
    db.session.add(action)
    db.session.flush()
    audit.record(user_id=actor_id, entity_type="action", entity_id=action.id, verb=verb,
                 partnership_id=plan.partnership_id, plan_id=plan.id, after=snapshot(action),
                 summary=f"Created action {action.ref}", at=at)
    return action


def edit_action(action: Action, *, expected_version: int | None, actor_id: int | None, **changes) -> Action:
    """Change an action's fields; refused if someone else saved since `expected_version` was read.

    Accepts text, ref, timescale, status, lead_officer_id, lead_text, items, organisations, superseded_by_id.
    """
    if expected_version is not None and action.version != expected_version:
        raise ConcurrentEditError(action)
    before = snapshot(action)
    for key, value in changes.items():
        if key == "timescale":
            apply_timescale(action, value)
        elif key == "items":
            action.items = list(value)
        elif key == "organisations":
            action.organisations = list(value)
        elif key == "status":
            action.status = Status(value)
        elif key in {"text", "ref", "lead_officer_id", "lead_text", "superseded_by_id"}:
            setattr(action, key, value.strip() if isinstance(value, str) else value)
        else:
            raise TypeError(f"unknown action field {key!r}")
    after = snapshot(action)
    old, new = audit.changes(before, after)
    if old or new:
        action.updated_at = utcnow()
        db.session.flush()
        audit.record(user_id=actor_id, entity_type="action", entity_id=action.id, verb="update",
                     partnership_id=action.plan.partnership_id, plan_id=action.plan_id, before=old, after=new,
                     summary=f"Edited action {action.ref}")
    return action


def record_progress(
    action: Action,
    *,
    author_id: int | None,
    status: Status,
    narrative: str,
    revised_timescale: str | dt.date | None = None,
    revision_reason: str | None = None,
    expected_version: int | None = None,
    at: dt.datetime | None = None,
    superseded_by_id: int | None = None,
) -> ProgressUpdate:
    """A progress update: appends to the history, moves the status, and re-dates the action if asked.

    `superseded_by_id` names the replacing action when the status becomes Superseded.
    """
    if expected_version is not None and action.version != expected_version:
        raise ConcurrentEditError(action)
    before = snapshot(action)
    if superseded_by_id is not None:
        if Status(status) is not Status.SUPERSEDED or superseded_by_id == action.id:
            raise ValueError("Only a superseded action names another action that replaces it.")
        action.superseded_by_id = superseded_by_id
    now = at or utcnow()
    update = ProgressUpdate(action=action, author_id=author_id, status=Status(status), narrative=narrative or "",
                            created_at=now)
    if revised_timescale not in (None, ""):
        if not (revision_reason or "").strip():
            raise ValueError("Give a reason when the timescale changes.")
        apply_timescale(action, revised_timescale)
        update.revised_timescale_text = action.timescale_text
        update.revised_due_end = action.due_end
        update.revision_reason = revision_reason.strip()
    action.status = Status(status)
    action.last_update_at = now
    action.updated_at = now
    db.session.add(update)
    db.session.flush()
    old, new = audit.changes(before, snapshot(action))
    audit.record(user_id=author_id, entity_type="action", entity_id=action.id, verb="progress",
                 partnership_id=action.plan.partnership_id, plan_id=action.plan_id, before=old,
                 after={**new, "progress_update_id": update.id}, summary=f"Progress update on {action.ref}")
    return update


def edit_plan(plan: Plan, *, actor_id: int | None, **changes) -> Plan:
    """Change a plan's name, kind, framework, manager or description, with an audit event."""
    fields = ("name", "kind", "framework_id", "manager_id", "description")
    before = {key: getattr(plan, key) for key in fields}
    for key, value in changes.items():
        if key not in fields:
            raise TypeError(f"unknown plan field {key!r}")
        setattr(plan, key, value.strip() if isinstance(value, str) else value)
    old, new = audit.changes(before, {key: getattr(plan, key) for key in fields})
    if old or new:
        db.session.flush()
        audit.record(user_id=actor_id, entity_type="plan", entity_id=plan.id, verb="update",
                     partnership_id=plan.partnership_id, plan_id=plan.id, before=old, after=new,
                     summary=f"Edited plan {plan.name}")
    return plan


def reassign_actions(*, plans: Iterable[Plan], from_user_id: int, to_user_id: int,
                     actor_id: int | None) -> list[Action]:
    """Move every open action `from_user_id` leads in these plans to `to_user_id`; one audit event per action."""
    plan_ids = [plan.id for plan in plans]
    actions = db.session.scalars(
        select(Action).where(Action.plan_id.in_(plan_ids), Action.lead_officer_id == from_user_id,
                             Action.status.in_([s for s in Status if s.is_open]))
        .order_by(Action.plan_id, Action.id)
    ).all()
    for action in actions:
        edit_action(action, expected_version=None, actor_id=actor_id, lead_officer_id=to_user_id)
    return list(actions)
