"""Who may read and rate self-evaluation rounds, built on tracker.auth.permissions' role checks."""
from __future__ import annotations

from flask import abort
from flask_login import current_user

from tracker import text as texts
from tracker.auth.models import Role, User
from tracker.auth.permissions import can_view_partnership
from tracker.extensions import db
from tracker.selfeval.models import SelfEvaluationRound


def can_view_round(user: User, round_: SelfEvaluationRound) -> bool:
    """Any role in the partnership reads its rounds, drafts included; nobody outside sees a draft."""
    return can_view_partnership(user, round_.partnership_id)


def can_manage_round(user: User, round_: SelfEvaluationRound) -> bool:
    """Plan managers create rounds, rate and agree them."""
    return user.has_role(round_.partnership_id, Role.PLAN_MANAGER)


def round_or_404(round_id: int, user: User | None = None) -> SelfEvaluationRound:
    user = user or current_user
    round_ = db.session.get(SelfEvaluationRound, round_id) if texts.in_id_range(round_id) else None
    if round_ is None or not can_view_round(user, round_):
        abort(404)
    return round_
