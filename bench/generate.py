"""Realistic synthetic data at national scale: 31 partnerships, 100,000 actions, 500,000 updates.

Rows go in with Core executemany in chunks, so loading is measured on the database,
not on the ORM. Deterministic for a given seed. Later benchmarks reuse the result.
"""
from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import bindparam, func, insert, select, update

from tracker.auth.models import Membership, Role, User
from tracker.auth.passwords import hash_password
from tracker.extensions import db
from tracker.frameworks import services as frameworks
from tracker.partnerships.models import Organisation, OrganisationKind, Partnership
from tracker.plans.models import Action, Plan, PlanKind, ProgressUpdate, action_items, action_organisations
from tracker.rag import Status
from tracker.timescales import interpret

PARTNERSHIPS = [
    "Aberdeen City", "Aberdeenshire", "Angus", "Argyll and Bute", "Clackmannanshire and Stirling",
    "Dumfries and Galloway", "Dundee", "East Ayrshire", "East Dunbartonshire", "East Lothian",
    "East Renfrewshire", "Edinburgh", "Falkirk", "Fife", "Glasgow City", "Highland", "Inverclyde",
    "Midlothian", "Moray", "North Ayrshire", "North Lanarkshire", "Orkney Islands", "Perth and Kinross",
    "Renfrewshire", "Scottish Borders", "Shetland Islands", "South Ayrshire", "South Lanarkshire",
    "West Dunbartonshire", "West Lothian", "Western Isles",
]
PLAN_NAMES = [
    ("MSG improvement action plan", PlanKind.ACTION_PLAN),
    ("Carers strategy delivery plan", PlanKind.DELIVERY_PLAN),
    ("Strategic commissioning plan actions", PlanKind.DELIVERY_PLAN),
    ("Primary care improvement plan", PlanKind.DELIVERY_PLAN),
    ("Internal audit recommendations", PlanKind.ACTION_PLAN),
]
VERBS = ["Develop", "Review", "Agree", "Implement", "Evaluate", "Establish", "Scope", "Strengthen", "Launch",
         "Embed", "Test", "Publish", "Commission", "Align", "Refresh"]
OBJECTS = ["a carer identification pathway", "the reserves policy", "locality engagement forums",
           "the set aside budget arrangements", "adult carer support plan processes", "the workforce plan",
           "directions monitoring arrangements", "short breaks services statement", "the digital inclusion offer",
           "clinical and care governance reporting", "a shared learning programme for partners",
           "the annual performance report benchmarking", "hospital discharge carer involvement",
           "the participation and engagement strategy", "financial planning meetings with S95 officers"]
PURPOSES = ["with carers and third-sector partners", "across health and social care", "in every locality",
            "with the Integration Joint Board", "to meet the Carers (Scotland) Act 2016", "with NHS and council partners",
            "so that papers reach representatives in good time", "and report progress to the committee"]
NARRATIVES = ["Work progressing as planned; reported to the strategic planning group.",
              "Draft circulated to partners for comment.",
              "Delayed by recruitment to a key post; timescale under review.",
              "Workshop held with carers and providers; actions agreed.",
              "Completed and reported to the performance and audit committee.",
              "Awaiting confirmation of funding from the Scottish Government.",
              "Test of change under way in two localities."]
ORG_TEMPLATES = [("{p} Council", OrganisationKind.COUNCIL), ("NHS board ({p})", OrganisationKind.HEALTH_BOARD),
                 ("{p} HSCP", OrganisationKind.HSCP), ("{p} Carers Centre", OrganisationKind.CARERS_CENTRE),
                 ("{p} Third Sector Interface", OrganisationKind.THIRD_SECTOR),
                 ("Carer Involvement Subgroup ({p})", OrganisationKind.SUBGROUP),
                 ("Young Carers Subgroup ({p})", OrganisationKind.SUBGROUP),
                 ("Penumbra ({p})", OrganisationKind.THIRD_SECTOR), ("Lead Scotland ({p})", OrganisationKind.THIRD_SECTOR),
                 ("Alzheimer Scotland ({p})", OrganisationKind.THIRD_SECTOR)]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
SEASONS = ["Spring", "Summer", "Autumn", "Winter"]


