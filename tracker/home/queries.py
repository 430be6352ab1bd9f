"""What each role's home shows, read in a fixed number of queries whatever the number of plans and actions.

`parts(user)` decides which parts a person sees (several roles, several parts); `home(user, today)` loads them.
RAG is worked out in Python from loaded columns (tracker.rag.derive), as on the plan pages.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import func, select

from tracker.auth.models import Membership, Role, User
from tracker.auth.permissions import administered_partnership_ids, manageable_partnerships, visible_partnership_ids
from tracker.committees.models import Committee, CommitteeMember, Meeting, committee_plans
from tracker.extensions import db
from tracker.home import changes as changes_module
from tracker.partnerships.models import Partnership
from tracker.periods import working_days_before
from tracker.plans.models import Action, Plan
from tracker.plans.queries import ROW_COLUMNS, ActionRow, action_row, my_actions
from tracker.rag import OPEN_STATUSES, Rag, Status, derive
from tracker.scheduler.models import SchedulerHeartbeat
from tracker.selfeval.models import Rating, RoundStatus, SelfEvaluationRound
from tracker.timeutil import local_date
from tracker.workbooks.models import IssuedWorkbook

OFFICER, MANAGER, AUDIT, COMMITTEE, NATIONAL, ADMIN = "officer", "manager", "audit", "committee", "national", "admin"
#: The roles that read a partnership as its committee members do (an auditor reads what a viewer reads).
READERS = (Role.VIEWER, Role.AUDITOR)
RAG_ORDER = (Rag.RED, Rag.AMBER, Rag.GREEN, Rag.BLUE)
#: Without a past meeting, "what changed" looks back this many days.
DEFAULT_LOOKBACK_DAYS = 91


def _roles(user: User) -> set[Role]:
    return {m.role for m in user.memberships}


def sits_on_committees(user: User) -> bool:
    return db.session.scalar(select(func.count(CommitteeMember.id)).where(CommitteeMember.user_id == user.id)) > 0


def parts(user: User, *, on_committee: bool) -> list[str]:
    """The parts of the home this person sees, in page order."""
    roles = _roles(user)
    found = []
    if any(r.includes(Role.LEAD_OFFICER) for r in roles):
        found.append(OFFICER)
    if manageable_partnerships(user):
        found.append(MANAGER)
    if Role.AUDITOR in roles:
        found.append(AUDIT)
    viewer_in = {m.partnership_id for m in user.memberships if m.role in READERS}
    national = user.is_admin or (len(viewer_in) >= 2 and not on_committee and roles == {Role.VIEWER})
    if on_committee or (viewer_in and not national):
        found.append(COMMITTEE)
    if national:
        found.append(NATIONAL)
    if user.is_admin or administered_partnership_ids(user):
        found.append(ADMIN)
    return found


def rag_of(row, today: dt.date) -> Rag:
    return derive(row.status, row.due_end, local_date(row.last_update_at), today,
                  created=local_date(row.created_at)).rag


@dataclass
class RagTally:
    """RAG counts and the overdue count of a set of actions."""

    counts: Counter = field(default_factory=Counter)
    overdue: int = 0
    escalated: int = 0
    no_lead: int = 0
    total: int = 0

    def add(self, row, today: dt.date, escalate_before: dt.date | None = None) -> None:
        self.counts[rag_of(row, today)] += 1
        self.total += 1
        is_open = Status(row.status).is_open
        if is_open and row.due_end is not None and row.due_end < today:
            self.overdue += 1
            if escalate_before is not None and row.due_end < escalate_before:
                self.escalated += 1
        if is_open and getattr(row, "lead_officer_id", 1) is None:
            self.no_lead += 1

    def summary(self) -> list[tuple[Rag, int]]:
        return [(rag, self.counts[rag]) for rag in RAG_ORDER]


@dataclass
class MeetingRow:
    id: int
    held_on: dt.date
    title: str
    committee_id: int
    committee: str
    papers_due: dt.date
    plans: list[str] = field(default_factory=list)
    issued: list[tuple[str, dt.date]] = field(default_factory=list)  # (plan name, issued on)
    previous: dt.date | None = None


def _meeting_row(m, previous: dt.date | None = None) -> MeetingRow:
    return MeetingRow(m.id, m.held_on, m.title or f"{m.committee_name} {m.held_on:%B %Y}", m.committee_id,
                      m.committee_name, working_days_before(m.held_on, m.papers_due_working_days),
                      previous=previous)


_MEETING_COLUMNS = (Meeting.id, Meeting.held_on, Meeting.title, Meeting.committee_id,
                    Committee.name.label("committee_name"), Committee.papers_due_working_days)


# ------------------------------------------------------------------------------------------------ officer
@dataclass
class OfficerPart:
    overdue: list[ActionRow]
    due_soon: list[ActionRow]
    total: int
    next_meeting: MeetingRow | None
    to_update: list[ActionRow]


def officer_part(user: User, today: dt.date) -> OfficerPart:
    """My actions in short, and the actions to update before the next meeting that looks at them."""
    mine = my_actions(user, today)
    open_mine = (Action.lead_officer_id == user.id, Action.status.in_(OPEN_STATUSES), Plan.archived_at.is_(None))
    visible = visible_partnership_ids(user)
    scope = (Plan.partnership_id.in_(visible or {-1}),) if visible is not None else ()
    meeting = db.session.execute(
        select(*_MEETING_COLUMNS).join(Committee, Committee.id == Meeting.committee_id)
        .join(committee_plans, committee_plans.c.committee_id == Committee.id)
        .join(Plan, Plan.id == committee_plans.c.plan_id).join(Action, Action.plan_id == Plan.id)
        .where(*open_mine, *scope, Meeting.held_on >= today)
        .order_by(Meeting.held_on, Meeting.id).limit(1)).first()
    next_meeting, to_update = None, []
    if meeting is not None:
        previous = db.session.scalar(select(func.max(Meeting.held_on)).where(
            Meeting.committee_id == meeting.committee_id, Meeting.held_on < today))
        next_meeting = _meeting_row(meeting, previous)
        since = previous or today - dt.timedelta(days=DEFAULT_LOOKBACK_DAYS)
        start = dt.datetime.combine(since, dt.time(), tzinfo=dt.timezone.utc)
        rows = db.session.execute(
            select(*ROW_COLUMNS, Plan.name.label("plan_name")).join(Plan, Plan.id == Action.plan_id)
            .join(committee_plans, committee_plans.c.plan_id == Plan.id)
            .where(*open_mine, *scope, committee_plans.c.committee_id == meeting.committee_id,
                   (Action.last_update_at.is_(None)) | (Action.last_update_at < start))
            .order_by(Action.due_end.is_(None), Action.due_end, Action.ref))
        to_update = [action_row(r, today, plan=r.plan_name) for r in rows]
    return OfficerPart(mine.overdue, mine.due_soon, mine.total, next_meeting, to_update)


# ------------------------------------------------------------------------------------------------ manager
@dataclass
class ManagedPlan:
    id: int
    name: str
    partnership: str
    tally: RagTally


@dataclass
class ManagerPart:
    plans: list[ManagedPlan]
    meetings: list[MeetingRow]
    escalation_days: int

    @property
    def escalated(self) -> int:
        return sum(p.tally.escalated for p in self.plans)

    @property
    def overdue(self) -> int:
        return sum(p.tally.overdue for p in self.plans)

    @property
    def no_lead(self) -> int:
        return sum(p.tally.no_lead for p in self.plans)


def manager_part(user: User, today: dt.date) -> ManagerPart:
    """The plans this person manages with RAG, overdue, escalated and lead-less counts; their papers due."""
    days = current_app.config["REMINDER_ESCALATION_DAYS"]
    escalate_before = today - dt.timedelta(days=days)
    manager_of = manageable_partnerships(user)
    query = (select(Plan.id, Plan.name, Partnership.name.label("partnership_name"))
             .join(Partnership, Partnership.id == Plan.partnership_id)
             .where(Plan.manager_id == user.id, Plan.archived_at.is_(None)).order_by(Plan.name))
    if manager_of is not None:
        query = query.where(Plan.partnership_id.in_(manager_of or {-1}))
    plans = {p.id: ManagedPlan(p.id, p.name, p.partnership_name, RagTally()) for p in db.session.execute(query)}
    if not plans:
        return ManagerPart([], [], days)
    for row in db.session.execute(
            select(Action.plan_id, Action.status, Action.due_end, Action.last_update_at, Action.created_at,
                   Action.lead_officer_id).where(Action.plan_id.in_(plans))):
        plans[row.plan_id].tally.add(row, today, escalate_before)
    meetings = _upcoming_meetings(list(plans), today, {p.id: p.name for p in plans.values()})
    return ManagerPart(list(plans.values()), meetings, days)


def _upcoming_meetings(plan_ids: list[int], today: dt.date, plan_names: dict[int, str],
                       limit: int = 6) -> list[MeetingRow]:
    """Meetings from today looking at these plans, with their papers due and any workbook issued: two queries."""
    found: dict[int, MeetingRow] = {}
    for m in db.session.execute(
            select(*_MEETING_COLUMNS, committee_plans.c.plan_id).join(Committee, Committee.id == Meeting.committee_id)
            .join(committee_plans, committee_plans.c.committee_id == Committee.id)
            .where(committee_plans.c.plan_id.in_(plan_ids), Meeting.held_on >= today)
            .order_by(Meeting.held_on, Meeting.id)):
        row = found.get(m.id)
        if row is None:
            if len(found) >= limit:
                continue
            row = found[m.id] = _meeting_row(m)
        row.plans.append(plan_names.get(m.plan_id, ""))
    _attach_issued(found)
    return list(found.values())


def _attach_issued(meetings: dict[int, MeetingRow]) -> None:
    if not meetings:
        return
    for w in db.session.execute(
            select(IssuedWorkbook.meeting_id, IssuedWorkbook.issued_at, Plan.name)
            .join(Plan, Plan.id == IssuedWorkbook.plan_id)
            .where(IssuedWorkbook.meeting_id.in_(meetings)).order_by(IssuedWorkbook.issued_at)):
        meetings[w.meeting_id].issued.append((w.name, local_date(w.issued_at)))


# ---------------------------------------------------------------------------------------------- committee
@dataclass
class CommitteeSummary:
    id: int
    name: str
    partnership: str
    next_meeting: MeetingRow | None
    last_meeting: MeetingRow | None
    changes: dict[str, int]
    since: dt.date


def committee_part(user: User, today: dt.date) -> list[CommitteeSummary]:
    """The committees this person sits on (else those of the partnerships they read): the next meeting, its
    papers' due and issued dates, and what changed since the last meeting. Six queries."""
    visible = visible_partnership_ids(user)
    query = (select(Committee.id, Committee.name, Committee.partnership_id, Partnership.name.label("partnership"))
             .join(Partnership, Partnership.id == Committee.partnership_id).order_by(Committee.name))
    if visible is not None:
        query = query.where(Committee.partnership_id.in_(visible or {-1}))
    mine = select(CommitteeMember.committee_id).where(CommitteeMember.user_id == user.id)
    committees = db.session.execute(query.where(Committee.id.in_(mine))).all()
    if not committees:
        viewer_in = {m.partnership_id for m in user.memberships if m.role in READERS}
        committees = db.session.execute(query.where(Committee.partnership_id.in_(viewer_in or {-1}))).all()
    if not committees:
        return []
    ids = [c.id for c in committees]
    next_of: dict[int, MeetingRow] = {}
    last_of: dict[int, MeetingRow] = {}
    for m in db.session.execute(select(*_MEETING_COLUMNS).join(Committee, Committee.id == Meeting.committee_id)
                                .where(Meeting.committee_id.in_(ids)).order_by(Meeting.held_on, Meeting.id)):
        if m.held_on >= today:
            next_of.setdefault(m.committee_id, _meeting_row(m))
        else:
            last_of[m.committee_id] = _meeting_row(m)
    _attach_issued({**{r.id: r for r in next_of.values()}, **{r.id: r for r in last_of.values()}})
    plans_of: dict[int, set[int]] = defaultdict(set)
    for committee_id, plan_id in db.session.execute(
            select(committee_plans.c.committee_id, committee_plans.c.plan_id).join(Plan)
            .where(committee_plans.c.committee_id.in_(ids), Plan.archived_at.is_(None))):
        plans_of[committee_id].add(plan_id)
    actions, updates = changes_module.load_facts(sorted(set().union(*plans_of.values())) if plans_of else [])
    summaries = []
    for c in committees:
        since = last_of[c.id].held_on if c.id in last_of else today - dt.timedelta(days=DEFAULT_LOOKBACK_DAYS)
        wanted = plans_of.get(c.id, set())
        found = changes_module.changes_since([a for a in actions if a.plan_id in wanted], updates, since)
        summaries.append(CommitteeSummary(c.id, c.name, c.partnership, next_of.get(c.id), last_of.get(c.id),
                                          changes_module.counts(found), since))
    return summaries


