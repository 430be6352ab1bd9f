"""Read-only queries for the plan pages: a fixed number of queries whatever the number of actions.

Everything a page shows is loaded up front (joined queries, or plain column rows for the plan page's
thousands of actions), and RAG is worked out in Python from the loaded columns, so templates never
trigger a lazy load.
"""
from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field

from sqlalchemy import bindparam, func, or_, select, true
from sqlalchemy.orm import aliased, joinedload, selectinload

from tracker.audit.models import AuditEvent
from tracker.auth.models import Membership, Role, User
from tracker.auth.permissions import manageable_partnerships
from tracker.extensions import db
from tracker.text import parse_id
from tracker.frameworks.models import Framework, FrameworkItem, Theme
from tracker.partnerships.models import Organisation
from tracker.plans.models import Action, Plan, ProgressUpdate, action_items, action_organisations
from tracker.rag import OPEN_STATUSES, Rag, RagResult, Status, derive, due_within
from tracker.selfeval.models import Rating, SelfEvaluationRound
from tracker.selfeval.services import SHARED_STATUSES
from tracker.timeutil import local_date, long_date

#: "Due soon" on My actions.
DUE_SOON_DAYS = 30


@dataclass(slots=True)
class ActionRow:
    """One action in a list: only the columns shown, and its RAG worked out once (no ORM object)."""

    id: int
    ref: str
    text: str  # shortened for the table
    due_end: dt.date | None
    due: str  # the due date, or the timescale as written when it names none
    status: Status
    rag: RagResult
    lead: str = ""
    plan: str = ""
    item_ids: list[int] = field(default_factory=list)
    also: str = ""  # the other linked items' numbers: "2.2, 3.1"


#: The columns an ActionRow is built from.
ROW_COLUMNS = (Action.id, Action.ref, Action.text, Action.lead_officer_id, Action.lead_text, Action.timescale_text,
               Action.due_end, Action.status, Action.last_update_at, Action.created_at)


def action_row(a, today: dt.date, **extra) -> ActionRow:
    """An ActionRow from a result row of ROW_COLUMNS; RAG from tracker.rag, like Action.rag()."""
    return ActionRow(
        id=a.id, ref=a.ref, text=shorten(a.text), due_end=a.due_end, due=long_date(a.due_end) or a.timescale_text,
        status=a.status, rag=derive(a.status, a.due_end, local_date(a.last_update_at), today,
                                    created=local_date(a.created_at)),
        **extra,
    )


def shorten(text: str | None, length: int = 160) -> str:
    """Whitespace collapsed, and cut at a word boundary with an ellipsis when longer than `length`."""
    text = " ".join((text or "").split())
    return text if len(text) <= length else text[: length - 1].rsplit(" ", 1)[0] + "…"


# --------------------------------------------------------------------------- My actions
@dataclass
class MyActions:
    overdue: list[ActionRow]
    due_soon: list[ActionRow]
    others: list[ActionRow]
    managed_plans: list[Plan]

    @property
    def total(self) -> int:
        return len(self.overdue) + len(self.due_soon) + len(self.others)


def my_actions(user: User, today: dt.date) -> MyActions:
    """The open actions a user leads, in plans they can still see: overdue, due within 30 days, others."""
    query = (
        select(*ROW_COLUMNS, Plan.name.label("plan_name"))
        .join(Plan, Plan.id == Action.plan_id)
        .where(Action.lead_officer_id == user.id, Action.status.in_(OPEN_STATUSES),
               Plan.archived_at.is_(None))
        .order_by(Action.due_end.is_(None), Action.due_end, Plan.name, Action.ref)
    )
    if not user.is_admin:
        query = query.where(Plan.partnership_id.in_(user.partnership_ids or {-1}))
    rows = [action_row(a, today, plan=a.plan_name) for a in db.session.execute(query)]
    overdue = sorted((r for r in rows if r.rag.days_overdue), key=lambda r: -r.rag.days_overdue)
    due_soon = [r for r in rows if not r.rag.days_overdue and due_within(r.due_end, today, DUE_SOON_DAYS)]
    grouped = {id(r) for r in overdue} | {id(r) for r in due_soon}
    others = [r for r in rows if id(r) not in grouped]
    return MyActions(overdue, due_soon, others, managed_plans(user))


