"""Committee workbooks at 1,000, 10,000 and 100,000 actions, beside XlsxWriter writing the same Actions rows.

Targets: the whole 10,000-action workbook, database queries included, within 1.5x XlsxWriter's
constant-memory time for the Actions rows alone; extra peak memory (Python allocations while
building, beyond the snapshot already in memory) under 50 MiB at 100,000 actions.

Beside the workbook, the PDF paper and the covering report from the same snapshot (the papers of
tracker.papers), at the 1,000- and 10,000-action sizes (1,000 only with --quick).

The workbook is the last whole quarter's, and a size counts the actions that existed at its end (the
actions its Actions sheet shows), so "10,000 actions" is a 10,000-row Actions sheet whenever the dataset
was generated. Up to 10,000 actions each time is the fastest of three runs, ours and XlsxWriter's alike,
so that a busy machine's pauses do not decide the ratio. Beside the ratio, the build alone against the
yardstick with the cells each file holds (counted in the files) and the time per cell: where the ratio comes
from. And, up to 10,000 actions, a like-for-like yardstick beside it: XlsxWriter writing the very cells of our
workbook (every sheet's, read back from our file beforehand, untimed) with one plain call per cell, so that the
cost of the builder's own work can be told apart from the cost of what it writes.
"""
from __future__ import annotations

import datetime as dt
import gc
import io
import re
import time
import tracemalloc
import zipfile

from sqlalchemy import func, select

from bench import BenchContext, Result
from tracker.extensions import db
from tracker.timeutil import LONDON
from tracker.periods import FinancialQuarter
from tracker.plans.models import Action
from tracker.rag import Rag, Status
from tracker.workbooks.builder import ACTION_COLUMNS, build_workbook
from tracker.workbooks.data import WorkbookData
from tracker.workbooks.services import workbook_data_for_plans

SUITE = "Workbooks"
MIB = 1024 * 1024


def plans_with(n: int, quarter: FinancialQuarter | None = None) -> tuple[list[int], int]:
    """Plans holding about n actions between them (best fit, within 10%), and how many they hold: counting
    only the actions that existed at the end of `quarter` when given."""
    query = select(Action.plan_id, func.count(Action.id)).group_by(Action.plan_id)
    if quarter is not None:
        query = query.where(Action.created_at < dt.datetime.combine(quarter.end + dt.timedelta(days=1), dt.time(),
                                                                  tzinfo=LONDON))
    left = dict(db.session.execute(query).all())
    chosen, total = [], 0
    while left and total < n:
        plan_id = min(left, key=lambda p: abs(n - total - left[p]))
        if chosen and total + left[plan_id] > n * 1.1:
            break
        chosen.append(plan_id)
        total += left.pop(plan_id)
    return chosen, total


def xlsxwriter_actions(data: WorkbookData, path) -> None:
    """The Actions rows alone, with XlsxWriter in constant-memory mode: the yardstick."""
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = workbook.add_worksheet("Actions")
    header = workbook.add_format({"bold": True, "font_color": "#FFFFFF", "bg_color": "#333E48", "text_wrap": True})
    wrap = workbook.add_format({"text_wrap": True, "valign": "top", "border": 1})
    plain = workbook.add_format({"valign": "top", "border": 1})
    date = workbook.add_format({"num_format": "d mmm yyyy", "valign": "top", "border": 1})
    rags = {r.value: workbook.add_format({"bg_color": "#" + r.hex, "font_color": "#" + r.text_hex, "bold": True,
                                          "border": 1}) for r in Rag}
    for col, column in enumerate(ACTION_COLUMNS):
        ws.set_column(col, col, column.width)
        ws.write_string(0, col, column.title, header)
    for r, a in enumerate(data.actions, start=1):
        ws.write_string(r, 0, a.group, wrap)
        ws.write_string(r, 1, a.ref, plain)
        ws.write_string(r, 2, a.proposals, wrap)
        ws.write_string(r, 3, a.text, wrap)
        ws.write_string(r, 4, a.lead_officer, wrap)
        ws.write_string(r, 5, a.organisations, wrap)
        ws.write_string(r, 6, a.timescale_text, wrap)
        if a.due:
            ws.write_datetime(r, 7, a.due, date)
        ws.write_string(r, 8, Status(a.status).label, plain)
        ws.write_string(r, 9, Rag(a.rag).label, rags[a.rag])
        ws.write_string(r, 10, a.rag_text, wrap)
        ws.write_string(r, 11, a.latest_update, wrap)
        if a.latest_update_on:
            ws.write_datetime(r, 12, a.latest_update_on, date)
        ws.write_number(r, 13, a.days_overdue, plain)
        ws.write_string(r, 14, "Yes" if a.changed_this_quarter else "No", plain)
    ws.freeze_panes(1, 2)
    ws.autofilter(0, 0, len(data.actions), len(ACTION_COLUMNS) - 1)
    workbook.close()