# ----------------------------------------------------------------------------------------------- national
@dataclass
class PartnershipRow:
    id: int
    name: str
    tally: RagTally
    round_title: str = ""
    previous_title: str = ""
    movement: Counter = field(default_factory=Counter)  # "Up", "Down", "Same"


def national_part(user: User, today: dt.date) -> list[PartnershipRow]:
    """Partnerships side by side: RAG and overdue across their live plans, and self-evaluation movement
    (the latest agreed or submitted round against the one before). Four queries."""
    visible = visible_partnership_ids(user)
    query = select(Partnership.id, Partnership.name).order_by(Partnership.name)
    if visible is not None:
        query = query.where(Partnership.id.in_(visible or {-1}))
    rows = {p.id: PartnershipRow(p.id, p.name, RagTally()) for p in db.session.execute(query)}
    if not rows:
        return []
    for a in db.session.execute(
            select(Plan.partnership_id, Action.status, Action.due_end, Action.last_update_at, Action.created_at)
            .join(Plan, Plan.id == Action.plan_id)
            .where(Plan.partnership_id.in_(rows), Plan.archived_at.is_(None))):
        rows[a.partnership_id].tally.add(a, today)
    rounds = db.session.execute(
        select(SelfEvaluationRound.id, SelfEvaluationRound.partnership_id, SelfEvaluationRound.framework_id,
               SelfEvaluationRound.title, SelfEvaluationRound.previous_round_id)
        .where(SelfEvaluationRound.partnership_id.in_(rows),
               SelfEvaluationRound.status.in_([RoundStatus.AGREED, RoundStatus.SUBMITTED]))
        .order_by(SelfEvaluationRound.completed_on.desc(), SelfEvaluationRound.id.desc())).all()
    pairs: dict[int, tuple] = {}
    for r in rounds:
        if r.partnership_id in pairs:
            continue
        previous = next((p for p in rounds if p.id == r.previous_round_id), None) or next(
            (p for p in rounds if p.partnership_id == r.partnership_id and p.framework_id == r.framework_id
             and p.id != r.id), None)
        pairs[r.partnership_id] = (r, previous)
    wanted = {x.id for pair in pairs.values() for x in pair if x is not None}
    levels: dict[tuple[int, int], int | None] = {}
    if wanted:
        levels = {(round_id, item_id): level for round_id, item_id, level in db.session.execute(
            select(Rating.round_id, Rating.item_id, Rating.level).where(Rating.round_id.in_(wanted)))}
    for partnership_id, (current, previous) in pairs.items():
        row = rows[partnership_id]
        row.round_title, row.previous_title = current.title, previous.title if previous else ""
        if previous is None:
            continue
        for (round_id, item_id), level in levels.items():
            if round_id != current.id or level is None:
                continue
            before = levels.get((previous.id, item_id))
            if before is not None:
                row.movement["Up" if level > before else "Down" if level < before else "Same"] += 1
    return list(rows.values())