def my_actions_stamp(user: User) -> tuple:
    """Changes whenever an action the user leads (or led) is created, changed or re-assigned, and whenever
    a plan's name, manager or archiving, or a name anywhere (tracker.plans.stamps), changes: one statement.

    An action moved to another lead is saved with a new version and updated_at, so the new lead's stamp
    moves; the old lead's count (or, with another action arriving at once, the sums) moves too."""
    return tuple(db.session.execute(_my_actions_stamp_statement(), {"user_id": user.id}).one())


@functools.cache
def _my_actions_stamp_statement():
    """my_actions_stamp's statement, built once (its cache key worked out once)."""
    from tracker.plans.stamps import counter_column

    return select(
        func.count(Action.id), func.max(Action.id), func.sum(Action.version), func.max(Action.updated_at),
        func.max(Action.last_update_at), counter_column()).where(Action.lead_officer_id == bindparam("user_id"))


def managed_plans(user: User) -> list[Plan]:
    """Plans the user manages: named as their manager, in a partnership where they are a plan manager."""
    manager_of = manageable_partnerships(user)
    if manager_of == set():
        return []
    query = select(Plan).where(Plan.manager_id == user.id, Plan.archived_at.is_(None)).order_by(Plan.name)
    if manager_of is not None:
        query = query.where(Plan.partnership_id.in_(manager_of))
    return list(db.session.scalars(query))


# --------------------------------------------------------------------------- Plan page
@dataclass(frozen=True)
class PlanFilters:
    """The plan page's GET filters, already checked (bad values are dropped, not errors)."""

    status: Status | None = None
    rag: Rag | None = None
    lead_officer_id: int | None = None
    organisation_id: int | None = None
    overdue: bool = False
    due_before: dt.date | None = None
    search: str = ""

    @property
    def active(self) -> bool:
        return any([self.status, self.rag, self.lead_officer_id, self.organisation_id, self.overdue,
                    self.due_before, self.search])

    @classmethod
    def from_args(cls, args) -> PlanFilters:
        def choice(enum, value):
            try:
                return enum(value) if value else None
            except ValueError:
                return None

        def number(value):
            return parse_id(value)

        try:
            due_before = dt.date.fromisoformat(args.get("due_before", "")) if args.get("due_before") else None
        except ValueError:
            due_before = None
        return cls(
            status=choice(Status, args.get("status")),
            rag=choice(Rag, args.get("rag")),
            lead_officer_id=number(args.get("lead")),
            organisation_id=number(args.get("organisation")),
            overdue=args.get("overdue") == "1",
            due_before=due_before,
            search=(args.get("q") or "").strip()[:200],
        )


@dataclass
class Counts:
    """Actions per RAG colour in a group."""

    by_rag: dict[Rag, int] = field(default_factory=lambda: {rag: 0 for rag in Rag})

    def add(self, rag: Rag) -> None:
        self.by_rag[rag] += 1

    @property
    def total(self) -> int:
        return sum(self.by_rag.values())

    def summary(self) -> list[tuple[Rag, int]]:
        return [(rag, n) for rag, n in sorted(self.by_rag.items(), key=lambda kv: kv[0].order) if n]


@dataclass
class ItemGroup:
    item: FrameworkItem | None  # None: actions linked to no item
    rows: list[ActionRow] = field(default_factory=list)
    counts: Counts = field(default_factory=Counts)


@dataclass
class ThemeGroup:
    theme: Theme | None
    items: list[ItemGroup] = field(default_factory=list)
    counts: Counts = field(default_factory=Counts)


