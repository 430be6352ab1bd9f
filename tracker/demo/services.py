"""Load the demo data. Idempotent: every step finds what exists before creating anything.

The documents' text is kept (actions, leads, timescales as written), but the demo's history is dated relative
to the day it is loaded (`demo_dates`), so that it reads as today: the plans were agreed about 18 months ago,
their timescales move by the same number of years, most actions are on track, some slipped (with a reason),
some overdue, some complete, and each committee met about six weeks ago and meets again next month. Everything
dated this way is labelled illustrative.

Feature packages add their own demo data as a step in DEMO_STEPS: "module:function",
a function taking the DemoContext (what the core demo created).
"""
from __future__ import annotations

import datetime as dt
import importlib
import json
import re
from importlib import resources

from flask import current_app
from sqlalchemy import select

from tracker.auth import services as auth_services
from tracker.auth.models import Role, User
from tracker.committees.models import Committee, CommitteeKind, CommitteeMember, Meeting
from tracker.extensions import db
from tracker.frameworks import services as frameworks
from tracker.frameworks.models import Framework
from tracker.partnerships.models import Organisation, OrganisationAlias, OrganisationKind, Partnership
from tracker.plans import services as plans
from tracker.plans.models import Action, Plan, PlanKind
from tracker.rag import Status
from tracker.selfeval.models import Rating, RoundStatus, SelfEvaluationRound
from tracker import timeutil
from tracker.timeutil import LONDON

