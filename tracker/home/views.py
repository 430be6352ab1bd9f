"""Each role's home ("/"), and the "What changed" pages for a plan and a committee."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from tracker.committees.models import Meeting, committee_plans
from tracker.committees.permissions import can_view_committee
from tracker.committees.models import Committee
from tracker.extensions import db
from tracker.home import changes as changes_module
from tracker.home import queries, wording
from tracker.home.charts import rag_chart
from tracker.plans.models import Plan
from tracker.plans.permissions import plan_or_404
from tracker.text import in_id_range
from tracker.rag import Rag
from tracker.timeutil import LONDON, as_utc, long_date, today

bp = Blueprint("home", __name__)
bp.app_template_global("rag_reason")(wording.rag_reason)
bp.app_template_global("rag_hint")(wording.rag_hint)

#: The earliest date "What changed" looks back to.
EARLIEST = dt.date(2000, 1, 1)


@bp.route("/")
@login_required
def index():
    page = queries.home(current_user, today())
    chart = None
    if page.national:
        chart = rag_chart([(p.name, p.tally.summary()) for p in page.national], "RAG of actions by partnership")
    return render_template("home/index.html", home=page, chart=chart, today=today(), Rag=Rag, clock=clock)


def clock(value: dt.datetime | None) -> str:
    """'14:05', UK time."""
    return as_utc(value).astimezone(LONDON).strftime("%H:%M") if value else ""


def parse_since(value: str | None, default: dt.date, latest: dt.date) -> tuple[dt.date, str | None]:
    """The ?since= date (YYYY-MM-DD, from a date field) or the default; (date, error message or None)."""
    value = (value or "").strip()
    if not value:
        return default, None
    try:
        chosen = dt.date.fromisoformat(value) if len(value) == 10 else None
    except ValueError:
        chosen = None
    if chosen is None:
        return default, "Enter the date as day, month and year, for example 1 April 2026."
    if not EARLIEST <= chosen <= latest:
        return default, f"Enter a date between {long_date(EARLIEST)} and today, {long_date(latest)}."
    return chosen, None


def _changes_page(*, title: str, plan_ids: list[int], meetings: list[dt.date], breadcrumbs, back_url: str,
                  plan_names: dict[int, str]):
    now = today()
    past = [d for d in meetings if d < now]
    default = past[-1] if past else now - dt.timedelta(days=queries.DEFAULT_LOOKBACK_DAYS)
    since, error = parse_since(request.args.get("since"), default, now)
    actions, updates = changes_module.load_facts(plan_ids)
    found = changes_module.changes_since(actions, updates, since)
    grouped = {kind: [c for c in found if c.kind == kind] for kind in changes_module.KINDS}
    status = 400 if error else 200
    return render_template(
        "home/changes.html", title=title, since=since, default=default, error=error, grouped=grouped,
        counts=changes_module.counts(found), meetings=list(reversed(past))[:8], breadcrumb_items=breadcrumbs,
        back_url=back_url, plan_names=plan_names, show_plan=len(plan_ids) > 1, today=now,
        since_value=request.args.get("since", "")[:40] if error else since.isoformat(),
    ), status


@bp.route("/plans/<int:plan_id>/changes")
@login_required
def plan_changes(plan_id: int):
    plan = plan_or_404(plan_id)
    meetings = list(db.session.scalars(
        select(Meeting.held_on).distinct().join(committee_plans, committee_plans.c.committee_id == Meeting.committee_id)
        .where(committee_plans.c.plan_id == plan.id).order_by(Meeting.held_on)))
    return _changes_page(
        title=f"What changed: {plan.name}", plan_ids=[plan.id], meetings=meetings,
        breadcrumbs=[(url_for("plans.index"), "Plans"), (url_for("plans.plan", plan_id=plan.id), plan.name),
                     (None, "What changed")],
        back_url=url_for("plans.plan", plan_id=plan.id), plan_names={plan.id: plan.name})


@bp.route("/committees/<int:committee_id>/changes")
@login_required
def committee_changes(committee_id: int):
    committee = db.session.get(Committee, committee_id) if in_id_range(committee_id) else None
    if committee is None or not can_view_committee(current_user, committee):
        abort(404)
    plans = {p.id: p.name for p in db.session.execute(
        select(Plan.id, Plan.name).join(committee_plans, committee_plans.c.plan_id == Plan.id)
        .where(committee_plans.c.committee_id == committee.id, Plan.archived_at.is_(None)).order_by(Plan.name))}
    meetings = list(db.session.scalars(
        select(Meeting.held_on).where(Meeting.committee_id == committee.id).order_by(Meeting.held_on)))
    return _changes_page(
        title=f"What changed: {committee.name}", plan_ids=list(plans), meetings=meetings,
        breadcrumbs=[(url_for("committees.index"), "Committees"),
                     (url_for("committees.detail", committee_id=committee.id), committee.name),
                     (None, "What changed")],
        back_url=url_for("committees.detail", committee_id=committee.id), plan_names=plans)
