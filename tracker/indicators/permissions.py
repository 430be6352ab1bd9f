"""Who may read, define and enter indicators: built on tracker.auth.permissions' plan rules."""
from __future__ import annotations

from flask import abort
from flask_login import current_user

from tracker.auth.models import User
from tracker.plans.permissions import can_manage_plan, can_view_plan
from tracker.extensions import db
from tracker.indicators.models import Indicator
from tracker.plans.models import Plan


def can_define_indicators(user: User, plan: Plan) -> bool:
    """Plan managers define indicators."""
    return can_manage_plan(user, plan)


def can_enter_values(user: User, indicator: Indicator) -> bool:
    """The responsible officer (while a member of the partnership) and plan managers enter values."""
    if can_manage_plan(user, indicator.plan):
        return True
    return indicator.responsible_officer_id == user.id and can_view_plan(user, indicator.plan)


def indicator_or_404(indicator_id: int, user: User | None = None) -> Indicator:
    """The indicator, or 404 when it does not exist or its plan is not the user's to see."""
    user = user or current_user
    indicator = db.session.get(Indicator, indicator_id)
    if indicator is None or not can_view_plan(user, indicator.plan):
        abort(404)
    return indicator