GLASGOW = "Glasgow City"
DUNDEE = "Dundee"
GLASGOW_PLAN = "MSG improvement action plan 2019"
DUNDEE_PLAN = "A Caring Dundee 2: Carers Delivery Plan 2022"
DUNDEE_FRAMEWORK = "dundee-caring-dundee-2"
#: When the documents were agreed (the IJB approved the delivery plan in report DIJB72-2022). The demo does
#: not use these dates: it moves the history to `demo_dates(today)`.
DUNDEE_PLAN_AGREED = dt.datetime(2022, 10, 26, 10, 0, tzinfo=LONDON)
GLASGOW_PLAN_AGREED = dt.datetime(2019, 6, 26, 10, 0, tzinfo=LONDON)
#: How long ago the demo's plans were agreed.
AGREED_MONTHS_AGO = 18
ILLUSTRATIVE = "Illustrative demo data: dates are set relative to the day the demo was loaded."


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day of the month `months` earlier (the month's last day when it is shorter)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def next_wednesday(day: dt.date) -> dt.date:
    return day + dt.timedelta(days=(2 - day.weekday()) % 7)


def shift_years(text: str, years: int) -> str:
    """'March 2023' moved by 3 years -> 'March 2026'; '2022/23' -> '2025/26'; text without a year unchanged."""
    if not years:
        return text

    def move(match: re.Match) -> str:
        first = int(match.group(1)) + years
        if match.group(2):
            return f"{first}/{(int(match.group(2)) + years) % 100:02d}"
        return str(first)

    return re.sub(r"\b((?:19|20)\d{2})(?:/(\d{2}))?\b", move, text)


class DemoDates:
    """The demo's calendar, relative to `today`."""

    def __init__(self, today: dt.date) -> None:
        self.today = today
        self.agreed_on = months_before(today, AGREED_MONTHS_AGO)
        self.last_meeting = next_wednesday(today - dt.timedelta(days=45))
        self.next_meeting = next_wednesday(months_before(today, -1).replace(day=8))

    def at(self, day: dt.date, hour: int = 10) -> dt.datetime:
        return dt.datetime(day.year, day.month, day.day, hour, 0, tzinfo=LONDON)

    @property
    def agreed(self) -> dt.datetime:
        return self.at(self.agreed_on)

    def years_since(self, document_agreed: dt.datetime) -> int:
        """Whole years from the document's agreement to the demo's, to move its timescales by."""
        months = (self.agreed_on.year - document_agreed.year) * 12 + self.agreed_on.month - document_agreed.month
        return round(months / 12)

    def future_timescale(self, index: int) -> str:
        """A revised timescale 4 to 12 months ahead ('June 2027'), spread by index."""
        day = months_before(self.today, -(4 + index % 9))
        return f"{day:%B %Y}"


def demo_dates(today: dt.date | None = None) -> DemoDates:
    return DemoDates(today or timeutil.today())

#: (email, name, job title, {partnership: role}, site admin)
DEMO_USERS = [
    ("admin@demo.scot", "Alex Administrator", "System administrator", {}, True),
    ("manager@demo.scot", "Morag Manager", "Planning officer", {GLASGOW: Role.PLAN_MANAGER, DUNDEE: Role.PLAN_MANAGER}, False),
    ("officer@demo.scot", "Owen Officer", "Service manager", {GLASGOW: Role.LEAD_OFFICER, DUNDEE: Role.LEAD_OFFICER}, False),
    ("viewer@demo.scot", "Vera Viewer", "IJB voting member", {GLASGOW: Role.VIEWER, DUNDEE: Role.VIEWER}, False),
    ("carer.rep@demo.scot", "Cara Carer", "Carer representative", {DUNDEE: Role.VIEWER}, False),
    ("national@demo.scot", "Nina National", "National improvement adviser", {GLASGOW: Role.VIEWER, DUNDEE: Role.VIEWER}, False),
    ("glasgow.officer@demo.scot", "Graham Lead", "Business development manager", {GLASGOW: Role.LEAD_OFFICER}, False),
    ("dundee.officer@demo.scot", "Dana Lead", "Carers lead officer", {DUNDEE: Role.LEAD_OFFICER}, False),
]

#: Extra demo steps from feature packages, "module:function", run in order after the core demo.
DEMO_STEPS: list[str] = [
    "tracker.admin.demo:load_demo_admin",
    "tracker.selfeval.demo:load_demo_selfeval",
    "tracker.indicators.demo:load_demo_indicators",
    "tracker.workbooks.demo:load_demo_workbooks",
    "tracker.risks.demo:load_demo_risks",
    "tracker.scrutiny.demo:load_demo_audit",
]


class DemoContext:
    """What the core demo created, for feature packages to build on."""

    def __init__(self) -> None:
        self.partnerships: dict[str, Partnership] = {}
        self.users: dict[str, User] = {}
        self.plans: dict[str, Plan] = {}
        self.rounds: dict[str, SelfEvaluationRound] = {}
        self.dates: DemoDates = demo_dates()


def data(name: str) -> dict:
    return json.loads(resources.files("tracker.demo").joinpath(f"data/{name}.json").read_text("utf-8"))


def normalise_text(text: str) -> str:
    """For spotting the same action written under several proposals."""
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s]", "", text.lower())).strip()


def _partnership(name: str, full_name: str | None = None) -> Partnership:
    partnership = db.session.scalar(select(Partnership).where(Partnership.name == name))
    if partnership is None:
        partnership = Partnership(name=name, full_name=full_name)
        db.session.add(partnership)
        db.session.flush()
    return partnership


def _users(ctx: DemoContext) -> None:
    password = current_app.config["DEMO_PASSWORD"]
    for email, name, title, roles, admin in DEMO_USERS:
        user = auth_services.find_by_email(email)
        if user is None:
            user = auth_services.create_user(
                email=email, name=name, job_title=title, password=password, is_admin=admin,
                memberships={ctx.partnerships[p].id: role for p, role in roles.items()},
            )
        ctx.users[email] = user


