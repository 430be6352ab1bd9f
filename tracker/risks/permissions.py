"""Who may read and change risks: committee members (viewers) read; plan managers and a risk's owner edit; the
partnership's administrators set its scoring matrix."""
from __future__ import annotations

from flask import abort
from flask_login import current_user

from tracker import text as texts
from tracker.auth.models import Role, User
from tracker.auth.permissions import can_administer_partnership, can_view_partnership
from tracker.extensions import db
from tracker.partnerships.models import Partnership
from tracker.risks.models import Risk


def can_view_risks(user: User, partnership_id: int) -> bool:
    return can_view_partnership(user, partnership_id)


def can_add_risk(user: User, partnership_id: int) -> bool:
    """Plan managers add risks to their partnership's register (and import registers)."""
    return user.has_role(partnership_id, Role.PLAN_MANAGER)


def can_edit_risk(user: User, risk: Risk) -> bool:
    """Plan managers, and the risk's owner while they belong to the partnership, review and close it."""
    if user.has_role(risk.partnership_id, Role.PLAN_MANAGER):
        return True
    return risk.owner_id is not None and risk.owner_id == user.id and can_view_partnership(user, risk.partnership_id)


def can_set_matrix(user: User, partnership_id: int) -> bool:
    """The scoring matrix is a partnership setting: its administrators (and site administrators) set it, as
    they set how its members sign in."""
    return can_administer_partnership(user, partnership_id)


def risk_or_404(risk_id: int, user: User | None = None) -> Risk:
    user = user or current_user
    risk = db.session.get(Risk, risk_id) if texts.in_id_range(risk_id) else None
    if risk is None or not can_view_risks(user, risk.partnership_id):
        abort(404)
    return risk


def partnership_or_404(partnership_id: int, user: User | None = None) -> Partnership:
    user = user or current_user
    partnership = db.session.get(Partnership, partnership_id) if texts.in_id_range(partnership_id) else None
    if partnership is None or not can_view_risks(user, partnership.id):
        abort(404)
    return partnership
