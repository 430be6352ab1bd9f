"""Who may see, record, verify and re-open audit recommendations (built on tracker.auth.permissions).

Auditors hold Role.AUDITOR, outside the ranking: they read the partnership like a viewer and verify or re-open
recommendations; they cannot edit plans or actions. Plan managers record reports and recommendations but never
verify them (the auditor's independence); lead officers mark their actions complete with evidence.
"""
from __future__ import annotations

from flask import abort
from flask_login import current_user

from tracker import text as texts
from tracker.auth.models import Role, User
from tracker.auth.permissions import can_view_partnership
from tracker.extensions import db
from tracker.plans.permissions import can_update_action
from tracker.scrutiny.models import AuditReport, Recommendation


def can_view(user: User, partnership_id: int) -> bool:
    return can_view_partnership(user, partnership_id)


def can_manage(user: User, partnership_id: int) -> bool:
    """Plan managers (and administrators) record audit reports and recommendations and import trackers."""
    return user.has_role(partnership_id, Role.PLAN_MANAGER)


def is_auditor(user: User, partnership_id: int) -> bool:
    """Only a member holding the auditor role verifies or re-opens: not a manager, not a site administrator."""
    return any(m.partnership_id == partnership_id and m.role is Role.AUDITOR for m in user.memberships)


def can_complete(user: User, recommendation: Recommendation) -> bool:
    return any(action.is_open and can_update_action(user, action) for action in recommendation.actions)


def report_or_404(report_id: int, user: User | None = None) -> AuditReport:
    user = user or current_user
    report = db.session.get(AuditReport, report_id) if texts.in_id_range(report_id) else None
    if report is None or not can_view(user, report.partnership_id):
        abort(404)
    return report


def recommendation_or_404(recommendation_id: int, user: User | None = None) -> Recommendation:
    user = user or current_user
    rec = db.session.get(Recommendation, recommendation_id) if texts.in_id_range(recommendation_id) else None
    if rec is None or not can_view(user, rec.report.partnership_id):
        abort(404)
    return rec


def plans_can_update(user: User, action) -> bool:
    return can_update_action(user, action)
