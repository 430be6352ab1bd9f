"""The Risks section of a committee's papers (tracker.papers.sections): pure data, text only.

`risk_section(session, plan, as_at)` lists the plan's risks as they stood at the end of `as_at` (each risk's
latest review by then): flagged first, inherent, residual and target levels, movement since the last quarter
(the residual score at the start of the financial quarter `as_at` falls in), two charts (residual and inherent
scores by band), and the covering report's "Risk assessment" paragraphs in the Dundee report's words.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter

from sqlalchemy import select

from tracker.papers.sections import Chart, Section
from tracker.periods import Period
from tracker.risks import queries, scoring
from tracker.risks.models import Risk, RiskReview, RiskStatus, risk_plans
from tracker.timeutil import LONDON, long_date

COLUMNS = ("Ref", "Risk", "Categories", "Owner", "Status", "Inherent", "Residual", "Target",
           "Movement since last quarter", "Mitigating actions", "Flag")
WIDTHS = (10, 45, 18, 20, 11, 16, 16, 16, 18, 40, 36)


def _end_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=LONDON).astimezone(dt.timezone.utc)


def _start_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=LONDON).astimezone(dt.timezone.utc)


def text(value) -> str:
    """Every cell is text (a number as its words); the builders write text cells, with Excel's quotePrefix for
    text a spreadsheet would run (tracker.cells)."""
    return "" if value is None else str(value)


def _level(score: scoring.Score, matrix: scoring.Matrix) -> str:
    return (f"Likelihood {score.likelihood} x Impact {score.impact} = Risk Scoring {score.value} "
            f"({matrix.band(score.value).name})")


def risk_section(session, plan, as_at: dt.date) -> Section | None:
    risks = list(session.scalars(
        select(Risk).join(risk_plans, risk_plans.c.risk_id == Risk.id).where(risk_plans.c.plan_id == plan.id)
        .options(*queries.load_options()).order_by(Risk.reference)).unique())
    if not risks:
        return None
    rows = [r for r in queries.rows_for(risks, as_at, until=_end_of(as_at)) if r.review.status is not RiskStatus.CLOSED]
    quarter_start = Period.containing("quarterly", as_at).start
    before = _reviews_until(session, [r.risk.id for r in rows], _start_of(quarter_start))
    rows = queries.sort_rows(rows)
    table, flagged = [], []
    for index, row in enumerate(rows):
        m = row.matrix
        earlier = before.get(row.risk.id)
        actions = "; ".join(f"{a.ref} ({result.rag.label}: {result.reason})" for a, result in row.action_rags)
        if row.flag:
            flagged.append(index)
        table.append(tuple(text(v) for v in (
            row.risk.reference, row.risk.title, ", ".join(row.risk.category_list),
            row.risk.owner.name if row.risk.owner else "", row.review.status.label,
            row.inherent.short(m), row.residual.short(m), row.target.short(m),
            scoring.movement(earlier.residual.value if earlier else None, row.residual.value),
            actions or "None linked", row.flag or "")))
    if not rows:
        return None
    matrix = rows[0].matrix
    charts = tuple(_chart(f"{what.capitalize()} scores by band", matrix, [getattr(r, what).value for r in rows])
                   for what in ("residual", "inherent"))
    summary = [f"{len(rows)} open or tolerated risk{'s' if len(rows) != 1 else ''} on {plan.name} at "
               f"{long_date(as_at)}, scored on a {matrix.describe()}."]
    if flagged:
        summary.append(f"{len(flagged)} flagged: the residual score rests on mitigating actions that are "
                       "overdue or at risk.")
    return Section(key="risks", title="Risks", columns=COLUMNS, rows=tuple(table), summary=tuple(summary),
                   report_heading="Risk assessment", report_text=tuple(_report(rows)), charts=charts,
                   widths=WIDTHS, flagged_rows=tuple(range(len(flagged))))


def _reviews_until(session, ids: list[int], until: dt.datetime) -> dict[int, RiskReview]:
    from tracker.risks.services import latest_reviews

    return latest_reviews(ids, until=until) if ids else {}


def _chart(title: str, matrix: scoring.Matrix, scores: list[int]) -> Chart:
    counts = Counter(matrix.band(s).name for s in scores)
    labels = tuple(b.name for b in matrix.bands)
    values = tuple(counts.get(b.name, 0) for b in matrix.bands)
    alt = f"{title}: " + ", ".join(f"{label} {value}" for label, value in zip(labels, values)) + "."
    return Chart(title=title, labels=labels, values=values, colours=tuple(b.palette for b in matrix.bands),
                 alt_text=alt)


def _report(rows) -> list[str]:
    """The covering report's risk assessment, one paragraph a line, in the committee report's layout."""
    paragraphs = []
    for number, row in enumerate(rows, start=1):
        risk, m = row.risk, row.matrix
        lines = [f"Risk {number} ({risk.reference}): {risk.description or risk.title}",
                 f"Risk category: {', '.join(risk.category_list) or 'Not given'}",
                 f"Inherent risk level: {_level(row.inherent, m)}"]
        mitigating = risk.mitigations.replace("\n", "; ") if risk.mitigations else ""
        tracked = "; ".join(f"{a.ref} {a.text[:80]} ({result.rag.label})" for a, result in row.action_rags)
        lines.append("Mitigating actions: " + ("; ".join(p for p in (mitigating, tracked) if p) or "None given"))
        lines.append(f"Residual risk level: {_level(row.residual, m)}")
        lines.append(f"Planned risk level: {_level(row.target, m)}")
        if row.flag:
            lines.append(f"Flagged: {row.flag}.")
        if risk.recommendation:
            lines.append(f"Approval recommendation: {risk.recommendation}")
        paragraphs.extend(text(line) for line in lines)
    return paragraphs
