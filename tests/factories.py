"""Small factories for tests: each creates what it needs and flushes."""
from __future__ import annotations

import datetime as dt
import itertools
from functools import lru_cache

from tracker.auth.models import Membership, Role, User
from tracker.auth.passwords import hash_password
from tracker.extensions import db
from tracker.frameworks import services as frameworks
from tracker.partnerships.models import Organisation, OrganisationKind, Partnership
from tracker.plans import services as plans
from tracker.plans.models import Action, Plan, PlanKind
from tracker.rag import Status

PASSWORD = "correct horse battery staple"
_counter = itertools.count(1)


@lru_cache(maxsize=1)
def password_hash() -> str:
    """Hashing is deliberately slow; hash the test password once."""
    return hash_password(PASSWORD)


def partnership(name: str | None = None) -> Partnership:
    p = Partnership(name=name or f"Partnership {next(_counter)}")
    db.session.add(p)
    db.session.flush()
    return p


def user(partnership: Partnership | None = None, role: Role | None = Role.VIEWER, *, email: str | None = None,
         name: str | None = None, is_admin: bool = False, **roles: Role) -> User:
    n = next(_counter)
    u = User(email=email or f"user{n}@example.scot", name=name or f"User {n}", password_hash=password_hash(),
             is_admin=is_admin)
    if partnership is not None and role is not None:
        u.memberships.append(Membership(partnership_id=partnership.id, role=role))
    db.session.add(u)
    db.session.flush()
    return u


def organisation(partnership: Partnership, name: str | None = None,
                 kind: OrganisationKind = OrganisationKind.OTHER) -> Organisation:
    o = Organisation(partnership_id=partnership.id, name=name or f"Organisation {next(_counter)}", kind=kind)
    db.session.add(o)
    db.session.flush()
    return o


def msg():
    return frameworks.msg_framework() or frameworks.load_msg()


def plan(partnership: Partnership, name: str | None = None, *, manager: User | None = None) -> Plan:
    return plans.create_plan(partnership_id=partnership.id, framework_id=msg().id,
                             name=name or f"Plan {next(_counter)}", kind=PlanKind.ACTION_PLAN,
                             manager_id=manager.id if manager else None)


def action(plan: Plan, *, lead: User | None = None, timescale: str | dt.date | None = "March 2030",
           status: Status = Status.ON_TRACK, text: str | None = None, items=(), ref: str | None = None) -> Action:
    if not items:
        items = [frameworks.items_by_number(msg())["1.1"]]
    return plans.create_action(plan=plan, text=text or f"Action {next(_counter)}", timescale=timescale,
                               status=status, lead_officer_id=lead.id if lead else None, items=items, ref=ref)


def xlsx(title: str, headings, rows) -> bytes:
    """A one-sheet .xlsx as an upload: a title row, a heading row, then the rows."""
    import io

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append([title])
    sheet.append(list(headings))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