EXCEL_EPOCH = dt.datetime(1899, 12, 30)


def cells_of(content: bytes) -> list[tuple[str, list[tuple[int, int, object, int]]]]:
    """Every cell of a workbook's sheets, as (sheet name, [(row, column, value, style id)]) with 0-based rows
    and columns; dates as Excel's day numbers (as the builder writes them), blanks as None."""
    import openpyxl

    workbook = openpyxl.load_workbook(io.BytesIO(content))
    sheets = []
    for ws in workbook.worksheets:
        cells = []
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is None and not cell.has_style:
                    continue
                value = cell.value
                if isinstance(value, dt.datetime):
                    value = (value - EXCEL_EPOCH).days
                cells.append((cell.row - 1, cell.column - 1, value, cell.style_id))
        sheets.append((ws.title, cells))
    return sheets


def xlsxwriter_same_cells(sheets, path) -> None:
    """The like-for-like yardstick: XlsxWriter (constant memory) writing those cells, one plain call each, with
    a format per style of the original."""
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    formats: dict[int, object] = {}
    for name, cells in sheets:
        ws = workbook.add_worksheet(name)
        for row, col, value, style in cells:
            cell_format = formats.get(style)
            if cell_format is None:
                cell_format = formats[style] = workbook.add_format({"border": 1, "valign": "top",
                                                                    "text_wrap": bool(style % 2)})
            if value is None:
                ws.write_blank(row, col, None, cell_format)
            elif isinstance(value, str):
                ws.write_string(row, col, value, cell_format)
            else:
                ws.write_number(row, col, value, cell_format)
    workbook.close()


def cells_written(content: bytes) -> int:
    """The cells an .xlsx file's worksheets hold (every <c> element, blanks with a format included)."""
    with zipfile.ZipFile(io.BytesIO(content)) as package:
        return sum(len(re.findall(rb"<c[ >/]", package.read(name))) for name in package.namelist()
                   if name.startswith("xl/worksheets/sheet"))


def _timed(fn, *args, repeat: int = 1):
    """fn's value and its fastest time of `repeat` runs."""
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        value = fn(*args)
        best = min(best, time.perf_counter() - started)
    return value, best


def _read(plan_ids, quarter):
    try:
        return workbook_data_for_plans(plan_ids, quarter)
    finally:
        db.session.remove()


def _peak(fn, *args) -> float:
    """Peak Python allocations while fn runs, in MiB (beyond what was allocated before)."""
    gc.collect()
    tracemalloc.start()
    try:
        fn(*args)
        return tracemalloc.get_traced_memory()[1] / MIB
    finally:
        tracemalloc.stop()


