"""Who may see and add evidence: whoever may see (or update) the item it is about."""
from __future__ import annotations

from tracker import text as texts
from tracker.auth.models import Role, User
from tracker.auth.permissions import can_view_partnership
from tracker.evidence.models import Target
from tracker.extensions import db
from tracker.plans.models import Action, ProgressUpdate
from tracker.plans.permissions import can_update_action


def resolve(target: Target | str, target_id: int):
    """(the item, its partnership id), or (None, None) when it does not exist."""
    from tracker.scrutiny.models import Recommendation
    from tracker.selfeval.models import Rating

    try:
        target = Target(target)
    except ValueError:
        return None, None
    if not isinstance(target_id, int) or not texts.in_id_range(target_id):
        return None, None
    model = {Target.ACTION: Action, Target.UPDATE: ProgressUpdate, Target.RATING: Rating,
             Target.RECOMMENDATION: Recommendation}[target]
    item = db.session.get(model, target_id)
    if item is None:
        return None, None
    if target is Target.ACTION:
        return item, item.plan.partnership_id
    if target is Target.UPDATE:
        return item, item.action.plan.partnership_id
    if target is Target.RATING:
        return item, item.round.partnership_id
    return item, item.report.partnership_id


def can_view(user: User, partnership_id: int | None) -> bool:
    return partnership_id is not None and can_view_partnership(user, partnership_id)


def can_add(user: User, target: Target, item, partnership_id: int) -> bool:
    """Evidence is added by those who may change the item: an action's (or update's) lead officer or the plan's
    managers; a rating's or recommendation's managers, and a recommendation's action leads."""
    target = Target(target)
    if target is Target.ACTION:
        return can_update_action(user, item)
    if target is Target.UPDATE:
        return can_update_action(user, item.action)
    if user.has_role(partnership_id, Role.PLAN_MANAGER):
        return True
    if target is Target.RECOMMENDATION:
        return any(can_update_action(user, action) for action in item.actions)
    return False