@dataclass
class PlanPage:
    themes: list[ThemeGroup]
    counts: Counts
    shown: int
    total: int


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def plan_actions_query(plan: Plan, filters: PlanFilters, today: dt.date):
    """The columns the plan page shows, narrowed by the filters SQL can apply (RAG is filtered in Python)."""
    query = select(*ROW_COLUMNS).where(Action.plan_id == plan.id).order_by(Action.id)
    if filters.status:
        query = query.where(Action.status == filters.status)
    if filters.lead_officer_id:
        query = query.where(Action.lead_officer_id == filters.lead_officer_id)
    if filters.organisation_id:
        query = query.where(Action.id.in_(select(action_organisations.c.action_id).where(
            action_organisations.c.organisation_id == filters.organisation_id)))
    if filters.overdue:
        query = query.where(Action.due_end < today, Action.status.in_(OPEN_STATUSES))
    if filters.due_before:
        query = query.where(Action.due_end < filters.due_before)
    if filters.search:
        pattern = _like(filters.search)
        query = query.where(or_(func.lower(Action.ref).like(pattern, escape="\\"),
                                func.lower(Action.text).like(pattern, escape="\\")))
    return query


def framework_outline(framework_id: int) -> list[Theme]:
    """Themes with their items, in order (two queries)."""
    return list(db.session.scalars(
        select(Theme).where(Theme.framework_id == framework_id).order_by(Theme.position)
        .options(selectinload(Theme.items))
    ))


def plan_stamp(plan_id: int) -> tuple:
    """Changes whenever an action of the plan is created or changed (each save bumps its version), and
    whenever a name its table shows changes anywhere (tracker.plans.stamps): one statement."""
    from tracker.plans.stamps import counter_column

    # Every save through the ORM moves the version, and any UPDATE (through the ORM or not) moves updated_at
    # (its onupdate); count and max(id) see rows added or removed. All four come from ix_actions_plan_stamp.
    return tuple(db.session.execute(select(
        func.count(Action.id), func.max(Action.id), func.sum(Action.version), func.max(Action.updated_at),
        counter_column()).where(Action.plan_id == plan_id)).one())


#: How many of the stamp's values make the table's stamp (the rest stamp what is around it).
TABLE_STAMP_WIDTH = 5


@functools.cache
def plan_page_statement():
    """The plan (with its partnership) and the plan page's stamps, for the bound `plan_id`, in one statement:
    rows of (Plan, *stamp). The first TABLE_STAMP_WIDTH stamp values are the table's (those of plan_stamp:
    its actions, the names counter), the rest stamp the rest of the page. Built once, so its cache key is
    worked out once.

    The rest: the filter form's officers (memberships) and organisations, the indicators section and the
    risks section. Each ORM change to those rows moves the extras counter (tracker.plans.stamps); count and
    max(id) also see organisations added with Core statements (the import); the actions the plan's risks rest
    on are stamped as the table's actions are (their RAG makes a risk's flag)."""
    from tracker.auth.models import Membership
    from tracker.partnerships.models import Organisation
    from tracker.plans.stamps import EXTRAS_ID, counter_column
    from tracker.risks.models import risk_actions, risk_plans

    def scalar(column, where):
        return select(column).where(where).correlate(Plan).scalar_subquery()

    plan_id = bindparam("plan_id")
    # The plan's actions read once (ix_actions_plan_stamp), not once per value: an aggregate without GROUP BY
    # is exactly one row, so PostgreSQL's planner counts the subqueries below once (a grouped subquery joined
    # by plan id was estimated at a row per plan, costly enough to set off its JIT compiler on every request).
    actions = (select(func.count(Action.id).label("count"), func.max(Action.id).label("last"),
                      func.sum(Action.version).label("versions"), func.max(Action.updated_at).label("updated"))
               .where(Action.plan_id == plan_id).subquery("plan_actions"))
    # The partnership's organisations and memberships read once each too, count and max(id) in one scan of
    # their partnership index (two scalar subqueries read each twice, max(id) by a backward scan of the
    # primary key filtering out every other partnership's rows).
    partnership_id = select(Plan.partnership_id).where(Plan.id == plan_id).scalar_subquery()
    organisations = (select(func.count(Organisation.id).label("count"), func.max(Organisation.id).label("last"))
                     .where(Organisation.partnership_id == partnership_id).subquery("plan_organisations"))
    memberships = (select(func.count(Membership.id).label("count"), func.max(Membership.id).label("last"))
                   .where(Membership.partnership_id == partnership_id).subquery("plan_memberships"))
    plan_risks = select(risk_plans.c.risk_id).where(risk_plans.c.plan_id == Plan.id).correlate(Plan)
    linked = select(risk_actions.c.action_id).where(risk_actions.c.risk_id.in_(plan_risks)).correlate(Plan)
    mitigating = aliased(Action)
    in_linked = mitigating.id.in_(linked)
    return (select(
        Plan,
        actions.c.count, actions.c.last, actions.c.versions, actions.c.updated,
        counter_column(),
        counter_column(EXTRAS_ID),
        organisations.c.count, organisations.c.last, memberships.c.count, memberships.c.last,
        scalar(func.count(risk_plans.c.risk_id), risk_plans.c.plan_id == Plan.id),
        scalar(func.count(risk_actions.c.action_id), risk_actions.c.risk_id.in_(plan_risks)),
        scalar(func.sum(mitigating.version), in_linked), scalar(func.max(mitigating.updated_at), in_linked),
    ).select_from(Plan).join(actions, true()).join(organisations, true()).join(memberships, true())
        .options(joinedload(Plan.partnership))
        .where(Plan.id == plan_id))


