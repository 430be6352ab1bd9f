"""Reading risk registers: rows with their scores and flags, in a fixed number of queries whatever their number.

`flagged_risks_for(user)` is for the manager's home page: the live risks the user manages or owns whose residual
score rests on mitigating actions that are overdue or at risk.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import false, or_, select
from sqlalchemy.orm import joinedload, selectinload

from tracker.auth.models import User
from tracker.auth.permissions import manageable_partnerships, visible_partnership_ids
from tracker.extensions import db
from tracker.plans.models import Action, Plan
from tracker.rag import RagResult, Status
from tracker.risks import scoring
from tracker.risks.models import Risk, RiskReview, RiskStatus, risk_plans
from tracker.risks.services import latest_reviews, matrices_for
from tracker.text import parse_id
from tracker.timeutil import today as today_


def flag_text(residual: int, results: list[tuple[Status, RagResult]]) -> str | None:
    """'residual 4 assumes 2 actions, 1 overdue' when a mitigating action is overdue or at risk, else None.

    `results` holds each mitigating action's status and RAG; complete and superseded actions count as done."""
    live = [(s, r) for s, r in results if Status(s).is_open]
    overdue = sum(1 for _, r in live if r.days_overdue > 0)
    at_risk = sum(1 for s, r in live if r.days_overdue == 0 and Status(s) is Status.AT_RISK)
    if not overdue and not at_risk:
        return None
    parts = [f"{overdue} overdue"] if overdue else []
    if at_risk:
        parts.append(f"{at_risk} at risk")
    count = len(live)
    return f"residual {residual} assumes {count} action{'s' if count != 1 else ''}, " + ", ".join(parts)


@dataclass
class RiskRow:
    risk: Risk
    review: RiskReview
    matrix: scoring.Matrix
    flag: str | None
    action_rags: list[tuple[Action, RagResult]] = field(default_factory=list)

    @property
    def inherent(self) -> scoring.Score:
        return self.review.inherent

    @property
    def residual(self) -> scoring.Score:
        return self.review.residual

    @property
    def target(self) -> scoring.Score:
        return self.review.target

    @property
    def band(self) -> scoring.Band:
        return self.matrix.band(self.residual.value)

    def band_of(self, score: scoring.Score) -> scoring.Band:
        return self.matrix.band(score.value)


def rows_for(risks: list[Risk], day: dt.date, *, until: dt.datetime | None = None) -> list[RiskRow]:
    """Each risk with its latest review (up to `until`), its matrix, its actions' RAG and its flag.
    The risks must have been loaded with `load_options()` (owner, plans, actions)."""
    reviews = latest_reviews([r.id for r in risks], until=until)
    matrices = matrices_for({r.partnership_id for r in risks})
    rows = []
    for risk in risks:
        review = reviews.get(risk.id)
        if review is None:
            continue  # added after `until`
        rags = [(a, a.rag(day)) for a in risk.actions]
        flag = flag_text(review.residual.value, [(a.status, r) for a, r in rags]) if risk.status.is_live else None
        rows.append(RiskRow(risk, review, matrices[risk.partnership_id], flag, rags))
    return rows


def load_options():
    return (joinedload(Risk.owner), selectinload(Risk.plans), selectinload(Risk.actions))


@dataclass(frozen=True)
class RegisterFilters:
    category: str = ""
    owner_id: int | None = None
    band: str = ""
    flagged: bool = False
    status: str = "live"  # "live" (open and tolerated), "all", or one status

    @classmethod
    def from_args(cls, args) -> RegisterFilters:
        status = args.get("status", "live")
        if status not in ("live", "all", *(s.value for s in RiskStatus)):
            status = "live"
        return cls(category=(args.get("category") or "").strip()[:100], owner_id=parse_id(args.get("owner", "")),
                   band=(args.get("band") or "").strip()[:40], flagged=args.get("flagged") == "1", status=status)

    @property
    def active(self) -> bool:
        return bool(self.category or self.owner_id or self.band or self.flagged or self.status != "live")

    def keep(self, row: RiskRow) -> bool:
        if self.category and self.category.lower() not in (c.lower() for c in row.risk.category_list):
            return False
        if self.owner_id and row.risk.owner_id != self.owner_id:
            return False
        if self.band and row.band.name.lower() != self.band.lower():
            return False
        return not (self.flagged and not row.flag)


def _status_clause(query, status: str):
    if status == "live":
        return query.where(Risk.status != RiskStatus.CLOSED)
    if status != "all":
        return query.where(Risk.status == RiskStatus(status))
    return query


def sort_rows(rows: list[RiskRow]) -> list[RiskRow]:
    """Flagged first, then the highest residual score, then by reference."""
    return sorted(rows, key=lambda r: (r.flag is None, -r.residual.value, r.risk.reference))


def register(*, partnership_id: int | None = None, plan: Plan | None = None,
             filters: RegisterFilters | None = None, day: dt.date | None = None) -> tuple[list[RiskRow], list[RiskRow]]:
    """(the rows shown, every row before filtering) for a partnership's or a plan's register."""
    filters = filters or RegisterFilters()
    day = day or today_()
    query = select(Risk).options(*load_options()).order_by(Risk.reference)
    if plan is not None:
        query = query.join(risk_plans, risk_plans.c.risk_id == Risk.id).where(risk_plans.c.plan_id == plan.id)
    else:
        query = query.where(Risk.partnership_id == partnership_id)
    query = _status_clause(query, filters.status)
    every = sort_rows(rows_for(list(db.session.scalars(query).unique()), day))
    return [r for r in every if filters.keep(r)], every


def plan_summary(plan: Plan, day: dt.date | None = None) -> list[RiskRow]:
    """The plan's live risks for the plan page: flagged first."""
    return register(plan=plan, day=day)[0]


def flagged_risks_for(user: User, day: dt.date | None = None) -> list[RiskRow]:
    """For the manager's home: live, flagged risks in the partnerships the user manages, and those they own
    (in partnerships they still belong to). Each row has `.risk` and `.flag` ("residual 4 assumes 2 actions,
    1 overdue"), flagged by the highest residual score first."""
    if not user.is_authenticated:
        return []
    managed = manageable_partnerships(user)
    visible = visible_partnership_ids(user)
    query = select(Risk).options(*load_options()).where(Risk.status != RiskStatus.CLOSED)
    if managed is not None:
        query = query.where(or_(Risk.partnership_id.in_(managed) if managed else false(),
                                Risk.owner_id == user.id))
        if visible is not None:
            query = query.where(Risk.partnership_id.in_(visible))
    rows = rows_for(list(db.session.scalars(query).unique()), day or today_())
    return sort_rows([r for r in rows if r.flag])


def owners(partnership_id: int) -> list[User]:
    from tracker.auth.models import Membership

    return list(db.session.scalars(select(User).join(Membership).where(
        Membership.partnership_id == partnership_id, User.active.is_(True)).order_by(User.name)))


def partnership_actions(partnership_id: int) -> list[Action]:
    """The partnership's open actions that can mitigate a risk, by plan and reference."""
    return list(db.session.scalars(
        select(Action).join(Plan).where(Plan.partnership_id == partnership_id, Plan.archived_at.is_(None))
        .options(joinedload(Action.plan)).order_by(Plan.name, Action.id)))
