"""Committees, their members, the plans they oversee and their meetings. Flush, never commit."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from tracker.audit import services as audit
from tracker.auth.models import Membership, Role, User
from tracker.auth.permissions import visible_partnership_ids
from tracker.committees.models import Committee, CommitteeKind, CommitteeMember, Meeting
from tracker.extensions import db
from tracker.plans.models import Plan


def can_manage_committee(user: User, committee: Committee) -> bool:
    """Plan managers (and above) of the committee's partnership."""
    return user.has_role(committee.partnership_id, Role.PLAN_MANAGER)


def can_view_committee(user: User, committee: Committee) -> bool:
    """Partnership users with view rights, and the committee's own members."""
    return user.role_in(committee.partnership_id) is not None or any(
        m.user_id == user.id for m in committee.members)


def visible_committees(user: User) -> list[Committee]:
    query = select(Committee).options(selectinload(Committee.partnership), selectinload(Committee.meetings))
    ids = visible_partnership_ids(user)
    if ids is not None:
        member_of = select(CommitteeMember.committee_id).where(CommitteeMember.user_id == user.id)
        query = query.where(or_(Committee.partnership_id.in_(ids), Committee.id.in_(member_of)))
    return db.session.scalars(query.order_by(Committee.name)).all()


def partnership_users(partnership_id: int) -> list[User]:
    return db.session.scalars(select(User).join(Membership).where(
        Membership.partnership_id == partnership_id, User.active.is_(True)).order_by(User.name)).all()


def partnership_plans(partnership_id: int) -> list[Plan]:
    return db.session.scalars(select(Plan).where(Plan.partnership_id == partnership_id,
                                                 Plan.archived_at.is_(None)).order_by(Plan.name)).all()


def _record(committee: Committee, actor_id: int | None, verb: str, summary: str, after: dict | None = None) -> None:
    audit.record(user_id=actor_id, entity_type="committee", entity_id=committee.id, verb=verb,
                 partnership_id=committee.partnership_id, after=after, summary=summary)


def save_committee(committee: Committee | None, *, partnership_id: int, name: str, kind: CommitteeKind,
                   papers_due_working_days: int, plans: list[Plan], actor_id: int | None) -> Committee:
    """Create a committee, or change one; only the partnership's own plans can be linked."""
    creating = committee is None
    committee = committee or Committee(partnership_id=partnership_id)
    committee.name = name.strip()
    committee.kind = CommitteeKind(kind)
    committee.papers_due_working_days = papers_due_working_days
    committee.plans = [p for p in plans if p.partnership_id == committee.partnership_id]
    db.session.add(committee)
    db.session.flush()
    _record(committee, actor_id, "create" if creating else "update",
            f"{'Created' if creating else 'Changed'} committee {committee.name}",
            {"name": committee.name, "kind": committee.kind, "papers_due_working_days": papers_due_working_days,
             "plans": sorted(p.id for p in committee.plans)})
    return committee


def add_member(committee: Committee, user: User, role_label: str, *, actor_id: int | None) -> CommitteeMember:
    if user.role_in(committee.partnership_id) is None:
        raise ValueError("Only people with an account in this partnership can be members.")
    if any(m.user_id == user.id for m in committee.members):
        raise ValueError(f"{user.name} is already a member.")
    member = CommitteeMember(user=user, role_label=role_label.strip() or "Member")
    committee.members.append(member)
    db.session.flush()
    _record(committee, actor_id, "add_member", f"Added {user.name} to {committee.name}",
            {"user_id": user.id, "role_label": member.role_label})
    return member


def remove_member(committee: Committee, member: CommitteeMember, *, actor_id: int | None) -> None:
    committee.members.remove(member)
    db.session.delete(member)
    db.session.flush()
    _record(committee, actor_id, "remove_member", f"Removed {member.user.name} from {committee.name}",
            {"user_id": member.user_id})


def add_meeting(committee: Committee, held_on: dt.date, title: str | None, *, actor_id: int | None) -> Meeting:
    if any(m.held_on == held_on for m in committee.meetings):
        raise ValueError("The committee already has a meeting on that date.")
    meeting = Meeting(committee=committee, held_on=held_on, title=(title or "").strip() or None)
    db.session.add(meeting)
    db.session.flush()
    _record(committee, actor_id, "add_meeting", f"Added a {committee.name} meeting on {held_on.isoformat()}",
            {"meeting_id": meeting.id, "held_on": held_on})
    return meeting


def remove_meeting(committee: Committee, meeting: Meeting, *, actor_id: int | None) -> None:
    from tracker.workbooks.models import IssuedWorkbook

    if db.session.scalar(select(IssuedWorkbook.id).where(IssuedWorkbook.meeting_id == meeting.id).limit(1)):
        raise ValueError("Papers have been issued for this meeting, so it stays on record.")
    db.session.delete(meeting)
    db.session.flush()
    _record(committee, actor_id, "remove_meeting", f"Removed the {committee.name} meeting on "
                                                    f"{meeting.held_on.isoformat()}", {"meeting_id": meeting.id})
