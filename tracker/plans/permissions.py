"""Who may see and change plans and actions, built on tracker.auth.permissions' role checks.

Services ask these before every write; views ask them only to decide what to show.
"""
from __future__ import annotations

from flask import abort
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from tracker import text as texts
from tracker.auth.models import Role, User
from tracker.auth.permissions import can_view_partnership, manageable_partnerships, visible_partnership_ids
from tracker.extensions import db
from tracker.plans.models import Action, Plan


def can_view_plan(user: User, plan: Plan) -> bool:
    return can_view_partnership(user, plan.partnership_id)


def can_manage_plan(user: User, plan: Plan) -> bool:
    return user.has_role(plan.partnership_id, Role.PLAN_MANAGER)


def can_create_plan(user: User, partnership_id: int) -> bool:
    return user.has_role(partnership_id, Role.PLAN_MANAGER)


def can_update_action(user: User, action: Action) -> bool:
    """Lead officers update the actions they lead; plan managers update any in their partnership."""
    partnership_id = action.plan.partnership_id
    if user.has_role(partnership_id, Role.PLAN_MANAGER):
        return True
    return user.has_role(partnership_id, Role.LEAD_OFFICER) and action.lead_officer_id == user.id


def can_supersede(user: User, action: Action) -> bool:
    """Only plan managers say an action is replaced by another; a lead officer cannot."""
    return can_manage_plan(user, action.plan)


def can_create_plans_anywhere(user: User) -> bool:
    return bool(manageable_partnerships(user)) if not user.is_admin else True


def plans_query(user: User):
    """A select of the plans this user may see."""
    query = select(Plan).where(Plan.archived_at.is_(None))
    ids = visible_partnership_ids(user)
    if ids is not None:
        query = query.where(Plan.partnership_id.in_(ids))
    return query


def plan_or_404(plan_id: int, user: User | None = None) -> Plan:
    """The plan, or 404 when it does not exist or belongs to another partnership (no leak either way)."""
    user = user or current_user
    plan = db.session.get(Plan, plan_id) if texts.in_id_range(plan_id) else None
    if plan is None or not can_view_plan(user, plan):
        abort(404)
    return plan


def action_or_404(action_id: int, user: User | None = None) -> Action:
    user = user or current_user
    # With its plan in the same query: the permission check reads it at once.
    action = db.session.get(Action, action_id, options=[joinedload(Action.plan)]) \
        if texts.in_id_range(action_id) else None
    if action is None or not can_view_plan(user, action.plan):
        abort(404)
    return action
