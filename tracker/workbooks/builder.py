"""Build the committee's quarterly progress workbook from a WorkbookData snapshot (pure: no database).

The workbook is written in openpyxl's write-only mode so a national-scale plan streams
row by row instead of holding every cell in memory. Every user-written string is stored
as text (never a formula), with characters XML forbids removed and over-long text cut
with a note saying so.
"""
from __future__ import annotations

import datetime as dt
import functools
import io
import zipfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from lxml.etree import Element, SubElement

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.chart import BarChart, Reference
from openpyxl.drawing.spreadsheet_drawing import SpreadsheetDrawing
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet._writer import WorksheetWriter
from openpyxl.writer.excel import ExcelWriter

from tracker import rag
from tracker.cells import looks_like_formula
from tracker.indicators.workbook import IndicatorsSheetData, add_indicators_sheet
from tracker.rag import Rag, Status
from tracker.workbooks.data import CHANGE_KINDS, ActionRow, WorkbookData

#: Excel refuses cells longer than this.
EXCEL_CELL_LIMIT = 32_767
SHEET_NAMES = ("Summary", "Actions", "Overdue", "Changes", "Self-evaluation", "Notes")
DATE_FORMAT = "d mmm yyyy"
STATUS_ORDER = (Status.NOT_STARTED, Status.ON_TRACK, Status.AT_RISK, Status.ONGOING, Status.COMPLETE,
                Status.SUPERSEDED)
RAG_ORDER = (Rag.RED, Rag.AMBER, Rag.GREEN, Rag.BLUE, Rag.NONE)


def safe_text(value: object) -> str:
    """Text as a cell can hold it: XML-illegal characters removed, cut with a note past Excel's limit."""
    text = ILLEGAL_CHARACTERS_RE.sub("", "" if value is None else str(value))
    if len(text) > EXCEL_CELL_LIMIT:
        note = f" [cut: the full text is {len(text):,} characters; see the tracker]"
        text = text[: EXCEL_CELL_LIMIT - len(note)] + note
    return text


@dataclass(frozen=True)
class Column:
    title: str
    width: float
    style: str = "text"  # a key of _Styles.arrays


ACTION_COLUMNS = (
    Column("{group}", 18, "wrap"),
    Column("Ref", 8),
    Column("{items}s", 10, "wrap"),
    Column("Action", 45, "wrap"),
    Column("Lead officer", 16, "wrap"),
    Column("Lead organisations", 18, "wrap"),
    Column("Timescale (as written)", 14, "wrap"),
    Column("Due date", 12, "date"),
    Column("Status", 11, "wrap"),
    Column("RAG", 8, "rag"),
    Column("RAG reason", 22, "wrap"),
    Column("Latest update", 40, "wrap"),
    Column("Update date", 12, "date"),
    Column("Days overdue", 9, "number"),
    Column("Changed this quarter", 9, "wrap"),
)
OVERDUE_COLUMNS = (
    Column("Days overdue", 10, "number"),
    Column("Ref", 9),
    Column("Action", 60, "wrap"),
    Column("Lead officer", 20, "wrap"),
    Column("Due date", 13, "date"),
    Column("Status", 13),
    Column("Latest update", 50, "wrap"),
    Column("Update date", 13, "date"),
)
CHANGE_COLUMNS = (
    Column("Change", 14),
    Column("Ref", 9),
    Column("Action", 60, "wrap"),
    Column("Before", 26, "wrap"),
    Column("After", 26, "wrap"),
    Column("Times the date has moved", 12, "number"),
)
RATING_COLUMNS = (
    Column("{items}", 10),
    Column("{items} title", 60, "wrap"),
    Column("Latest rating ({current})", 26, "wrap"),
    Column("Previous rating ({previous})", 26, "wrap"),
    Column("Movement", 12),
)


#: The prefix of the quotePrefix variant of each style.
QUOTED = "quoted:"