def _glasgow(ctx: DemoContext) -> None:
    dates = ctx.dates
    shift = dates.years_since(GLASGOW_PLAN_AGREED)
    source = data("glasgow_2019")
    partnership = ctx.partnerships[GLASGOW]
    msg = frameworks.msg_framework() or frameworks.load_msg()
    items = frameworks.items_by_number(msg)
    plan = db.session.scalar(select(Plan).where(Plan.partnership_id == partnership.id, Plan.name == GLASGOW_PLAN))
    if plan is None:
        plan = plans.create_plan(partnership_id=partnership.id, framework_id=msg.id, name=GLASGOW_PLAN,
                                 kind=PlanKind.ACTION_PLAN, manager_id=ctx.users["manager@demo.scot"].id,
                                 description="Improvement actions from the 2019 MSG self-evaluation of integration. "
                                             + ILLUSTRATIVE)
        leads = [ctx.users["glasgow.officer@demo.scot"], ctx.users["officer@demo.scot"]]
        by_text: dict[str, Action] = {}
        for proposal in source["proposals"]:
            for index, text in enumerate(proposal["actions"], start=1):
                key = normalise_text(text)
                if key in by_text:
                    by_text[key].items.append(items[proposal["number"]])
                    continue
                lead = leads[len(by_text) % 2]
                by_text[key] = plans.create_action(
                    plan=plan, text=text, ref=f"{proposal['number']}.{index}",
                    timescale=shift_years("March 2020", shift), status=Status.ON_TRACK, lead_officer_id=lead.id,
                    items=[items[proposal["number"]]], at=dates.agreed,
                )
        for number, action in enumerate(by_text.values()):
            _history(action, number, dates, ctx.users["manager@demo.scot"].id)
    ctx.plans[GLASGOW] = plan

    round_ = db.session.scalar(select(SelfEvaluationRound).where(
        SelfEvaluationRound.partnership_id == partnership.id, SelfEvaluationRound.title == "MSG self-evaluation 2019"))
    if round_ is None:
        round_ = SelfEvaluationRound(
            partnership_id=partnership.id, framework_id=msg.id, title="MSG self-evaluation 2019",
            completed_on=dt.date.fromisoformat(source["completed_on"]), agreed_at=source["agreed_at"],
            contact=source["contact"], status=RoundStatus.AGREED,
        )
        db.session.add(round_)
        for proposal in source["proposals"]:
            level = msg.levels.index(proposal["rating"]) if proposal["rating"] else None
            round_.ratings.append(Rating(
                item=items[proposal["number"]], level=level,
                evidence="\n".join(proposal["evidence"]),
                proposed_actions="\n".join(proposal["actions"]),
            ))
        db.session.flush()
    ctx.rounds[GLASGOW] = round_


def _dundee_framework(source: dict) -> Framework:
    definition = {
        "code": DUNDEE_FRAMEWORK,
        "name": "A Caring Dundee 2: carers strategy outcomes",
        "levels": [],
        "theme_label": "Strategic outcome",
        "item_label": "Priority area",
        "themes": [
            {"number": o["number"], "title": o["title"], "description": o.get("description"),
             "items": [{"number": pa["number"], "title": pa["title"], "descriptors": []}
                       for pa in o["priority_areas"]]}
            for o in source["outcomes"]
        ],
    }
    return frameworks.load_framework(definition, partnership_id=db.session.scalar(
        select(Partnership.id).where(Partnership.name == DUNDEE)))


def _dundee_status(index: int, timescale: str) -> Status:
    """A plausible spread of statuses for the demo (deterministic)."""
    lowered = timescale.lower()
    if "ongoing" in lowered:
        return Status.ONGOING
    return [Status.ON_TRACK, Status.COMPLETE, Status.ON_TRACK, Status.AT_RISK, Status.NOT_STARTED,
            Status.COMPLETE, Status.ON_TRACK][index % 7]