# -------------------------------------------------------------------------------------------------- admin
@dataclass
class AdminPart:
    active: int
    disabled: int
    never_signed_in: int
    site: bool  # a site administrator: sees the scheduler and the outbox
    heartbeat: SchedulerHeartbeat | None = None
    scheduler_stale: bool = True
    outbox_pending: int = 0
    outbox_failing: int = 0
    outbox_oldest: dt.datetime | None = None
    outbox_last_error: str | None = None


def admin_part(user: User, today: dt.date) -> AdminPart:
    """Accounts (in the partnerships administered), and for site administrators the scheduler's heartbeat and
    the outbox. Three queries."""
    ids = administered_partnership_ids(user)
    query = select(User.active, User.last_sign_in_at.is_(None).label("never"), func.count(User.id))
    if ids is not None:
        query = query.where(User.id.in_(select(Membership.user_id).where(Membership.partnership_id.in_(ids or {-1}))))
    active = disabled = never = 0
    for is_active, never_signed_in, n in db.session.execute(query.group_by(User.active, "never")):
        if is_active:
            active += n
            never += n if never_signed_in else 0
        else:
            disabled += n
    part = AdminPart(active, disabled, never, site=user.is_admin)
    if not user.is_admin:
        return part
    from tracker.scheduler.heartbeat import HEARTBEAT_ID
    from tracker.timeutil import as_utc, utcnow

    part.heartbeat = db.session.get(SchedulerHeartbeat, HEARTBEAT_ID)
    if part.heartbeat is not None and part.heartbeat.beat_at is not None:
        stale = dt.timedelta(minutes=current_app.config["SCHEDULER_STALE_AFTER_MINUTES"])
        part.scheduler_stale = utcnow() - as_utc(part.heartbeat.beat_at) > stale
    from tracker.reminders.models import ReminderSend, SendStatus

    waiting = ReminderSend.status.in_([SendStatus.PENDING, SendStatus.FAILED, SendStatus.IN_FLIGHT,
                                       SendStatus.UNCERTAIN])
    pending, failing, oldest = db.session.execute(
        select(func.count(ReminderSend.id),
               func.count(ReminderSend.id).filter(ReminderSend.attempts > 0),
               func.min(ReminderSend.created_at)).where(waiting)).one()
    part.outbox_pending, part.outbox_failing, part.outbox_oldest = pending, failing, oldest
    if failing:
        part.outbox_last_error = db.session.scalar(
            select(ReminderSend.last_error).where(waiting, ReminderSend.attempts > 0)
            .order_by(ReminderSend.id.desc()).limit(1))
    return part