class _Styles:
    """Cell styles registered once per workbook; cells refer to them by id (fast in write-only mode)."""

    def __init__(self, wb: Workbook):
        thin = Side(style="thin", color="808080")
        border = Border(left=thin, right=thin, top=thin, bottom=thin)
        top = Alignment(vertical="top")
        wrap = Alignment(vertical="top", wrap_text=True)
        specs = {
            "text": dict(alignment=top, border=border),
            "wrap": dict(alignment=wrap, border=border),
            "date": dict(alignment=top, border=border, number_format=DATE_FORMAT),
            "number": dict(alignment=top, border=border),
            "header": dict(font=Font(bold=True, color="FFFFFF"), fill=PatternFill("solid", fgColor="333E48"),
                           alignment=Alignment(vertical="top", wrap_text=True), border=border),
            "title": dict(font=Font(bold=True, size=16)),
            "heading": dict(font=Font(bold=True, size=13)),
            "label": dict(font=Font(bold=True), alignment=top),
            "plain": dict(alignment=top),
            "plain_date": dict(alignment=top, number_format=DATE_FORMAT),
            "note": dict(alignment=Alignment(vertical="top", wrap_text=True)),
            "total": dict(font=Font(bold=True), alignment=top, border=border),
        }
        for colour in Rag:
            specs[f"rag:{colour.value}"] = dict(
                font=Font(bold=True, color=colour.text_hex), fill=PatternFill("solid", fgColor=colour.hex),
                alignment=top, border=border)
        self.epoch = wb.epoch
        self.ids: dict[str, str] = {}
        # Each style also as QUOTED + name, with quotePrefix: for text a spreadsheet would read as a formula.
        for name, attrs in [*specs.items(), *((QUOTED + n, {**a, "quotePrefix": True}) for n, a in specs.items())]:
            cell = Cell(None)
            cell.parent = _StyleHost(wb)
            for attr, value in attrs.items():
                setattr(cell, attr, value)
            self.ids[name] = str(wb._cell_styles.add(cell._style))

    def cell(self, _ws, value, style: str = "text") -> _Value:
        """A styled value; strings are cleaned and always stored as text, never as a formula."""
        if isinstance(value, str):
            text = safe_text(value)
            return _Value(text, self.ids[QUOTED + style if looks_like_formula(text) else style], "s" if text else "")
        if isinstance(value, dt.date):
            return _Value(str(to_excel(value, self.epoch)), self.ids[style], "n")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return _Value(str(value), self.ids[style], "n")
        return _Value("", self.ids[style], "")


class _StyleHost:
    """Lets a detached cell register styles with the workbook."""

    def __init__(self, wb: Workbook):
        self.parent = wb


class _Value(NamedTuple):
    text: str  # as written into the XML
    style_id: str
    kind: str  # "s" text, "n" number, "" empty but styled


_XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
_LETTERS = [get_column_letter(i) for i in range(1, 101)]


LINE_HEIGHT_POINTS = 15
MAX_ROW_HEIGHT_POINTS = 409  # Excel's limit