def measure(ctx: BenchContext, size: int, quarter: FinancialQuarter,
            paper_sizes: tuple[int, ...] = ()) -> list[Result]:
    with ctx.app.app_context():
        plan_ids, actual = plans_with(size, quarter)
        db.session.remove()
        repeat = 3 if size <= 10_000 else 1
        data, query_s = _timed(_read, plan_ids, quarter, repeat=repeat)
    content, build_s = _timed(build_workbook, data, repeat=repeat)
    path = ctx.workdir / f"xlsxwriter-{size}.xlsx"
    _none, xlsx_s = _timed(xlsxwriter_actions, data, path, repeat=repeat)
    ours_mib = _peak(build_workbook, data)
    theirs_mib = _peak(xlsxwriter_actions, data, path)
    label = f"{len(data.actions):,} actions"
    whole = query_s + build_s
    ratio = whole / xlsx_s if xlsx_s else float("inf")
    ours_cells, theirs_cells = cells_written(content), cells_written(path.read_bytes())
    results = [
        Result(SUITE, f"{label}: read snapshot from database", query_s, "s", f"{len(plan_ids)} plan(s)"),
        Result(SUITE, f"{label}: build workbook", build_s, "s", f"{len(content) / MIB:.1f} MiB file"),
        Result(SUITE, f"{label}: whole workbook incl. queries", whole, "s",
               f"{ratio:.2f}x XlsxWriter" + (" (target: within 1.5x)" if size == 10_000 else "")),
        Result(SUITE, f"{label}: XlsxWriter constant-memory, Actions rows only", xlsx_s, "s", ""),
        Result(SUITE, f"{label}: build alone / XlsxWriter", build_s / xlsx_s if xlsx_s else float("inf"), "x",
               f"cells written: ours {ours_cells:,} on every sheet, XlsxWriter's {theirs_cells:,}; "
               f"{build_s / ours_cells * 1e6:.1f} and {xlsx_s / theirs_cells * 1e6:.1f} microseconds a cell"),
        Result(SUITE, f"{label}: peak memory while building", ours_mib, "MiB",
               f"XlsxWriter {theirs_mib:.1f} MiB; extra {ours_mib - theirs_mib:.1f} MiB"
               + (" (target: under 50 MiB)" if size >= 100_000 else "")),
    ]
    if size <= 10_000:
        sheets = cells_of(content)
        same_path = ctx.workdir / f"xlsxwriter-same-{size}.xlsx"
        _none, same_s = _timed(xlsxwriter_same_cells, sheets, same_path, repeat=repeat)
        same_cells = sum(len(cells) for _name, cells in sheets)
        del sheets
        results += [
            Result(SUITE, f"{label}: XlsxWriter constant-memory, the same cells on every sheet", same_s, "s",
                   f"{same_cells:,} cells, one plain call each; {same_s / same_cells * 1e6:.1f} microseconds a "
                   "cell"),
            Result(SUITE, f"{label}: build alone / XlsxWriter writing the same cells", build_s / same_s, "x",
                   f"whole workbook incl. queries: {whole / same_s:.2f}x; no target (issue 17's yardstick is "
                   "the Actions rows alone)"),
        ]
    if size in paper_sizes:
        with ctx.app.app_context():
            from tracker.papers.pdf import build_pdf
            from tracker.papers.report import build_report

            pdf, pdf_s = _timed(build_pdf, data)
            report, report_s = _timed(build_report, data)
        results += [
            Result(SUITE, f"{label}: PDF paper (tagged)", pdf_s, "s", f"{len(pdf) / MIB:.1f} MiB file"),
            Result(SUITE, f"{label}: covering report (.docx)", report_s, "s", f"{len(report) / 1024:.0f} KiB file"),
        ]
    del data, content
    gc.collect()
    return results


def run(ctx: BenchContext) -> list[Result]:
    with ctx.app.app_context():
        db.create_all()  # this feature's tables, on a dataset generated before they existed
        total = db.session.scalar(select(func.count(Action.id))) or 0
        db.session.remove()
    sizes = [s for s in (1_000, 10_000, 100_000) if s <= max(total, 1_000)]
    if ctx.quick:
        sizes = [s for s in (1_000, 5_000) if s <= max(total, 1_000)]
    quarter = FinancialQuarter.containing(dt.date.today()).previous()
    results: list[Result] = []
    paper_sizes: tuple[int, ...] = ()  # the papers suite measures the PDF and the report beside the workbook
    for size in sizes:
        results.extend(measure(ctx, size, quarter, paper_sizes))
    return results