def _dundee(ctx: DemoContext) -> None:
    dates = ctx.dates
    shift = dates.years_since(DUNDEE_PLAN_AGREED)
    source = data("dundee_carers_2022")
    partnership = ctx.partnerships[DUNDEE]
    organisations: dict[str, Organisation] = {}
    for org in source["organisations"]:
        found = db.session.scalar(select(Organisation).where(
            Organisation.partnership_id == partnership.id, Organisation.name == org["name"]))
        if found is None:
            found = Organisation(partnership_id=partnership.id, name=org["name"], kind=OrganisationKind(org["kind"]))
            db.session.add(found)
        organisations[org["name"]] = found
    db.session.flush()
    for alias, canonical in source["organisation_aliases"].items():
        exists = db.session.scalar(select(OrganisationAlias).where(
            OrganisationAlias.partnership_id == partnership.id, OrganisationAlias.alias == alias))
        if exists is None:
            db.session.add(OrganisationAlias(partnership_id=partnership.id, alias=alias,
                                             organisation_id=organisations[canonical].id))
    framework = _dundee_framework(source)
    items = frameworks.items_by_number(framework)
    plan = db.session.scalar(select(Plan).where(Plan.partnership_id == partnership.id, Plan.name == DUNDEE_PLAN))
    if plan is None:
        plan = plans.create_plan(partnership_id=partnership.id, framework_id=framework.id, name=DUNDEE_PLAN,
                                 kind=PlanKind.DELIVERY_PLAN, manager_id=ctx.users["manager@demo.scot"].id,
                                 description="Key actions agreed by the Dundee Carers Partnership to deliver "
                                             "A Caring Dundee 2 (IJB report DIJB72-2022). " + ILLUSTRATIVE)
        officer, other = ctx.users["officer@demo.scot"], ctx.users["dundee.officer@demo.scot"]
        index = 0
        for outcome in source["outcomes"]:
            for area in outcome["priority_areas"]:
                for row in area["actions"]:
                    lead = officer if "Dundee Health and Social Care Partnership" in row["lead_organisations"] else other
                    action = plans.create_action(
                        plan=plan, text=row["text"], ref=row["ref"], timescale=shift_years(row["timescale"], shift),
                        status=Status.NOT_STARTED,
                        lead_officer_id=lead.id if index % 9 != 8 else None, lead_text=row["lead"],
                        items=[items[area["number"]]],
                        organisations=[organisations[name] for name in row["lead_organisations"]],
                        at=dates.agreed,
                    )
                    _history(action, index, dates, ctx.users["manager@demo.scot"].id,
                             status=_dundee_status(index, row["timescale"]))
                    index += 1
    ctx.plans[DUNDEE] = plan


def _narrative(status: Status) -> str:
    return "Illustrative: " + {
        Status.ON_TRACK: "work is progressing as planned; reported to the partnership's group.",
        Status.COMPLETE: "completed and reported to the partnership's group.",
        Status.AT_RISK: "delayed by recruitment to a key post; timescale under review.",
        Status.ONGOING: "continuing activity; reviewed at each meeting.",
    }.get(status, "update recorded.")