def timescale_phrase(rng: random.Random) -> str:
    """A timescale as plans write them, with realistic variety (and repetition)."""
    year = rng.randint(2019, 2028)
    month = rng.randint(1, 12)
    pick = rng.random()
    if pick < 0.30:
        return f"{MONTHS[month - 1]} {year}"
    if pick < 0.38:
        return f"{rng.choice(SEASONS)} {year}"
    if pick < 0.46:
        return f"Q{rng.randint(1, 4)} {year}/{(year + 1) % 100:02d}"
    if pick < 0.52:
        return f"{year}/{(year + 1) % 100:02d}"
    if pick < 0.64:
        day = rng.randint(1, 28)
        return f"{day:02d}/{month:02d}/{year}"
    if pick < 0.70:
        return f"By end of {MONTHS[month - 1]} {year}"
    if pick < 0.74:
        return f"end {MONTHS[month - 1][:4] if month == 9 else MONTHS[month - 1][:3]} {year}"
    if pick < 0.84:
        return rng.choice(["Ongoing", "Ongoing/development work", "In development", "Development work",
                           "Development/improvement activity"])
    if pick < 0.90:
        return rng.choice(["TBC", "", "To be agreed"])
    return f"{year}-{(year + 1) % 100:02d}"


def action_text(rng: random.Random) -> str:
    return f"{rng.choice(VERBS)} {rng.choice(OBJECTS)} {rng.choice(PURPOSES)}."


@dataclass
class Generated:
    partnerships: int
    users: int
    officers: int
    plans: int
    actions: int
    updates: int
    seconds: float
    big_plan_id: int  # a plan with about 2,000 actions, for the plan-page benchmark
    busiest_officer_email: str  # the lead officer with most actions, for My actions
    timings: dict[str, float] = field(default_factory=dict)


def _chunks(rows: list, size: int = 5000):
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