def wrapped_lines(text: str, width: float) -> int:
    """Roughly how many lines text wraps to in a column `width` characters wide."""
    per_line = max(int(width * 1.1) - 1, 1)
    if len(text) <= per_line and "\n" not in text:
        return 1  # the common case, without splitting
    return sum(max(1, -(-len(part) // per_line)) for part in text.split("\n"))


class _RowWriter(WorksheetWriter):
    """Writes a row of _Values as one XML element: several times faster than openpyxl's cell by cell.

    Rows with wrapped text get a height to fit it: LibreOffice does not work heights out on opening.
    """

    def write_row(self, xf, row, row_idx):
        number = str(row_idx)
        element = Element("row", r=number)
        lines = 1
        for index, (letter, value) in enumerate(zip(_LETTERS, row)):
            if value.kind == "s":
                if value.style_id in self.ws.wrap_ids:
                    lines = max(lines, wrapped_lines(value.text, self.widths[index]))
                cell = SubElement(element, "c", r=letter + number, s=value.style_id, t="inlineStr")
                text = SubElement(SubElement(cell, "is"), "t")
                text.text = value.text
                if value.text[:1].isspace() or value.text[-1:].isspace():
                    text.set(_XML_SPACE, "preserve")
            elif value.kind == "n":
                cell = SubElement(element, "c", r=letter + number, s=value.style_id, t="n")
                SubElement(cell, "v").text = value.text
            else:
                SubElement(element, "c", r=letter + number, s=value.style_id)
        if lines > 1:
            element.set("ht", str(min(lines * LINE_HEIGHT_POINTS, MAX_ROW_HEIGHT_POINTS)))
            element.set("customHeight", "1")
        xf.write(element)

    @functools.cached_property
    def widths(self) -> list[float]:
        return [self.ws.column_dimensions[letter].width or 8.43 if letter in self.ws.column_dimensions else 8.43
                for letter in _LETTERS]


class _CellSheet(WriteOnlyWorksheet):
    """A write-only sheet fed ready-made _Values and written row by row by _RowWriter."""

    wrap_ids: frozenset[str] = frozenset()

    def _get_writer(self):
        if self._writer is None:
            self._writer = _RowWriter(self)
            self._writer.write_top()

    def _values_to_row(self, values, row_idx):
        return values


def _sheet(wb: Workbook, styles: _Styles, title: str) -> _CellSheet:
    ws = _CellSheet(parent=wb, title=title)
    ws.wrap_ids = frozenset(styles.ids[name] for name in ("wrap", "note", "header"))
    wb._add_sheet(ws)
    return ws


class _DescribedDrawing(SpreadsheetDrawing):
    """A drawing whose charts carry their alternative text (openpyxl writes none)."""

    __elements__ = SpreadsheetDrawing.__elements__  # the serialiser reads these from the class itself

    def _chart_frame(self, idx):
        frame = super()._chart_frame(idx)
        chart = self.charts[idx - 1]
        props = frame.nvGraphicFramePr.cNvPr
        props.descr = getattr(chart, "alt_text", None)
        props.title = getattr(chart, "alt_title", None)
        return frame


class _Writer(ExcelWriter):
    def write_worksheet(self, ws):
        super().write_worksheet(ws)
        if ws._charts:
            drawing = _DescribedDrawing()
            drawing.charts, drawing.images = ws._charts, ws._images
            ws._drawing = drawing


def build_workbook(data: WorkbookData) -> bytes:
    """The quarterly progress workbook as .xlsx bytes."""
    wb = Workbook(write_only=True)
    styles = _Styles(wb)
    _properties(wb, data)
    groups = _group_counts(data.actions)
    _summary(_sheet(wb, styles, "Summary"), styles, data, groups)
    _actions(_sheet(wb, styles, "Actions"), styles, data)
    _overdue(_sheet(wb, styles, "Overdue"), styles, data)
    _changes(_sheet(wb, styles, "Changes"), styles, data)
    _self_evaluation(_sheet(wb, styles, "Self-evaluation"), styles, data)
    if data.indicators:
        add_indicators_sheet(wb, IndicatorsSheetData(as_at=data.as_at, indicators=data.indicators))
    _notes(_sheet(wb, styles, "Notes"), styles, data)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        _Writer(wb, archive).save()
    return buffer.getvalue()


def _properties(wb: Workbook, data: WorkbookData) -> None:
    props = wb.properties
    props.title = f"{data.plan_name}: progress {data.quarter}"
    props.subject = f"Quarterly progress report for {data.committee_name or data.partnership_name}"
    props.creator = "Improvement action tracker"
    props.lastModifiedBy = "Improvement action tracker"
    props.keywords = f"{data.partnership_name}; {data.quarter}; improvement actions; progress"
    props.description = f"Figures as at {data.as_at.isoformat()}."
    props.category = "Committee paper"
    props.created = dt.datetime.combine(data.as_at, dt.time(9, 0))
    props.language = "en-GB"


def _header(ws, styles: _Styles, columns: Sequence[Column], freeze: str = "A2", paper_size: int = 9,
            **names) -> None:
    """Column widths, frozen header, print settings and the header row, shared by the table sheets.

    Write-only sheets write their views and columns with the first row, so these come first.
    """
    for index, column in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(index)].width = column.width
    ws.freeze_panes = freeze
    ws.print_title_rows = "1:1"
    _print_setup(ws, paper_size)
    ws.append([styles.cell(ws, column.title.format(**names), "header") for column in columns])


def _print_setup(ws, paper_size: int = 9) -> None:
    """Landscape, fit to the page width, with the sheet name, page numbers and title on every page.

    Paper sizes: 9 is A4, 8 is A3 (for the wide Actions sheet).
    """
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = paper_size
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.gridLines = False
    ws.oddFooter.left.text = "&A"
    ws.oddFooter.center.text = "Page &P of &N"
    ws.oddHeader.center.text = ws.parent.properties.title.replace("&", "&&")


def _filter(ws, columns: Sequence[Column], rows: int) -> None:
    ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{rows + 1}"


def _group_counts(actions: Iterable[ActionRow]) -> dict[str, tuple[Counter, Counter]]:
    """{group: (status counts, RAG counts)} in the order the groups first appear."""
    groups: dict[str, tuple[Counter, Counter]] = {}
    for row in actions:
        statuses, rags = groups.setdefault(row.group, (Counter(), Counter()))
        statuses[row.status] += 1
        rags[row.rag] += 1
    return groups


HEADLINES = 8


def headlines(data: WorkbookData) -> list[str]:
    """The few changes a committee reads first: completions, then slipped dates, status moves, new actions."""
    order = {"Completed": 0, "Date slipped": 1, "Status moved": 2, "New": 3}
    picked = sorted(data.changes, key=lambda c: order[c.kind])[:HEADLINES]
    lines = []
    for change in picked:
        text = change.text if len(change.text) <= 120 else change.text[:117] + "..."
        detail = {"Completed": "completed", "New": "new action",
                  "Date slipped": f"date moved from {change.before} to {change.after}",
                  "Status moved": f"{change.before} to {change.after}"}[change.kind]
        lines.append(f"{change.ref} ({detail}): {text}")
    if len(data.changes) > HEADLINES:
        lines.append(f"... and {len(data.changes) - HEADLINES} more on the Changes sheet.")
    return lines


def _summary(ws, styles: _Styles, data: WorkbookData, groups: dict[str, tuple[Counter, Counter]]) -> None:
    widths = [40] + [12] * (len(STATUS_ORDER) + len(RAG_ORDER) + 1)
    for index, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    _print_setup(ws)
    c = styles.cell
    rows = 0

    def append(cells: list) -> int:
        nonlocal rows
        ws.append(cells)
        rows += 1
        return rows

    append([c(ws, f"Quarterly progress: {data.plan_name}", "title")])
    facts = [("Partnership", data.partnership_name), ("Quarter", data.quarter), ("Data as at", data.as_at)]
    if data.committee_name:
        facts.append(("Committee", data.committee_name))
    if data.meeting_date:
        facts.append(("Meeting", data.meeting_date))
    for label, value in facts:
        style = "plain_date" if isinstance(value, dt.date) else "plain"
        append([c(ws, label, "label"), c(ws, value, style)])
    append([])
    append([c(ws, f"Actions by status and RAG, per {data.group_label.lower()}", "heading")])
    header_row = append([c(ws, data.group_label, "header")]
                        + [c(ws, s.label, "header") for s in STATUS_ORDER]
                        + [c(ws, "Total", "header")]
                        + [c(ws, f"RAG: {r.label}", "header") for r in RAG_ORDER])
    totals_status, totals_rag = Counter(), Counter()
    for group, (statuses, rags) in groups.items():
        totals_status.update(statuses)
        totals_rag.update(rags)
        append([c(ws, group, "wrap")]
               + [c(ws, statuses[s.value], "number") for s in STATUS_ORDER]
               + [c(ws, sum(statuses.values()), "total")]
               + [c(ws, rags[r.value], "number") for r in RAG_ORDER])
    last_group_row = rows
    append([c(ws, "All actions", "total")]
           + [c(ws, totals_status[s.value], "total") for s in STATUS_ORDER]
           + [c(ws, sum(totals_status.values()), "total")]
           + [c(ws, totals_rag[r.value], "total") for r in RAG_ORDER])
    append([])
    append([c(ws, "Headline changes", "heading")])
    kinds = Counter(change.kind for change in data.changes)
    append([c(ws, f"Compared with {data.compared_with}." if data.compared_with else
               "No earlier workbook to compare with.", "plain")])
    for kind in CHANGE_KINDS:
        append([c(ws, kind, "label"), c(ws, kinds[kind], "plain")])
    append([c(ws, "Overdue now", "label"), c(ws, sum(1 for a in data.actions if a.days_overdue > 0), "plain")])
    append([c(ws, "Changed this quarter", "label"),
            c(ws, sum(1 for a in data.actions if a.changed_this_quarter), "plain")])
    for line in headlines(data):
        append([c(ws, line, "plain")])
    append([])
    chart_note = append([c(ws, "Chart: the status columns of the table above, as stacked bars per "
                                f"{data.group_label.lower()}.", "plain")])
    if groups:
        ws.add_chart(_status_chart(ws, data, header_row, last_group_row), f"A{chart_note + 1}")


def _status_chart(ws, data: WorkbookData, header_row: int, last_group_row: int) -> BarChart:
    chart = BarChart()
    chart.type = "bar"
    chart.grouping = "stacked"
    chart.overlap = 100
    chart.alt_title = chart.title = f"Status of actions by {data.group_label.lower()}"
    chart.y_axis.title = "Number of actions"
    chart.x_axis.title = data.group_label
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    values = Reference(ws, min_col=2, max_col=1 + len(STATUS_ORDER), min_row=header_row, max_row=last_group_row)
    chart.add_data(values, titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=header_row + 1, max_row=last_group_row))
    chart.height = max(8, 1.2 * (last_group_row - header_row) + 4)
    chart.width = 26
    chart.alt_text = (f"Stacked bar chart of the number of actions in each status for each "
                      f"{data.group_label.lower()} of {data.plan_name}, {data.quarter}. "
                      "The same figures are in the table on this sheet.")
    return chart


def _action_cells(ws, styles: _Styles, row: ActionRow) -> list:
    c = styles.cell
    return [
        c(ws, row.group, "wrap"), c(ws, row.ref), c(ws, row.proposals, "wrap"), c(ws, row.text, "wrap"),
        c(ws, row.lead_officer, "wrap"), c(ws, row.organisations, "wrap"), c(ws, row.timescale_text, "wrap"),
        c(ws, row.due, "date"), c(ws, Status(row.status).label), c(ws, Rag(row.rag).label, f"rag:{row.rag}"),
        c(ws, row.rag_text, "wrap"), c(ws, row.latest_update, "wrap"), c(ws, row.latest_update_on, "date"),
        c(ws, row.days_overdue, "number"), c(ws, "Yes" if row.changed_this_quarter else "No"),
    ]


def _actions(ws, styles: _Styles, data: WorkbookData) -> None:
    _header(ws, styles, ACTION_COLUMNS, freeze="C2", paper_size=8, group=data.group_label, items=data.item_label)
    _filter(ws, ACTION_COLUMNS, len(data.actions))
    for row in data.actions:
        ws.append(_action_cells(ws, styles, row))


def _overdue(ws, styles: _Styles, data: WorkbookData) -> None:
    overdue = sorted((a for a in data.actions if a.days_overdue > 0), key=lambda a: (-a.days_overdue, a.ref))
    _header(ws, styles, OVERDUE_COLUMNS)
    _filter(ws, OVERDUE_COLUMNS, len(overdue))
    c = styles.cell
    for row in overdue:
        ws.append([c(ws, row.days_overdue, "number"), c(ws, row.ref), c(ws, row.text, "wrap"),
                   c(ws, row.lead_officer, "wrap"), c(ws, row.due, "date"), c(ws, Status(row.status).label),
                   c(ws, row.latest_update, "wrap"), c(ws, row.latest_update_on, "date")])


def _changes(ws, styles: _Styles, data: WorkbookData) -> None:
    _header(ws, styles, CHANGE_COLUMNS)
    _filter(ws, CHANGE_COLUMNS, len(data.changes))
    c = styles.cell
    for change in data.changes:
        ws.append([c(ws, change.kind), c(ws, change.ref), c(ws, change.text, "wrap"), c(ws, change.before, "wrap"),
                   c(ws, change.after, "wrap"), c(ws, change.times_date_moved, "number")])


def _self_evaluation(ws, styles: _Styles, data: WorkbookData) -> None:
    _header(ws, styles, RATING_COLUMNS, items=data.item_label,
            current=data.current_round or "none agreed", previous=data.previous_round or "none")
    _filter(ws, RATING_COLUMNS, len(data.self_evaluation))
    c = styles.cell
    for rating in data.self_evaluation:
        ws.append([c(ws, rating.number), c(ws, rating.title, "wrap"), c(ws, rating.current, "wrap"),
                   c(ws, rating.previous, "wrap"), c(ws, rating.movement)])


def notes_lines(data: WorkbookData) -> list[tuple[str, str]]:
    """The Notes sheet: (heading, text) pairs saying how every figure is worked out."""
    rules = " ".join(line.strip() for line in (rag.derive.__doc__ or "").splitlines()[2:] if line.strip())
    return [
        ("RAG rules", rules),
        ("Red", f"Past its due date, or at risk and due within {rag.AT_RISK_RED_WINDOW_DAYS} days."),
        ("Amber", f"At risk, or no progress update for {rag.STALE_AFTER_DAYS} days or more "
                  "(counted from when the action was created if it has never had one)."),
        ("Green", "Open, not at risk, not past due and updated recently."),
        ("Blue", "Complete."),
        ("Not rated", "Superseded by another action; no longer tracked."),
        ("Colour", "Each RAG colour is also written as a word, so the sheets can be read without colour."),
        ("Data as at", f"Figures are worked out as at {data.as_at.isoformat()} and frozen when the workbook "
                       "is issued: later edits in the tracker do not change an issued workbook."),
        ("Days overdue", "Days between the due date (the end of the timescale as written, or the latest "
                         "revised timescale) and the data-as-at date; 0 when not past due or closed."),
        ("Changed this quarter", f"Yes when the action had a progress update in {data.quarter} or appears "
                                 "on the Changes sheet."),
        ("Changes", "Compared with " + (data.compared_with or "the state at the start of the quarter") + ". "
                    "New: not in the comparison. Completed: now complete and not before. Status moved: any "
                    "other change of status. Date slipped: the due date is later than before; 'Times the date "
                    "has moved' counts every progress update that revised the timescale."),
        ("Self-evaluation", "The latest agreed self-evaluation rating of each proposal beside the rating in "
                            "the round before it."),
        ("Summary counts", "Counted from the rows of the Actions sheet; every action is in exactly one "
                           f"{data.group_label.lower()} (the one of its first linked {data.item_label.lower()})."),
    ]


def _notes(ws, styles: _Styles, data: WorkbookData) -> None:
    ws.column_dimensions["A"].width = 24
    ws.column_dimensions["B"].width = 100
    _print_setup(ws)
    c = styles.cell
    ws.append([c(ws, "Notes: how the figures are worked out", "title")])
    for heading, text in notes_lines(data):
        ws.append([c(ws, heading, "label"), c(ws, text, "note")])
