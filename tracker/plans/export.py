"""A plan's audit trail as an .xlsx workbook, streamed with openpyxl's write-only mode.

User text always goes in as a text cell: a value such as "=HYPERLINK(...)" or "+44 1382" is never a formula.
"""
from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from tracker.cells import looks_like_formula
from tracker.plans import queries
from tracker.plans.models import Plan
from tracker.timeutil import LONDON

COLUMNS = ["When", "Who", "What", "Ref", "Field", "Before", "After"]
WIDTHS = [20, 24, 30, 10, 20, 50, 50]
#: Excel's limit on characters in a cell.
CELL_LIMIT = 32_767


def text_cell(sheet, value) -> WriteOnlyCell:
    """A cell that holds `value` as text, shown as written, whatever it starts with."""
    text = "" if value is None else str(value)
    if len(text) > CELL_LIMIT:
        text = text[: CELL_LIMIT - 12] + " [truncated]"
    cell = WriteOnlyCell(sheet, ILLEGAL_CHARACTERS_RE.sub("", text))
    cell.data_type = "s"  # after the value: openpyxl would otherwise make "=..." a formula
    if looks_like_formula(text):
        # quotePrefix tells spreadsheet programs the cell is text even after it is edited.
        cell.quotePrefix = True
    return cell


def audit_rows(plan: Plan):
    """(when, who, what, ref, field, before, after) per changed field, oldest first."""
    events = queries.plan_audit_events(plan)
    refs = queries.action_refs(plan)
    names = queries.ValueNames(events)
    for event in events:
        when = event.at.astimezone(LONDON).strftime("%Y-%m-%d %H:%M")
        who = event.user.name if event.user else "System"
        what = event.summary or queries.VERB_LABELS.get(event.verb, event.verb)
        ref = refs.get(event.entity_id, "") if event.entity_type == "action" else ""
        changes = queries.describe_changes(event, names)
        if not changes:
            yield when, who, what, ref, "", "", ""
        for change in changes:
            yield when, who, what, ref, change.field, change.before, change.after


def audit_workbook(plan: Plan) -> io.BytesIO:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Audit trail")
    for index, width in enumerate(WIDTHS):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for title in COLUMNS:
        cell = text_cell(sheet, title)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in audit_rows(plan):
        sheet.append([text_cell(sheet, value) for value in row])
    stream = io.BytesIO()
    workbook.save(stream)
    stream.seek(0)
    return stream
