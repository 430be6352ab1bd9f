"""Committee papers beside the workbook, from one snapshot: the PDF paper (tagged, WeasyPrint) and the covering
report (.docx), for the plan nearest 1,254 actions (the national data's biggest generated plan) and 10,000 actions.

The papers are the last whole quarter's, and a size counts the actions that existed at its end (the actions the
papers show), as the workbooks suite counts them.

Targets (issue 14): the PDF for 1,254 actions in under about 10 s; for 10,000 actions in minutes, not tens of
minutes. Each row's note gives the process's CPU time too: on a shared machine the wall clock also counts the
time other processes had the cores.
"""
from __future__ import annotations

import datetime as dt
import gc
import io
import time

from sqlalchemy import func, select

from bench import BenchContext, Result
from bench.suites.workbooks import plans_with
from tracker.extensions import db
from tracker.periods import FinancialQuarter
from tracker.plans.models import Action
from tracker.timeutil import LONDON

SUITE = "Papers"
MIB = 1024 * 1024


def _plans_with(n: int, quarter: FinancialQuarter) -> tuple[list[int], int]:
    """The one plan nearest n actions when n is about one plan's size (under 2,000), else plans holding about n
    actions between them: counting the actions that existed at the end of `quarter`."""
    if n < 2_000:
        counts = db.session.execute(select(Action.plan_id, func.count(Action.id))
                                    .where(Action.created_at < _after(quarter)).group_by(Action.plan_id)).all()
        if not counts:
            return [], 0
        plan_id, count = min(counts, key=lambda row: (abs(n - row[1]), row[0]))
        return [plan_id], count
    return plans_with(n, quarter)


def _after(quarter: FinancialQuarter) -> dt.datetime:
    return dt.datetime.combine(quarter.end + dt.timedelta(days=1), dt.time(), tzinfo=LONDON)


def _timed(fn, *args):
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    value = fn(*args)
    return value, time.perf_counter() - wall, time.process_time() - cpu


def measure(ctx: BenchContext, size: int, quarter: FinancialQuarter) -> list[Result]:
    from tracker.papers import pdf as paper_pdf
    from tracker.papers.report import build_report
    from tracker.workbooks.builder import build_workbook
    from tracker.workbooks.services import workbook_data_for_plans

    with ctx.app.app_context():
        plan_ids, _count = _plans_with(size, quarter)
        data, read_s, _cpu = _timed(workbook_data_for_plans, plan_ids, quarter)
        db.session.remove()
        label = f"{len(data.actions):,} actions"
        workbook, workbook_s, workbook_cpu = _timed(build_workbook, data)
        paper_pdf._pdf_of.cache_clear()  # measure the layout, not the cache of recent papers
        pdf, pdf_s, pdf_cpu = _timed(paper_pdf.build_pdf, data)
        report, report_s, report_cpu = _timed(build_report, data)
    import pypdf

    pages = len(pypdf.PdfReader(io.BytesIO(pdf)).pages)
    target = " (target: under about 10 s)" if size <= 2_000 else " (target: minutes, not tens of minutes)"
    return [
        Result(SUITE, f"{label}: read snapshot", read_s, "s", f"{len(plan_ids)} plan(s)"),
        Result(SUITE, f"{label}: workbook (.xlsx)", workbook_s, "s",
               f"CPU {workbook_cpu:.1f} s; {len(workbook) / MIB:.1f} MiB"),
        Result(SUITE, f"{label}: PDF paper (tagged)", pdf_s, "s",
               f"CPU {pdf_cpu:.1f} s; {pages:,} pages, {len(pdf) / MIB:.1f} MiB" + target),
        Result(SUITE, f"{label}: covering report (.docx)", report_s, "s",
               f"CPU {report_cpu:.1f} s; {len(report) / 1024:.0f} KiB"),
    ]


def run(ctx: BenchContext) -> list[Result]:
    with ctx.app.app_context():
        db.create_all()  # the papers' tables, on a dataset generated before they existed
        total = db.session.scalar(select(func.count(Action.id))) or 0
        db.session.remove()
    sizes = [s for s in ((1_254,) if ctx.quick else (1_254, 10_000)) if s <= max(total, 1_254)]
    quarter = FinancialQuarter.containing(dt.date.today()).previous()
    results: list[Result] = []
    for size in sizes:
        results.extend(measure(ctx, size, quarter))
    return results
