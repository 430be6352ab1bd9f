"""Committee papers beside the workbook, from one snapshot: the PDF paper (tagged, WeasyPrint) and the covering
report (.docx), for the biggest plan (about 1,000 actions: 1,254 in the national data) and 10,000 actions.

Targets (issue 14): the PDF for 1,254 actions in under about 10 s; for 10,000 actions in minutes, not tens of
minutes. Each row's note gives the process's CPU time too: on a shared machine the wall clock also counts the
time other processes had the cores.
"""
from __future__ import annotations

import gc
import io
import time

from sqlalchemy import func, select

from bench import BenchContext, Result
from tracker.extensions import db
from tracker.periods import FinancialQuarter
from tracker.plans.models import Action

SUITE = "Papers"
MIB = 1024 * 1024


def _plans_with(n: int) -> tuple[list[int], int]:
    """The biggest plan when n is about one plan's size, else plans holding about n actions between them."""
    counts = dict(db.session.execute(select(Action.plan_id, func.count(Action.id)).group_by(Action.plan_id)).all())
    chosen, total = [], 0
    while counts and total < n:
        plan_id = min(counts, key=lambda p: abs(n - total - counts[p]))
        if chosen and total + counts[plan_id] > n * 1.1:
            break
        chosen.append(plan_id)
        total += counts.pop(plan_id)
    return chosen, total


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
        plan_ids, _count = _plans_with(size)
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
    sizes = [s for s in ((1_000,) if ctx.quick else (1_000, 10_000)) if s <= max(total, 1_000)]
    quarter = FinancialQuarter(2023, 2)
    results: list[Result] = []
    for size in sizes:
        results.extend(measure(ctx, size, quarter))
    return results