def plan_with_stamps(plan_id: int):
    """(the plan, the table's stamp, the stamp of the rest of the page), or None when there is no such plan."""
    row = db.session.execute(plan_page_statement(), {"plan_id": plan_id}).first()
    if row is None:
        return None
    values = tuple(row[1:])
    return row[0], values[:TABLE_STAMP_WIDTH], values[TABLE_STAMP_WIDTH:]


def plan_page_stamp(plan_id: int) -> tuple[tuple, tuple]:
    """(the table's stamp, the stamp of the rest of the plan page) in one statement."""
    _, table, rest = plan_with_stamps(plan_id)
    return table, rest


def plan_rows(plan: Plan, filters: PlanFilters, today: dt.date) -> list[ActionRow]:
    """The filtered actions as ActionRows, in three queries whatever their number."""
    plan_action_ids = select(Action.id).where(Action.plan_id == plan.id)
    leads = dict(db.session.execute(select(User.id, User.name).where(
        User.id.in_(select(Action.lead_officer_id).where(Action.plan_id == plan.id)))).all())
    links: dict[int, list[int]] = {}
    for action_id, item_id in db.session.execute(
        select(action_items.c.action_id, action_items.c.item_id).where(action_items.c.action_id.in_(plan_action_ids))
    ):
        links.setdefault(action_id, []).append(item_id)
    rows = []
    for a in db.session.execute(plan_actions_query(plan, filters, today)):
        row = action_row(a, today, lead=leads.get(a.lead_officer_id) or a.lead_text or "None",
                         item_ids=links.get(a.id, []))
        if not filters.rag or row.rag.rag is filters.rag:
            rows.append(row)
    return rows


def plan_page(plan: Plan, filters: PlanFilters, today: dt.date) -> PlanPage:
    """The plan's actions grouped by theme then item; an action under several items sits under the first."""
    themes = framework_outline(plan.framework_id)
    position, numbers = {}, {}
    for t_index, theme in enumerate(themes):
        for i_index, item in enumerate(theme.items):
            position[item.id] = (t_index, i_index)
            numbers[item.id] = item.number
    total = db.session.scalar(select(func.count(Action.id)).where(Action.plan_id == plan.id))
    rows = plan_rows(plan, filters, today)
    theme_groups = [ThemeGroup(theme, [ItemGroup(item) for item in theme.items]) for theme in themes]
    unlinked = ItemGroup(None)
    overall = Counts()
    for row in rows:
        linked = sorted((position[i], i) for i in row.item_ids if i in position)
        if linked:
            (t_index, i_index), _ = linked[0]
            row.also = ", ".join(numbers[i] for _, i in linked[1:])
            theme_group = theme_groups[t_index]
            group = theme_group.items[i_index]
            theme_group.counts.add(row.rag.rag)
        else:
            group = unlinked
        group.rows.append(row)
        group.counts.add(row.rag.rag)
        overall.add(row.rag.rag)
    for theme_group in theme_groups:
        theme_group.items = [g for g in theme_group.items if g.rows]
    result = [g for g in theme_groups if g.items]
    if unlinked.rows:
        result.append(ThemeGroup(None, [unlinked], unlinked.counts))
    return PlanPage(result, overall, len(rows), total)


