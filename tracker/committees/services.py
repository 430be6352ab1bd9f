"""Committees, their members, the plans they oversee and their meetings. Flush, never commit."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from tracker import text as texts
from tracker.audit import services as audit
from tracker.auth.models import Membership, User
from tracker.auth.permissions import visible_partnership_ids
from tracker.committees.models import Committee, CommitteeKind, CommitteeMember, Meeting
from tracker.committees.permissions import can_manage_committee, can_manage_committees, can_view_committee
from tracker.errors import Conflict, NotAllowed, RuleError
from tracker.extensions import db
from tracker.plans.models import Plan

__all__ = ["can_manage_committee", "can_view_committee"]

NAME_MAX = 200
ROLE_LABEL_MAX = 100
TITLE_MAX = 200
#: Papers are due this many working days before a meeting at most (a quarter's worth).
PAPERS_DUE_MAX = 60


def visible_committees(user: User) -> list[Committee]:
    query = select(Committee).options(selectinload(Committee.partnership), selectinload(Committee.meetings))
    ids = visible_partnership_ids(user)
    if ids is not None:
        query = query.where(Committee.partnership_id.in_(ids))
    return db.session.scalars(query.order_by(Committee.name)).all()


def _may_manage(actor: User | None, partnership_id: int) -> None:
    if actor is not None and not can_manage_committees(actor, partnership_id):
        raise NotAllowed("Only the partnership's plan managers can change its committees.")


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
                   papers_due_working_days: int, plans: list[Plan], actor_id: int | None = None,
                   actor: User | None = None) -> Committee:
    """Create a committee, or change one; only the partnership's own plans can be linked."""
    partnership_id = committee.partnership_id if committee is not None else partnership_id
    _may_manage(actor, partnership_id)
    actor_id = actor.id if actor is not None else actor_id
    name = texts.line(name, field="name", label="The committee's name", max_length=NAME_MAX, required=True)
    try:
        kind = CommitteeKind(kind)
    except ValueError:
        raise RuleError("Choose the kind of committee.", "kind") from None
    if isinstance(papers_due_working_days, bool) or not isinstance(papers_due_working_days, int) \
            or not 1 <= papers_due_working_days <= PAPERS_DUE_MAX:
        raise RuleError(f"Papers are due between 1 and {PAPERS_DUE_MAX} working days before a meeting.",
                        "papers_due_working_days")
    if any(p.partnership_id != partnership_id for p in plans):
        raise RuleError("Link only the partnership's own plans.", "plans")
    clash = select(Committee.id).where(Committee.partnership_id == partnership_id, Committee.name == name)
    if committee is not None and committee.id is not None:
        clash = clash.where(Committee.id != committee.id)
    if db.session.scalar(clash) is not None:
        raise Conflict("The partnership already has a committee with this name.", "name")
    creating = committee is None
    committee = committee or Committee(partnership_id=partnership_id)
    committee.name = name
    committee.kind = kind
    committee.papers_due_working_days = papers_due_working_days
    committee.plans = list(plans)
    db.session.add(committee)
    db.session.flush()
    _record(committee, actor_id, "create" if creating else "update",
            f"{'Created' if creating else 'Changed'} committee {committee.name}",
            {"name": committee.name, "kind": committee.kind, "papers_due_working_days": papers_due_working_days,
             "plans": sorted(p.id for p in committee.plans)})
    return committee


def add_member(committee: Committee, user: User, role_label: str | None, *, actor_id: int | None = None,
               actor: User | None = None) -> CommitteeMember:
    _may_manage(actor, committee.partnership_id)
    actor_id = actor.id if actor is not None else actor_id
    if user.role_in(committee.partnership_id) is None:
        raise RuleError("Only people with an account in this partnership can be members.", "user_id")
    if any(m.user_id == user.id for m in committee.members):
        raise Conflict(f"{user.name} is already a member.", "user_id")
    role_label = texts.line(role_label, field="role_label", label="The role on the committee",
                            max_length=ROLE_LABEL_MAX)
    member = CommitteeMember(user=user, role_label=role_label or "Member")
    committee.members.append(member)
    db.session.flush()
    _record(committee, actor_id, "add_member", f"Added {user.name} to {committee.name}",
            {"user_id": user.id, "role_label": member.role_label})
    return member


def remove_member(committee: Committee, member: CommitteeMember, *, actor_id: int | None = None,
                  actor: User | None = None) -> None:
    _may_manage(actor, committee.partnership_id)
    actor_id = actor.id if actor is not None else actor_id
    committee.members.remove(member)
    db.session.delete(member)
    db.session.flush()
    _record(committee, actor_id, "remove_member", f"Removed {member.user.name} from {committee.name}",
            {"user_id": member.user_id})


def add_meeting(committee: Committee, held_on: dt.date, title: str | None, *, actor_id: int | None = None,
                actor: User | None = None) -> Meeting:
    _may_manage(actor, committee.partnership_id)
    actor_id = actor.id if actor is not None else actor_id
    if not isinstance(held_on, dt.date):
        raise RuleError("Enter the date of the meeting.", "held_on")
    texts.date_in_range(held_on, field="held_on", label="The meeting date")
    title = texts.line(title, field="title", label="The meeting's title", max_length=TITLE_MAX)
    if any(m.held_on == held_on for m in committee.meetings):
        raise Conflict("The committee already has a meeting on that date.", "held_on")
    meeting = Meeting(committee=committee, held_on=held_on, title=title)
    db.session.add(meeting)
    db.session.flush()
    _record(committee, actor_id, "add_meeting", f"Added a {committee.name} meeting on {held_on.isoformat()}",
            {"meeting_id": meeting.id, "held_on": held_on})
    return meeting


def remove_meeting(committee: Committee, meeting: Meeting, *, actor_id: int | None = None,
                   actor: User | None = None) -> None:
    from tracker.workbooks.models import IssuedWorkbook

    _may_manage(actor, committee.partnership_id)
    actor_id = actor.id if actor is not None else actor_id
    if db.session.scalar(select(IssuedWorkbook.id).where(IssuedWorkbook.meeting_id == meeting.id).limit(1)):
        raise Conflict("Papers have been issued for this meeting, so it stays on record.")
    db.session.delete(meeting)
    db.session.flush()
    _record(committee, actor_id, "remove_meeting", f"Removed the {committee.name} meeting on "
                                                    f"{meeting.held_on.isoformat()}", {"meeting_id": meeting.id})


def remove_memberships_without_access(user: User, partnership_id: int, *, actor_id: int | None) -> int:
    """Take the person off every committee of a partnership where they no longer have a role (audited)."""
    if user.role_in(partnership_id) is not None:
        return 0
    members = db.session.scalars(select(CommitteeMember).join(Committee).where(
        CommitteeMember.user_id == user.id, Committee.partnership_id == partnership_id)).all()
    for member in members:
        committee = member.committee
        committee.members.remove(member)
        db.session.delete(member)
        _record(committee, actor_id, "remove_member",
                f"Removed {user.name} from {committee.name}: no longer has a role in the partnership",
                {"user_id": user.id, "reason": "last role removed"})
    db.session.flush()
    return len(members)
