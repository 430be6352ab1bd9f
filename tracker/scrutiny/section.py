"""The audit recommendations section of a committee's papers (tracker.papers.sections)."""
from __future__ import annotations

import datetime as dt
from collections import Counter

from sqlalchemy import or_, select

from tracker.papers.sections import Chart, Section
from tracker.plans.models import Action
from tracker.scrutiny import rules, services
from tracker.scrutiny.models import AuditReport, Recommendation, recommendation_actions
from tracker.timeutil import long_date

COLUMNS = ("Report", "Reference", "Grade", "Recommendation", "Lead officer", "Agreed date", "Current date",
           "Revisions", "Status")
WIDTHS = (30, 10, 12, 60, 24, 16, 16, 14, 28)


def _recommendations(session, plan) -> list[Recommendation]:
    """The plan's recommendations: those of reports tracked in the plan, or implemented by one of its actions."""
    in_plan = select(recommendation_actions.c.recommendation_id).join(
        Action, Action.id == recommendation_actions.c.action_id).where(Action.plan_id == plan.id)
    return list(session.scalars(
        select(Recommendation).join(AuditReport)
        .where(or_(AuditReport.plan_id == plan.id, Recommendation.id.in_(in_plan)))
        .order_by(AuditReport.issued_on, AuditReport.id, Recommendation.id)))


def _date(value: dt.date | None) -> str:
    return long_date(value) if value else "Not given"


def audit_section(session, plan, as_at: dt.date) -> Section | None:
    """Every audit recommendation of the plan: grade, dates, revisions and status; overdue ones, those revised
    more than twice and those awaiting verification are flagged and summarised."""
    recs = [r for r in _recommendations(session, plan) if r.report.issued_on <= as_at]
    if not recs:
        return None
    found = services.rows(recs, as_at)
    flagged = tuple(i for i, row in enumerate(found)
                    if row.overdue or row.revisions > 2 or row.status is rules.RecStatus.AWAITING)
    table = tuple(
        (row.rec.report.title, row.rec.ref, row.grade, row.rec.text, row.leads, _date(row.agreed),
         _date(row.current), rules.revisions_label(row.revisions),
         row.status.label + (" (overdue)" if row.overdue else ""))
        for row in found)
    states = Counter(row.status for row in found)
    overdue = sum(row.overdue for row in found)
    revised = sum(row.revisions > 2 for row in found)
    total = len(found)
    summary = (
        f"{total} audit recommendation{'s' if total != 1 else ''}: {states[rules.RecStatus.OPEN]} open "
        f"({overdue} overdue), {states[rules.RecStatus.AWAITING]} closed by management and awaiting "
        f"verification, {states[rules.RecStatus.VERIFIED]} verified by audit.",
        f"{revised} recommendation{'s have' if revised != 1 else ' has'} had {'their' if revised != 1 else 'its'} "
        "date revised more than twice.",
    )
    grades = Counter(row.grade for row in found)
    text = list(summary)
    for row in found:
        if row.overdue:
            text.append(f"{row.rec.ref} ({row.rec.report.title}, {row.grade}) is overdue: due "
                        f"{_date(row.current)}, {rules.revisions_label(row.revisions).lower()}.")
    order = [s for s in rules.RecStatus]
    chart = Chart(title="Audit recommendations by status", labels=tuple(s.short for s in order),
                  values=tuple(states[s] for s in order), colours=("amber", "blue", "green"),
                  alt_text="; ".join(f"{s.short}: {states[s]}" for s in order))
    by_grade = Chart(title="Audit recommendations by grade", labels=tuple(grades), values=tuple(grades.values()),
                     colours=tuple("grey" for _ in grades), alt_text="; ".join(f"{g}: {n}" for g, n in grades.items()))
    return Section(key="audit", title="Audit recommendations", columns=COLUMNS, rows=table, summary=summary,
                   report_heading="Audit recommendations", report_text=tuple(text), charts=(chart, by_grade),
                   widths=WIDTHS, flagged_rows=flagged)