def _history(action: Action, index: int, dates: DemoDates, manager_id: int, status: Status | None = None) -> None:
    """An illustrative history for one action, dated relative to today (deterministic by index).

    A first update three to eight months after the plan was agreed; then, for actions still open: those whose
    date has passed mostly slipped to a date 4 to 12 months ahead with a reason (one in four stays overdue and
    at risk), and a recent update (within the last two months) before the next meeting.
    """
    status = status or [Status.ON_TRACK, Status.ON_TRACK, Status.COMPLETE, Status.ON_TRACK, Status.AT_RISK,
                        Status.ON_TRACK, Status.NOT_STARTED, Status.ON_TRACK][index % 8]
    author = action.lead_officer_id or manager_id
    if status is Status.NOT_STARTED:
        if action.due_end is not None and action.due_end < dates.today:
            plans.record_progress(
                action, author_id=author, status=status, narrative=_narrative(status),
                at=dates.at(dates.today - dt.timedelta(days=10 + index % 30)),
                revised_timescale=dates.future_timescale(index),
                revision_reason="Illustrative: the work waits for another action to finish first.")
        return
    first = dates.agreed + dt.timedelta(days=90 + (index * 13) % 150)
    plans.record_progress(action, author_id=author, status=Status.ON_TRACK if status is not Status.ONGOING
                          else status, narrative=_narrative(Status.ON_TRACK), at=first)
    recent = dates.at(dates.today - dt.timedelta(days=5 + (index * 7) % 50))
    if status is Status.COMPLETE:
        done = dates.at(dates.today - dt.timedelta(days=20 + (index * 11) % 200))
        plans.record_progress(action, author_id=author, status=Status.COMPLETE, narrative=_narrative(status),
                              at=max(done, first + dt.timedelta(days=1)))
        return
    overdue = action.due_end is not None and action.due_end < dates.today
    if overdue and index % 4 != 3:
        plans.record_progress(
            action, author_id=author, status=Status.ON_TRACK if status is not Status.AT_RISK else Status.AT_RISK,
            narrative=_narrative(status), at=recent,
            revised_timescale=dates.future_timescale(index),
            revision_reason="Illustrative: the work depends on a post that was filled later than planned.",
        )
        return
    if overdue:
        status = Status.AT_RISK
    plans.record_progress(action, author_id=author, status=status, narrative=_narrative(status), at=recent)


def _committees(ctx: DemoContext) -> None:
    """Each committee met about six weeks ago and meets next month (and again three months later)."""
    last, upcoming = ctx.dates.last_meeting, ctx.dates.next_meeting

    def week(day: dt.date, weeks: int) -> dt.date:
        return day + dt.timedelta(weeks=weeks)

    wanted = [
        (DUNDEE, "Performance and Audit Committee", CommitteeKind.PAC,
         [week(last, 1), week(upcoming, 2), week(upcoming, 15)]),
        (DUNDEE, "Strategic Planning Advisory Group", CommitteeKind.SPG,
         [week(last, -1), week(upcoming, 1), week(upcoming, 14)]),
        (DUNDEE, "Dundee Carers Partnership", CommitteeKind.CARERS_PARTNERSHIP, [last, upcoming]),
        (GLASGOW, "Glasgow City IJB", CommitteeKind.IJB, [last, week(upcoming, 2)]),
    ]
    for partnership_name, name, kind, dates in wanted:
        partnership = ctx.partnerships[partnership_name]
        committee = db.session.scalar(select(Committee).where(
            Committee.partnership_id == partnership.id, Committee.name == name))
        if committee is not None:
            continue
        committee = Committee(partnership_id=partnership.id, name=name, kind=kind)
        committee.plans.append(ctx.plans[partnership_name])
        committee.members.append(CommitteeMember(user=ctx.users["viewer@demo.scot"], role_label="Voting member"))
        if partnership_name == DUNDEE:
            committee.members.append(CommitteeMember(user=ctx.users["carer.rep@demo.scot"],
                                                     role_label="Carer representative"))
        for held_on in dates:
            committee.meetings.append(Meeting(held_on=held_on, title=f"{name} {held_on:%B %Y}"))
        db.session.add(committee)
    db.session.flush()


def load_demo(today: dt.date | None = None) -> DemoContext:
    """Load all demo data, dated relative to `today` (default: today); flushes, the caller commits."""
    ctx = DemoContext()
    ctx.dates = demo_dates(today)
    frameworks.msg_framework() or frameworks.load_msg()
    ctx.partnerships[GLASGOW] = _partnership(GLASGOW, "Glasgow City Health and Social Care Partnership")
    ctx.partnerships[DUNDEE] = _partnership(DUNDEE, "Dundee Health and Social Care Partnership")
    _users(ctx)
    _glasgow(ctx)
    _dundee(ctx)
    _committees(ctx)
    for spec in DEMO_STEPS:
        module_path, function = spec.split(":")
        getattr(importlib.import_module(module_path), function)(ctx)
    db.session.flush()
    return ctx
