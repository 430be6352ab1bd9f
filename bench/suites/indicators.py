"""Indicators at national scale: six quarterly indicators on every plan, three years of values each.

Measures the reminders' scan for missing values, a plan's indicator list, and the workbook sheet.
The rows it adds are removed at the end, so the dataset stays as the generator made it.
"""
from __future__ import annotations

import datetime as dt
import io
import statistics
import time

from openpyxl import Workbook
from sqlalchemy import delete, event, insert, select

from bench import BenchContext, Result
from tracker.extensions import db
from tracker.indicators import services
from tracker.indicators.models import Indicator, IndicatorValue
from tracker.indicators.workbook import add_indicators_sheet, indicators_sheet_data
from tracker.periods import Period
from tracker.plans.models import Plan
from tracker.timeutil import today, utcnow

SUITE = "Indicators"
PREFIX = "Bench indicator"
PER_PLAN = 6
QUARTERS = 12


def _seed(plans: list[Plan], first: Period) -> int:
    now = utcnow()
    db.session.execute(insert(Indicator), [
        {"plan_id": plan.id, "name": f"{PREFIX} {n}", "definition": "", "unit": "count", "frequency": "quarterly",
         "higher_is_better": n % 2 == 0, "target": 400.0, "source": "", "starts_on": first.start, "created_at": now}
        for plan in plans for n in range(PER_PLAN)
    ])
    ids = db.session.scalars(select(Indicator.id).where(Indicator.name.startswith(PREFIX))).all()
    quarters = [first]
    while len(quarters) < QUARTERS:
        quarters.append(quarters[-1].next())
    rows = [
        {"indicator_id": indicator_id, "period_start": quarter.start, "value": 350.0 + (indicator_id * 7 + q) % 90,
         "note": "", "entered_at": now}
        for indicator_id in ids for q, quarter in enumerate(quarters)
        if (indicator_id + q) % 8 != 0  # about one value in eight is missing: due reminders
    ]
    for start in range(0, len(rows), 5000):
        db.session.execute(insert(IndicatorValue), rows[start:start + 5000])
    db.session.commit()
    return len(rows)


def _remove() -> None:
    ids = select(Indicator.id).where(Indicator.name.startswith(PREFIX)).scalar_subquery()
    db.session.execute(delete(IndicatorValue).where(IndicatorValue.indicator_id.in_(ids)))
    db.session.execute(delete(Indicator).where(Indicator.name.startswith(PREFIX)))
    db.session.commit()


def _timed(function, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        db.session.expire_all()
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def run(ctx: BenchContext) -> list[Result]:
    with ctx.app.app_context():
        _remove()
        plans = db.session.scalars(select(Plan).where(Plan.archived_at.is_(None))).all()
        if not plans:
            return [Result(SUITE, "skipped: no plans in the dataset", 0, "plans")]
        now = today()
        first = Period.containing("quarterly", now - dt.timedelta(days=92 * QUARTERS))
        try:
            started = time.perf_counter()
            values = _seed(plans, first)
            seeded = time.perf_counter() - started
            indicators = len(plans) * PER_PLAN
            results = [Result(SUITE, "seed indicators and values", seeded, "s",
                              f"{indicators:,} indicators, {values:,} values on {len(plans):,} plans")]

            due = services.due_indicator_values(now)
            results.append(Result(SUITE, "due values scan (all partnerships)",
                                  _timed(lambda: services.due_indicator_values(now), 3), "s",
                                  f"{len(due):,} values due and not entered"))

            plan = plans[0]
            results.append(Result(SUITE, "a plan's indicator list (median)",
                                  _timed(lambda: services.indicators_for_plan(plan, now), 10) * 1000, "ms",
                                  f"{PER_PLAN} indicators"))
            statements: list[str] = []
            listener = lambda *args: statements.append(args[2])  # noqa: E731
            event.listen(db.engine, "before_cursor_execute", listener)
            services.indicators_for_plan(plan, now)
            event.remove(db.engine, "before_cursor_execute", listener)
            results.append(Result(SUITE, "a plan's indicator list: queries", len(statements), "queries",
                                  "independent of the number of indicators"))

            def sheet():
                workbook = Workbook(write_only=True)
                add_indicators_sheet(workbook, indicators_sheet_data([plan], now))
                workbook.save(io.BytesIO())

            results.append(Result(SUITE, "Indicators sheet for one plan (median)", _timed(sheet, 5) * 1000, "ms",
                                  f"{PER_PLAN} indicators with charts"))
            return results
        finally:
            _remove()