def generate(
    *,
    partnerships: int = 31,
    actions: int = 100_000,
    updates: int = 500_000,
    officers_per_partnership: int = 32,
    big_plan_actions: int = 2_000,
    seed: int = 2026,
    progress: Callable[[str], None] = lambda message: None,
) -> Generated:
    """Fill an empty schema (inside an app context). Returns what was made and how long it took."""
    started = time.perf_counter()
    rng = random.Random(seed)
    timings: dict[str, float] = {}
    msg = frameworks.msg_framework() or frameworks.load_msg()
    msg_items = [item.id for theme in msg.themes for item in theme.items if item.local_completion]
    password = hash_password("bench-password-2026")
    now = dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc)
    names = (PARTNERSHIPS * (partnerships // len(PARTNERSHIPS) + 1))[:partnerships]

    mark = time.perf_counter()
    partnership_ids = []
    for index, name in enumerate(names):
        label = name if index < len(PARTNERSHIPS) else f"{name} {index}"
        partnership_ids.append(db.session.execute(insert(Partnership).values(name=label, created_at=now)
                                                  .returning(Partnership.id)).scalar_one())
    users, memberships, orgs = [], [], []
    officers_by_partnership: dict[int, list[int]] = {}
    user_id = (db.session.scalar(select(func.max(User.id))) or 0)
    for pid, name in zip(partnership_ids, names):
        slug = name.lower().replace(" ", "-")
        roles = [(Role.ADMIN, 1), (Role.PLAN_MANAGER, 2), (Role.LEAD_OFFICER, officers_per_partnership),
                 (Role.VIEWER, 10)]
        for role, count in roles:
            for n in range(count):
                user_id += 1
                users.append({"id": user_id, "email": f"{role.value}{n}@{slug}.bench.scot",
                              "name": f"{role.label.split(' (')[0]} {n} {name}", "password_hash": password,
                              "active": True, "is_admin": False, "session_token": f"bench{user_id}", "created_at": now})
                memberships.append({"user_id": user_id, "partnership_id": pid, "role": role.value})
                if role is Role.LEAD_OFFICER:
                    officers_by_partnership.setdefault(pid, []).append(user_id)
        for template, kind in ORG_TEMPLATES:
            orgs.append({"partnership_id": pid, "name": template.format(p=name), "kind": kind.value,
                         "created_at": now})
    db.session.execute(insert(User), users)
    db.session.execute(insert(Membership), memberships)
    db.session.execute(insert(Organisation), orgs)
    org_ids: dict[int, list[int]] = {}
    for oid, pid in db.session.execute(select(Organisation.id, Organisation.partnership_id)):
        org_ids.setdefault(pid, []).append(oid)
    timings["people and organisations"] = time.perf_counter() - mark
    progress(f"{len(partnership_ids)} partnerships, {len(users)} users")

    # Plans: five per partnership; the first partnership's MSG plan gets exactly big_plan_actions.
    mark = time.perf_counter()
    plan_rows = []
    for pid in partnership_ids:
        for plan_name, kind in PLAN_NAMES:
            plan_rows.append({"partnership_id": pid, "framework_id": msg.id, "name": plan_name, "kind": kind.value,
                              "created_at": now, "manager_id": None})
    db.session.execute(insert(Plan), plan_rows)
    plans_by_partnership: dict[int, list[int]] = {}
    for plan_id, pid in db.session.execute(select(Plan.id, Plan.partnership_id).order_by(Plan.id)):
        plans_by_partnership.setdefault(pid, []).append(plan_id)
    big_plan_id = plans_by_partnership[partnership_ids[0]][0]
    all_plans = [(pid, plan_id) for pid in partnership_ids for plan_id in plans_by_partnership[pid]]

    statuses = [Status.NOT_STARTED, Status.ON_TRACK, Status.ON_TRACK, Status.ON_TRACK, Status.AT_RISK,
                Status.COMPLETE, Status.COMPLETE, Status.ONGOING, Status.SUPERSEDED]
    action_rows, links, org_links = [], [], []
    first_action_id = (db.session.scalar(select(func.max(Action.id))) or 0) + 1
    counters: dict[int, int] = {}
    for n in range(actions):
        if n < big_plan_actions:
            pid, plan_id = partnership_ids[0], big_plan_id
        else:
            pid, plan_id = all_plans[rng.randrange(len(all_plans))]
            if plan_id == big_plan_id:
                pid, plan_id = all_plans[-1]
        counters[plan_id] = counters.get(plan_id, 0) + 1
        phrase = timescale_phrase(rng)
        timescale = interpret(phrase)
        created = now - dt.timedelta(days=rng.randint(30, 2400))
        officers = officers_by_partnership[pid]
        action_rows.append({
            "id": first_action_id + n, "plan_id": plan_id, "ref": f"A{counters[plan_id]}", "text": action_text(rng),
            "lead_officer_id": officers[rng.randrange(len(officers))] if rng.random() > 0.04 else None,
            "lead_text": None, "timescale_text": timescale.text, "timescale_kind": timescale.kind,
            "due_start": timescale.start, "due_end": timescale.end, "status": rng.choice(statuses).value,
            "created_at": created, "updated_at": created, "last_update_at": None, "version": 1,
        })
        for item_id in rng.sample(msg_items, rng.choice([1, 1, 1, 2, 3])):
            links.append({"action_id": first_action_id + n, "item_id": item_id})
        for org_id in rng.sample(org_ids[pid], rng.choice([1, 1, 2])):
            org_links.append({"action_id": first_action_id + n, "organisation_id": org_id})
    for chunk in _chunks(action_rows):
        db.session.execute(insert(Action), chunk)
    for chunk in _chunks(links):
        db.session.execute(insert(action_items), chunk)
    for chunk in _chunks(org_links):
        db.session.execute(insert(action_organisations), chunk)
    timings["actions"] = time.perf_counter() - mark
    progress(f"{actions} actions")

    mark = time.perf_counter()
    update_rows = []
    last_update: dict[int, dt.datetime] = {}
    per_action = updates / max(actions, 1)
    for n in range(updates):
        row = action_rows[min(int(n / per_action), actions - 1)]
        at = row["created_at"] + dt.timedelta(days=7 + (n % 40) * 21)
        if at > now:
            at = now - dt.timedelta(days=rng.randint(1, 200))
        update_rows.append({"action_id": row["id"], "author_id": row["lead_officer_id"], "created_at": at,
                            "status": row["status"], "narrative": NARRATIVES[n % len(NARRATIVES)]})
        if at > last_update.get(row["id"], at - dt.timedelta(days=1)):
            last_update[row["id"]] = at
        if len(update_rows) == 20_000:
            db.session.execute(insert(ProgressUpdate), update_rows)
            update_rows = []
            if n % 100_000 == 99_999:
                progress(f"{n + 1} progress updates")
    if update_rows:
        db.session.execute(insert(ProgressUpdate), update_rows)
    # Keep the denormalised last-update time in step, in bulk.
    stamps = [{"b_id": action_id, "b_at": at} for action_id, at in last_update.items()]
    table = Action.__table__
    statement = update(table).where(table.c.id == bindparam("b_id")).values(last_update_at=bindparam("b_at"))
    for chunk in _chunks(stamps, 10_000):
        db.session.connection().execute(statement, chunk)
    timings["progress updates"] = time.perf_counter() - mark
    db.session.commit()

    busiest = db.session.execute(
        select(User.email, func.count(Action.id)).join(Action, Action.lead_officer_id == User.id)
        .group_by(User.email).order_by(func.count(Action.id).desc()).limit(1)
    ).first()
    return Generated(
        partnerships=len(partnership_ids), users=len(users),
        officers=sum(len(v) for v in officers_by_partnership.values()), plans=len(plan_rows), actions=actions,
        updates=updates, seconds=time.perf_counter() - started, big_plan_id=big_plan_id,
        busiest_officer_email=busiest[0] if busiest else "", timings=timings,
    )

