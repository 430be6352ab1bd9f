"""Who may see and change what. Views and services ask here; nothing else decides access."""
from __future__ import annotations

from flask import abort
from flask_login import current_user
from sqlalchemy import select

from tracker.auth.models import Role, User
from tracker.extensions import db
from tracker.plans.models import Action, Plan
from tracker.selfeval.models import SelfEvaluationRound


def visible_partnership_ids(user: User) -> set[int] | None:
    """The partnerships a user may read; None means all (site administrators)."""
    if user.is_admin:
        return None
    return user.partnership_ids


def can_view_partnership(user: User, partnership_id: int) -> bool:
    return user.role_in(partnership_id) is not None


def can_view_plan(user: User, plan: Plan) -> bool:
    return can_view_partnership(user, plan.partnership_id)


def can_manage_plan(user: User, plan: Plan) -> bool:
    return user.has_role(plan.partnership_id, Role.PLAN_MANAGER)


def can_update_action(user: User, action: Action) -> bool:
    """Lead officers update the actions they lead; plan managers update any in their partnership."""
    partnership_id = action.plan.partnership_id
    if user.has_role(partnership_id, Role.PLAN_MANAGER):
        return True
    return user.has_role(partnership_id, Role.LEAD_OFFICER) and action.lead_officer_id == user.id


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
    plan = db.session.get(Plan, plan_id)
    if plan is None or not can_view_plan(user, plan):
        abort(404)
    return plan


def action_or_404(action_id: int, user: User | None = None) -> Action:
    user = user or current_user
    action = db.session.get(Action, action_id)
    if action is None or not can_view_plan(user, action.plan):
        abort(404)
    return action


def can_view_round(user: User, round_: SelfEvaluationRound) -> bool:
    """Any role in the partnership reads its rounds, drafts included; nobody outside sees a draft."""
    return can_view_partnership(user, round_.partnership_id)


def can_manage_round(user: User, round_: SelfEvaluationRound) -> bool:
    """Plan managers create rounds, rate and agree them."""
    return user.has_role(round_.partnership_id, Role.PLAN_MANAGER)


def round_or_404(round_id: int, user: User | None = None) -> SelfEvaluationRound:
    user = user or current_user
    round_ = db.session.get(SelfEvaluationRound, round_id)
    if round_ is None or not can_view_round(user, round_):
        abort(404)
    return round_