# ------------------------------------------------------------------------------------------------- auditor
@dataclass
class AwaitingRow:
    id: int
    ref: str
    text: str
    report: str
    partnership: str
    closed_on: dt.date | None  # the latest update of its implementing actions: when management closed it


@dataclass
class AuditPart:
    awaiting: list[AwaitingRow]
    open: int
    verified: int
    partnerships: list[tuple[int, str]]  # (id, name) of the partnerships this person audits


def audit_part(user: User, today: dt.date) -> AuditPart:
    """The recommendations awaiting this auditor's verification (oldest closure first), and how many are open and
    verified, in the partnerships where they hold the auditor role. Three queries."""
    from tracker.scrutiny import rules
    from tracker.scrutiny.models import AuditReport, Recommendation, recommendation_actions

    audited = sorted({m.partnership_id for m in user.memberships if m.role is Role.AUDITOR})
    names = dict(db.session.execute(select(Partnership.id, Partnership.name).where(Partnership.id.in_(audited))).all())
    recs = db.session.execute(
        select(Recommendation.id, Recommendation.ref, Recommendation.text, Recommendation.verified_at,
               AuditReport.title, AuditReport.partnership_id)
        .join(AuditReport, AuditReport.id == Recommendation.report_id)
        .where(AuditReport.partnership_id.in_(audited or [-1]))
        .order_by(AuditReport.issued_on, AuditReport.id, Recommendation.id)).all()
    actions: dict[int, list] = defaultdict(list)
    for rec_id, status, closed in db.session.execute(
            select(recommendation_actions.c.recommendation_id, Action.status, Action.last_update_at)
            .join(Action, Action.id == recommendation_actions.c.action_id)
            .where(recommendation_actions.c.recommendation_id.in_([r.id for r in recs] or [-1]))):
        actions[rec_id].append((status, closed))
    part = AuditPart(awaiting=[], open=0, verified=0,
                     partnerships=[(pid, names[pid]) for pid in audited if pid in names])
    for r in recs:
        state = rules.status([status for status, _ in actions[r.id]], r.verified_at is not None)
        if state is rules.RecStatus.AWAITING:
            closed = [local_date(at) for _, at in actions[r.id] if at is not None]
            part.awaiting.append(AwaitingRow(r.id, r.ref, r.text, r.title, names.get(r.partnership_id, ""),
                                             max(closed) if closed else None))
        elif state is rules.RecStatus.OPEN:
            part.open += 1
        else:
            part.verified += 1
    part.awaiting.sort(key=lambda row: (row.closed_on or dt.date.min, row.id))
    return part


# ------------------------------------------------------------------------------------------------- the page
@dataclass
class Home:
    parts: list[str]
    officer: OfficerPart | None = None
    manager: ManagerPart | None = None
    audit: AuditPart | None = None
    committees: list[CommitteeSummary] | None = None
    national: list[PartnershipRow] | None = None
    admin: AdminPart | None = None


def home(user: User, today: dt.date) -> Home:
    shown = parts(user, on_committee=sits_on_committees(user))
    page = Home(shown)
    if OFFICER in shown:
        page.officer = officer_part(user, today)
    if MANAGER in shown:
        page.manager = manager_part(user, today)
    if AUDIT in shown:
        page.audit = audit_part(user, today)
    if COMMITTEE in shown:
        page.committees = committee_part(user, today)
    if NATIONAL in shown:
        page.national = national_part(user, today)
    if ADMIN in shown:
        page.admin = admin_part(user, today)
    return page
