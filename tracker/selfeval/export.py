"""The benchmarking grid as a spreadsheet: every partnership's latest shared rating, proposal by proposal.

Pure: built from a `services.Benchmark`; text cells only (text that looks like a formula is kept as text).
Long for the national team (31 partnerships), so it runs as a background job (tracker.jobs.kinds).
"""
from __future__ import annotations

import io
from collections.abc import Callable

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font

from tracker.cells import looks_like_formula


def _cell(sheet, value, *, bold: bool = False):
    cell = WriteOnlyCell(sheet, value="" if value is None else str(value))
    cell.data_type = "s"
    if bold:
        cell.font = Font(bold=True)
    if looks_like_formula(cell.value):
        cell.alignment = Alignment(wrap_text=True)
        cell.quotePrefix = True
    return cell


def benchmark_workbook(benchmark, step: Callable[[int, int], None] = lambda done, total: None) -> bytes:
    framework = benchmark.framework
    levels = framework.levels
    items = [(theme, item) for theme in framework.themes for item in theme.items]
    book = Workbook(write_only=True)
    book.properties.title = f"{framework.name}: latest shared ratings by partnership"
    sheet = book.create_sheet("Ratings")
    sheet.freeze_panes = "C2"
    sheet.append([_cell(sheet, h, bold=True) for h in (
        framework.theme_label, framework.item_label,
        *[f"{r.partnership.name} ({r.title})" for r in benchmark.rounds], *levels)])
    for done, (theme, item) in enumerate(items, start=1):
        if item.local_completion:
            ratings = [levels[level] if (level := benchmark.level(r, item)) is not None else "Not rated"
                       for r in benchmark.rounds]
            counts = benchmark.distribution.get(item.id) or [0] * len(levels)
            tail = [str(n) for n in counts]
        else:
            ratings = ["Not for local completion"] * len(benchmark.rounds)
            tail = [""] * len(levels)
        sheet.append([_cell(sheet, f"{theme.number} {theme.title}"), _cell(sheet, f"{item.number} {item.title}"),
                      *[_cell(sheet, v) for v in ratings], *[_cell(sheet, v) for v in tail]])
        step(done, len(items))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
