"""Who may see and run committees, built on tracker.auth.permissions' role checks.

A committee's pages and its issued workbooks need current access to the committee's partnership: being
listed as a member is not enough once every role there has been removed (removing the last role also
removes the person's committee memberships; see tracker.admin.services.set_roles).
"""
from __future__ import annotations

from tracker.auth.models import Role, User
from tracker.auth.permissions import can_view_partnership
from tracker.committees.models import Committee


def can_manage_committee(user: User, committee: Committee) -> bool:
    """Plan managers (and above) of the committee's partnership."""
    return can_manage_committees(user, committee.partnership_id)


def can_manage_committees(user: User, partnership_id: int) -> bool:
    return user.has_role(partnership_id, Role.PLAN_MANAGER)


def can_view_committee(user: User, committee: Committee) -> bool:
    """Anyone with a current role in the committee's partnership (its members have one)."""
    return can_view_partnership(user, committee.partnership_id)
