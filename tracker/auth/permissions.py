"""Role checks that every feature's permissions build on: who belongs where, and as what.

Each feature has its own permissions module (tracker.plans.permissions, tracker.selfeval.permissions,
tracker.indicators.permissions, tracker.committees.permissions) built on these; services call them before
every write. This module knows users and roles only, never a feature's models.
"""
from __future__ import annotations

from tracker.auth.models import Role, User


def visible_partnership_ids(user: User) -> set[int] | None:
    """The partnerships a user may read; None means all (site administrators)."""
    if user.is_admin:
        return None
    return user.partnership_ids


def can_view_partnership(user: User, partnership_id: int) -> bool:
    return user.role_in(partnership_id) is not None


def manageable_partnerships(user: User) -> set[int] | None:
    """The partnerships whose plans this user manages; None means all (site administrators)."""
    if user.is_admin:
        return None
    return {m.partnership_id for m in user.memberships if m.role.includes(Role.PLAN_MANAGER)}


# Administration -------------------------------------------------------------------------------------------


def administered_partnership_ids(user: User) -> set[int] | None:
    """The partnerships whose users and organisations this user manages; None means all (site administrators)."""
    if user.is_admin:
        return None
    return {m.partnership_id for m in user.memberships if m.role is Role.ADMIN}


def can_change_roles(actor: User, user: User) -> bool:
    """Roles are changed by a site administrator, or by a partnership administrator for an account that
    belongs to their partnerships alone (never a national adviser who also works elsewhere)."""
    return can_manage_account(actor, user)


def can_administer(user: User) -> bool:
    """Site administrators and partnership administrators see the Administration pages."""
    return user.is_admin or bool(administered_partnership_ids(user))


def can_administer_partnership(user: User, partnership_id: int) -> bool:
    return user.has_role(partnership_id, Role.ADMIN)


def can_manage_partnerships(user: User) -> bool:
    """Only site administrators create and rename partnerships."""
    return user.is_admin


def joined_partnership_ids(user: User) -> set[int]:
    """The partnerships whose allowed e-mail domain let this account be created by single sign-on."""
    return {i.joined_partnership_id for i in user.sso_identities if i.joined_partnership_id is not None}


def account_partnership_ids(user: User) -> set[int]:
    """The partnerships an account belongs to: its roles, or, with none yet, where single sign-on created it."""
    return user.partnership_ids or joined_partnership_ids(user)


def can_see_account(actor: User, user: User) -> bool:
    """Administrators see the accounts of people in the partnerships they administer (and of people who joined
    them by single sign-on and wait for a role)."""
    ids = administered_partnership_ids(actor)
    return ids is None or bool(ids & (user.partnership_ids | joined_partnership_ids(user)))


def can_manage_account(actor: User, user: User) -> bool:
    """Name, e-mail, job title and disabling: an account that belongs wholly to partnerships the actor administers.

    A partnership administrator cannot change a site administrator, nor someone who also works in a partnership
    they do not administer (a national adviser, say): a site administrator does that.
    """
    if actor.is_admin:
        return True
    ids = administered_partnership_ids(actor) or set()
    owned = account_partnership_ids(user)
    return not user.is_admin and bool(owned) and owned <= ids


def can_use_api_tokens(user: User) -> bool:
    """API tokens are for scripts and reports that officers and managers run: lead officers and above (and site
    administrators). Viewers (committee members, carer and service-user representatives) read the pages."""
    return user.is_admin or any(m.role.includes(Role.LEAD_OFFICER) for m in user.memberships)