def _members(partnership_id: int, at_least: Role):
    """(id, name) rows of active users with at least this role in the partnership, by name."""
    roles = [r for r in Role if r.includes(at_least)]
    return db.session.execute(
        select(User.id, User.name).join(Membership).where(Membership.partnership_id == partnership_id,
                                                          Membership.role.in_(roles), User.active.is_(True))
        .order_by(User.name)
    ).all()


def partnership_officers(partnership_id: int) -> list:
    """Who may lead actions in a partnership (lead officer or above): (id, name) rows."""
    return list(_members(partnership_id, Role.LEAD_OFFICER))


def partnership_managers(partnership_id: int) -> list:
    return list(_members(partnership_id, Role.PLAN_MANAGER))


def partnership_organisations(partnership_id: int) -> list:
    """(id, name) rows, by name."""
    return list(db.session.execute(
        select(Organisation.id, Organisation.name).where(Organisation.partnership_id == partnership_id)
        .order_by(Organisation.name)
    ))


def usable_frameworks(partnership_id: int) -> list[Framework]:
    """National frameworks and the partnership's own."""
    return list(db.session.scalars(
        select(Framework).where(or_(Framework.partnership_id.is_(None), Framework.partnership_id == partnership_id))
        .order_by(Framework.name)
    ))


# --------------------------------------------------------------------------- Action page
def current_ratings(action: Action) -> dict[int, Rating]:
    """Each linked item's rating in the latest agreed (or submitted) self-evaluation of the plan's partnership."""
    item_ids = [item.id for item in action.items]
    if not item_ids:
        return {}
    plan = action.plan
    ratings = db.session.scalars(
        select(Rating).join(SelfEvaluationRound)
        .where(SelfEvaluationRound.partnership_id == plan.partnership_id,
               SelfEvaluationRound.framework_id == plan.framework_id,
               SelfEvaluationRound.status.in_([s.value for s in SHARED_STATUSES]),
               Rating.item_id.in_(item_ids))
        .options(joinedload(Rating.round).joinedload(SelfEvaluationRound.framework))
        .order_by(SelfEvaluationRound.completed_on.desc().nulls_last(), SelfEvaluationRound.created_at.desc(),
                  SelfEvaluationRound.id.desc())
    )
    found: dict[int, Rating] = {}
    for rating in ratings:
        found.setdefault(rating.item_id, rating)
    return found


@dataclass
class Change:
    field: str
    before: str
    after: str


@dataclass
class TimelineEntry:
    at: dt.datetime
    who: str
    what: str
    changes: list[Change]
    update: ProgressUpdate | None = None


FIELD_LABELS = {
    "ref": "Reference",
    "text": "Action",
    "lead_officer_id": "Lead officer",
    "lead_text": "Lead (as written)",
    "timescale_text": "Timescale",
    "due_end": "Due",
    "status": "Status",
    "items": "Linked items",
    "organisations": "Lead organisations",
    "superseded_by_id": "Superseded by",
    "name": "Name",
    "kind": "Kind",
    "description": "Description",
    "manager_id": "Manager",
    "framework_id": "Framework",
}

VERB_LABELS = {
    "create": "Created",
    "update": "Edited",
    "progress": "Progress update",
    "reassign": "Re-assigned",
    "import": "Imported",
}


