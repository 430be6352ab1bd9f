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
from tracker.timeutil import long_date
from tracker.timeutil import today as local_today

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


class NeedsConfirmation(RuleError):
    """A meeting date that may be a mistake (in the past, on a bank holiday): saved only once confirmed."""

    def __init__(self, warnings: list[str]):
        super().__init__(" ".join(warnings), "held_on")
        self.warnings = warnings


def meeting_warnings(held_on: dt.date, today: dt.date) -> list[str]:
    """Why a meeting date may be a mistake: it has passed, or it is a Scottish bank holiday (pure)."""
    from tracker.periods import bank_holiday_name

    warnings = []
    if held_on < today:
        warnings.append(f"{long_date(held_on)} is in the past.")
    holiday = bank_holiday_name(held_on)
    if holiday:
        warnings.append(f"{long_date(held_on)} is a Scottish bank holiday ({holiday}).")
    return warnings


def _check_meeting(committee: Committee, held_on, title, *, meeting: Meeting | None, confirmed: bool,
                   today: dt.date | None) -> tuple[dt.date, str | None]:
    if not isinstance(held_on, dt.date) or isinstance(held_on, dt.datetime):
        raise RuleError("Enter the date of the meeting.", "held_on")
    texts.date_in_range(held_on, field="held_on", label="The meeting date")
    title = texts.line(title, field="title", label="The meeting's title", max_length=TITLE_MAX)
    if any(m.held_on == held_on and m is not meeting for m in committee.meetings):
        raise Conflict("The committee already has a meeting on that date.", "held_on")
    warnings = meeting_warnings(held_on, today or local_today())
    if meeting is not None and held_on == meeting.held_on:
        warnings = []  # the date as it was: nothing new to confirm
    if warnings and not confirmed:
        raise NeedsConfirmation(warnings)
    return held_on, title


def add_meeting(committee: Committee, held_on: dt.date, title: str | None, *, actor_id: int | None = None,
                actor: User | None = None, confirmed: bool = True, today: dt.date | None = None) -> Meeting:
    """A meeting. A date in the past or on a bank holiday is refused with NeedsConfirmation unless `confirmed`
    (doors that ask a person pass confirmed=False first and show the warnings)."""
    _may_manage(actor, committee.partnership_id)
    actor_id = actor.id if actor is not None else actor_id
    held_on, title = _check_meeting(committee, held_on, title, meeting=None, confirmed=confirmed, today=today)
    meeting = Meeting(committee=committee, held_on=held_on, title=title)
    db.session.add(meeting)
    db.session.flush()
    _record(committee, actor_id, "add_meeting", f"Added a {committee.name} meeting on {long_date(held_on)}",
            {"meeting_id": meeting.id, "held_on": held_on})
    return meeting


def _papers_issued(meeting: Meeting) -> bool:
    from tracker.workbooks.models import IssuedWorkbook

    return db.session.scalar(select(IssuedWorkbook.id).where(IssuedWorkbook.meeting_id == meeting.id).limit(1)) \
        is not None


def edit_meeting(committee: Committee, meeting: Meeting, held_on: dt.date, title: str | None, *,
                 actor_id: int | None = None, actor: User | None = None, confirmed: bool = True,
                 today: dt.date | None = None) -> Meeting:
    """Change a meeting's date or title (audited); the date stays once papers were issued for it."""
    _may_manage(actor, committee.partnership_id)
    actor_id = actor.id if actor is not None else actor_id
    held_on, title = _check_meeting(committee, held_on, title, meeting=meeting, confirmed=confirmed, today=today)
    if held_on != meeting.held_on and _papers_issued(meeting):
        raise Conflict("Papers have been issued for this meeting, so its date stays as it is. Add a new meeting "
                       "instead.", "held_on")
    before = {"held_on": meeting.held_on, "title": meeting.title}
    meeting.held_on, meeting.title = held_on, title
    old, new = audit.changes(before, {"held_on": held_on, "title": title})
    if new:
        db.session.flush()
        audit.record(user_id=actor_id, entity_type="committee", entity_id=committee.id, verb="edit_meeting",
                     partnership_id=committee.partnership_id, before={**old, "meeting_id": meeting.id},
                     after={**new, "meeting_id": meeting.id},
                     summary=f"Changed the {committee.name} meeting of {long_date(before['held_on'])}")
    return meeting


def remove_meeting(committee: Committee, meeting: Meeting, *, actor_id: int | None = None,
                   actor: User | None = None) -> None:
    _may_manage(actor, committee.partnership_id)
    actor_id = actor.id if actor is not None else actor_id
    if _papers_issued(meeting):
        raise Conflict("Papers have been issued for this meeting, so it stays on record.")
    committee.meetings.remove(meeting)
    db.session.delete(meeting)
    db.session.flush()
    _record(committee, actor_id, "remove_meeting", f"Removed the {committee.name} meeting on "
                                                    f"{long_date(meeting.held_on)}",
            {"meeting_id": meeting.id, "held_on": meeting.held_on, "title": meeting.title})


def remove_committee(committee: Committee, *, actor_id: int | None = None, actor: User | None = None) -> None:
    """Remove a committee with its members and meetings (audited); refused once papers were issued to it."""
    from tracker.workbooks.models import IssuedWorkbook

    _may_manage(actor, committee.partnership_id)
    actor_id = actor.id if actor is not None else actor_id
    if db.session.scalar(select(IssuedWorkbook.id).where(IssuedWorkbook.committee_id == committee.id).limit(1)):
        raise Conflict("Papers have been issued to this committee, so it stays on record. You can change its "
                       "name, plans and meetings instead.")
    snapshot = {"name": committee.name, "kind": committee.kind, "plans": sorted(p.id for p in committee.plans),
                "members": sorted(m.user_id for m in committee.members),
                "meetings": sorted(m.held_on.isoformat() for m in committee.meetings)}
    _record(committee, actor_id, "remove", f"Removed committee {committee.name}", snapshot)
    for meeting in list(committee.meetings):
        db.session.delete(meeting)
    committee.plans = []
    db.session.delete(committee)
    db.session.flush()


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
