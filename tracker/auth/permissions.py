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


# Administration -------------------------------------------------------------------------------------------


def administered_partnership_ids(user: User) -> set[int] | None:
    """The partnerships whose users and organisations this user manages; None means all (site administrators)."""
    if user.is_admin:
        return None
    return {m.partnership_id for m in user.memberships if m.role is Role.ADMIN}


def can_administer(user: User) -> bool:
    """Site administrators and partnership administrators see the Administration pages."""
    return user.is_admin or bool(administered_partnership_ids(user))


def can_administer_partnership(user: User, partnership_id: int) -> bool:
    return user.has_role(partnership_id, Role.ADMIN)


def can_manage_partnerships(user: User) -> bool:
    """Only site administrators create and rename partnerships."""
    return user.is_admin


def can_see_account(actor: User, user: User) -> bool:
    """Administrators see the accounts of people in the partnerships they administer."""
    ids = administered_partnership_ids(actor)
    return ids is None or bool(ids & user.partnership_ids)


def can_manage_account(actor: User, user: User) -> bool:
    """Name, e-mail, job title and disabling: an account that belongs wholly to partnerships the actor administers.

    A partnership administrator cannot change a site administrator, nor someone who also works in a partnership
    they do not administer (a national adviser, say): a site administrator does that.
    """
    if actor.is_admin:
        return True
    ids = administered_partnership_ids(actor) or set()
    return not user.is_admin and bool(user.partnership_ids) and user.partnership_ids <= ids