class ValueNames:
    """Turns stored audit values (ids, codes, ISO dates) into words, with one query per kind of id."""

    def __init__(self, events):
        user_ids, action_ids = set(), set()
        for event in events:
            for side in (event.before or {}, event.after or {}):
                if isinstance(side.get("lead_officer_id"), int):
                    user_ids.add(side["lead_officer_id"])
                if isinstance(side.get("manager_id"), int):
                    user_ids.add(side["manager_id"])
                if isinstance(side.get("superseded_by_id"), int):
                    action_ids.add(side["superseded_by_id"])
        self.users = dict(db.session.execute(select(User.id, User.name).where(User.id.in_(user_ids))).all()) \
            if user_ids else {}
        self.actions = dict(db.session.execute(select(Action.id, Action.ref).where(Action.id.in_(action_ids))).all()) \
            if action_ids else {}

    def __call__(self, key: str, value) -> str:
        if value is None or value == "" or value == []:
            return "(none)"
        if key in ("lead_officer_id", "manager_id"):
            return self.users.get(value, f"user {value}")
        if key == "superseded_by_id":
            return self.actions.get(value, f"action {value}")
        if key == "status":
            try:
                return Status(value).label
            except ValueError:
                return str(value)
        if key == "due_end":
            try:
                return long_date(dt.date.fromisoformat(value))
            except (TypeError, ValueError):
                return str(value)
        if isinstance(value, list):
            return ", ".join(str(v) for v in value)
        return str(value)


def describe_changes(event: AuditEvent, names: ValueNames) -> list[Change]:
    before, after = event.before or {}, event.after or {}
    keys = [k for k in after if k in FIELD_LABELS] + [k for k in before if k in FIELD_LABELS and k not in after]
    if event.verb == "create":
        return [Change(FIELD_LABELS[k], "", names(k, after.get(k))) for k in keys if after.get(k) not in (None, "", [])]
    return [Change(FIELD_LABELS[k], names(k, before.get(k)), names(k, after.get(k))) for k in keys]


def action_events(action_id: int) -> list[AuditEvent]:
    return list(db.session.scalars(
        select(AuditEvent).where(AuditEvent.entity_type == "action", AuditEvent.entity_id == action_id)
        .options(joinedload(AuditEvent.user)).order_by(AuditEvent.at, AuditEvent.id)
    ))


def timeline(action: Action) -> list[TimelineEntry]:
    """Progress updates and audited changes, newest first; an update carries the changes it made."""
    updates = list(db.session.scalars(
        select(ProgressUpdate).where(ProgressUpdate.action_id == action.id)
        .options(joinedload(ProgressUpdate.author)).order_by(ProgressUpdate.created_at, ProgressUpdate.id)
    ))
    events = action_events(action.id)
    names = ValueNames(events)
    by_update = {e.after.get("progress_update_id"): e for e in events if e.verb == "progress" and e.after}
    entries = []
    for update in updates:
        event = by_update.get(update.id)
        entries.append(TimelineEntry(
            at=update.created_at, who=update.author.name if update.author else "System",
            what="Progress update", changes=describe_changes(event, names) if event else [], update=update))
    for event in events:
        if event.verb == "progress" and event.after and event.after.get("progress_update_id") in by_update:
            continue
        entries.append(TimelineEntry(
            at=event.at, who=event.user.name if event.user else "System",
            what=event.summary or VERB_LABELS.get(event.verb, event.verb.capitalize()),
            changes=describe_changes(event, names)))
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries


def plan_audit_events(plan: Plan) -> list[AuditEvent]:
    """Every audit event of a plan and its actions, oldest first, with who and the action's ref loaded."""
    return list(db.session.scalars(
        select(AuditEvent).where(AuditEvent.plan_id == plan.id)
        .options(joinedload(AuditEvent.user)).order_by(AuditEvent.at, AuditEvent.id)
    ))


def action_refs(plan: Plan) -> dict[int, str]:
    return dict(db.session.execute(select(Action.id, Action.ref).where(Action.plan_id == plan.id)).all())

