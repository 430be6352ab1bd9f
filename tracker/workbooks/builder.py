"""Build the committee's quarterly progress workbook from a WorkbookData snapshot (pure: no database).

Written with XlsxWriter's public API in constant-memory mode: rows stream to disk as they are written,
so a national-scale plan never holds its cells in memory. Every user-written string is written as text
(never a formula), with characters XML forbids removed and over-long text cut with a note saying so.

Every sheet is print-ready: landscape, fitted to the page width, the heading row repeated, the plan,
quarter and page number in the footer, and charts kept whole on a page. Sheets with nothing to show are
left out, and the Notes sheet says which and why. A draft says DRAFT in its title, on every page's header
and in the workbook's properties. Status and RAG colours come from tracker.papers.palette.
"""
from __future__ import annotations

import datetime as dt
import functools
import io
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import xlsxwriter

from tracker import rag
from tracker.cells import FORMULA_PREFIXES, looks_like_formula
from tracker.indicators.workbook import chart_description as indicator_chart_description
from tracker.papers import palette
from tracker.papers.sections import Section
from tracker.rag import Rag, Status
from tracker.timeutil import long_date
from tracker.workbooks.data import CHANGE_KINDS, ActionRow, ChangeRow, WorkbookData

#: Excel refuses cells longer than this.
EXCEL_CELL_LIMIT = 32_767
SHEET_NAMES = ("Summary", "Actions", "Overdue", "Changes", "Self-evaluation", "Notes")
DATE_FORMAT = "d mmm yyyy"
STATUS_ORDER = (Status.NOT_STARTED, Status.ON_TRACK, Status.AT_RISK, Status.ONGOING, Status.COMPLETE,
                Status.SUPERSEDED)
RAG_ORDER = (Rag.RED, Rag.AMBER, Rag.GREEN, Rag.BLUE, Rag.NONE)
#: Characters XML 1.0 forbids (as openpyxl's ILLEGAL_CHARACTERS_RE).
ILLEGAL_CHARACTERS_RE = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
A4, A3 = 9, 8
LINE_HEIGHT_POINTS = 15
MAX_ROW_HEIGHT_POINTS = 409  # Excel's limit


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
    style: str = "text"  # a key of _Styles


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
    Column("Why the date last moved (who, when)", 30, "wrap"),
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
    Column("Action", 50, "wrap"),
    Column("Before", 20, "wrap"),
    Column("After", 20, "wrap"),
    Column("Reason for the new date", 36, "wrap"),
    Column("Moved by", 16, "wrap"),
    Column("Moved on", 12, "date"),
    Column("Times the date has moved", 12, "number"),
)
RATING_COLUMNS = (
    Column("{items}", 10),
    Column("{items} title", 60, "wrap"),
    Column("Latest rating ({current})", 26, "wrap"),
    Column("Previous rating ({previous})", 26, "wrap"),
    Column("Movement", 12),
)
WRAPPING = frozenset({"wrap", "note", "header"})


class _Styles:
    """Cell formats made once per workbook, each also with a quote prefix for text that looks like a formula."""

    def __init__(self, wb: xlsxwriter.Workbook):
        border = {"border": 1, "border_color": "#808080", "valign": "top"}
        specs = {
            "text": dict(border),
            "wrap": {**border, "text_wrap": True},
            "date": {**border, "num_format": DATE_FORMAT},
            "number": dict(border),
            "header": {**border, "bold": True, "font_color": "#FFFFFF", "bg_color": "#333E48", "text_wrap": True},
            "title": {"bold": True, "font_size": 16},
            "heading": {"bold": True, "font_size": 13},
            "label": {"bold": True, "valign": "top"},
            "plain": {"valign": "top"},
            "plain_date": {"valign": "top", "num_format": DATE_FORMAT, "align": "left"},
            "note": {"valign": "top", "text_wrap": True},
            "total": {**border, "bold": True},
            "flag": {**border, "bold": True, "text_wrap": True},
        }
        for colour in Rag:
            specs[f"rag:{colour.value}"] = {**border, "bold": True, "font_color": "#" + colour.text_hex,
                                            "bg_color": "#" + palette.rag_fill(colour)}
        self.formats = {name: wb.add_format(spec) for name, spec in specs.items()}
        self.quoted = {name: wb.add_format({**spec, "quote_prefix": True}) for name, spec in specs.items()}


class _Sheet:
    """One worksheet written row by row (constant memory), with row heights fitted to wrapped text."""

    def __init__(self, wb: xlsxwriter.Workbook, styles: _Styles, name: str, widths: Sequence[float]):
        self.ws = wb.add_worksheet(name)
        self.styles = styles
        self.widths = list(widths)
        self.row = 0
        #: The height (points) of a row not given one: Excel's 15 unless `default_height` changes it.
        self.default_height = LINE_HEIGHT_POINTS
        for index, width in enumerate(widths):
            self.ws.set_column(index, index, width)

    def set_default_height(self, height: float) -> None:
        """Rows not given a height of their own are this high (the sheet's default row height)."""
        if height != LINE_HEIGHT_POINTS:
            self.ws.set_default_row(height)
        self.default_height = height

    def append(self, cells: Iterable[tuple[object, str]] = ()) -> int:
        """Write one row of (value, style) pairs; returns its 1-based number."""
        cells = list(cells)
        lines = 1
        for index, (value, style) in enumerate(cells):
            if isinstance(value, str) and style in WRAPPING and value:
                width = self.widths[index] if index < len(self.widths) else 8.43
                lines = max(lines, wrapped_lines(value, width))
        height = min(lines * LINE_HEIGHT_POINTS, MAX_ROW_HEIGHT_POINTS)
        if height != self.default_height:
            self.ws.set_row(self.row, height)
        for col, (value, style) in enumerate(cells):
            self.write(self.row, col, value, style)
        self.row += 1
        return self.row

    def write(self, row: int, col: int, value, style: str) -> None:
        ws, formats = self.ws, self.styles.formats
        if isinstance(value, str):
            text = safe_text(value)
            if not text:
                ws.write_blank(row, col, None, formats[style])
            else:
                ws.write_string(row, col, text, (self.styles.quoted if looks_like_formula(text) else formats)[style])
        elif isinstance(value, bool):
            ws.write_string(row, col, "Yes" if value else "No", formats[style])
        elif isinstance(value, dt.date):
            ws.write_datetime(row, col, dt.datetime.combine(value, dt.time()), formats[style])
        elif isinstance(value, (int, float)):
            ws.write_number(row, col, value, formats[style])
        else:
            ws.write_blank(row, col, None, formats[style])


def wrapped_lines(text: str, width: float) -> int:
    """Roughly how many lines text wraps to in a column `width` characters wide."""
    per_line = max(int(width * 1.1) - 1, 1)
    if "\n" not in text:
        return max(1, -(-len(text) // per_line))  # the common case, without splitting
    return sum(max(1, -(-len(part) // per_line)) for part in text.split("\n"))


def title_of(data: WorkbookData) -> str:
    return ("DRAFT: " if data.draft else "") + f"{data.plan_name}: progress {data.quarter}"


def _escape(text: str) -> str:
    """Text for a header or footer, where & starts a code."""
    return text.replace("&", "&&")[:80]


def _print_setup(sheet: _Sheet, data: WorkbookData, *, paper: int = A4, landscape: bool = True,
                 repeat_heading: bool = False) -> None:
    """Landscape where wide, fit to the page width, the title (DRAFT on a draft) in every page's header,
    and the plan, quarter, sheet and page number in every page's footer."""
    ws = sheet.ws
    if landscape:
        ws.set_landscape()
    else:
        ws.set_portrait()
    ws.set_paper(paper)
    ws.fit_to_pages(1, 0)
    ws.hide_gridlines(0)
    ws.set_margins(left=0.5, right=0.5, top=0.75, bottom=0.75)
    header = "&C&\"-,Bold\"DRAFT: not issued" if data.draft else "&C" + _escape(title_of(data))
    ws.set_header(header)
    ws.set_footer(f"&L{_escape(data.plan_name)}, {_escape(data.quarter)}&CPage &P of &N&R&A")
    if repeat_heading:
        ws.repeat_rows(0)


def _table_sheet(wb, styles, data: WorkbookData, name: str, columns: Sequence[Column], rows: int, *,
                 freeze_cols: int = 0, paper: int = A4, default_height: float = LINE_HEIGHT_POINTS,
                 **names) -> _Sheet:
    sheet = _Sheet(wb, styles, name, [c.width for c in columns])
    sheet.set_default_height(default_height)
    sheet.ws.freeze_panes(1, freeze_cols)
    _print_setup(sheet, data, paper=paper, repeat_heading=True)
    sheet.ws.autofilter(0, 0, rows, len(columns) - 1)
    sheet.append((column.title.format(**names), "header") for column in columns)
    return sheet


def _group_counts(actions: Iterable[ActionRow]) -> dict[str, tuple[Counter, Counter]]:
    """{group: (status counts, RAG counts)} in the order the groups first appear."""
    groups: dict[str, tuple[Counter, Counter]] = {}
    for row in actions:
        statuses, rags = groups.setdefault(row.group, (Counter(), Counter()))
        statuses[row.status] += 1
        rags[row.rag] += 1
    return groups


def sheet_name(title: str, taken: Iterable[str]) -> str:
    """A valid, unused sheet tab name for a section's title."""
    base = re.sub(r"[\[\]:*?/\\]", " ", safe_text(title)).strip().strip("'")[:31] or "Section"
    name, n = base, 2
    lowered = {t.lower() for t in taken}
    while name.lower() in lowered:
        suffix = f" ({n})"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    return name


def left_out(data: WorkbookData) -> list[tuple[str, str]]:
    """The sheets left out because they would be empty: (sheet, why)."""
    out = []
    if not any(a.days_overdue > 0 for a in data.actions):
        out.append(("Overdue", "no action was past its due date."))
    if not data.changes:
        out.append(("Changes", "nothing changed since " + (data.compared_with or "the start of the quarter") + "."))
    if not data.self_evaluation:
        out.append(("Self-evaluation", "this plan's partnership has no agreed self-evaluation rating."))
    if not data.indicators:
        out.append(("Indicators", "no performance indicators are recorded for this plan."))
    for section in data.sections:
        if not section.rows:
            out.append((section.title, "nothing to show for this plan."))
    return out


def build_workbook(data: WorkbookData) -> bytes:
    """The quarterly progress workbook as .xlsx bytes."""
    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, {"constant_memory": True, "strings_to_numbers": False,
                                      "strings_to_formulas": False, "strings_to_urls": False,
                                      "default_date_format": DATE_FORMAT})
    styles = _Styles(wb)
    _properties(wb, data)
    skipped = {name for name, _why in left_out(data)}
    _summary(wb, styles, data, _group_counts(data.actions))
    _actions(wb, styles, data)
    if "Overdue" not in skipped:
        _overdue(wb, styles, data)
    if "Changes" not in skipped:
        _changes(wb, styles, data)
    if "Self-evaluation" not in skipped:
        _self_evaluation(wb, styles, data)
    if data.indicators:
        _indicators(wb, styles, data)
    taken = list(SHEET_NAMES) + ["Indicators"]
    for section in data.sections:
        if section.rows:
            name = sheet_name(section.title, taken)
            taken.append(name)
            _section(wb, styles, data, section, name)
    _notes(wb, styles, data)
    wb.close()
    return buffer.getvalue()


def _properties(wb: xlsxwriter.Workbook, data: WorkbookData) -> None:
    wb.set_properties({
        "title": title_of(data),
        "subject": f"Quarterly progress report for {data.committee_name or data.partnership_name}",
        "author": "Improvement action tracker",
        "company": data.partnership_name[:200],
        "keywords": f"{data.partnership_name}; {data.quarter}; improvement actions; progress"
                    + ("; DRAFT" if data.draft else ""),
        "comments": f"Figures as at {data.as_at.isoformat()}." + (" DRAFT: not issued." if data.draft else ""),
        "category": "Committee paper",
        "status": "DRAFT" if data.draft else "Issued",
        "created": dt.datetime.combine(data.as_at, dt.time(9, 0)),
    })
    wb.set_custom_property("Language", "en-GB")


HEADLINES = 8


def headlines(data: WorkbookData) -> list[str]:
    """The few changes a committee reads first: completions, then slipped dates, status moves, new actions."""
    order = {"Completed": 0, "Date slipped": 1, "Status moved": 2, "New": 3}
    picked = sorted(data.changes, key=lambda c: order[c.kind])[:HEADLINES]
    lines = []
    for change in picked:
        text = change.text if len(change.text) <= 120 else change.text[:117] + "..."
        detail = {"Completed": "completed", "New": "new action",
                  "Date slipped": f"date moved from {change.before} to {change.after}"
                                  + (f" because: {change.reason}" if change.reason else ""),
                  "Status moved": f"{change.before} to {change.after}"}[change.kind]
        lines.append(f"{change.ref} ({detail}): {text}")
    if len(data.changes) > HEADLINES:
        lines.append(f"... and {len(data.changes) - HEADLINES} more on the Changes sheet.")
    return lines


def summary_figures(data: WorkbookData) -> dict[str, int]:
    """The headline numbers every paper shows (the workbook's Summary, the PDF and the covering report)."""
    statuses = Counter(a.status for a in data.actions)
    rags = Counter(a.rag for a in data.actions)
    figures = {"All actions": len(data.actions)}
    figures.update({s.label: statuses[s.value] for s in STATUS_ORDER})
    figures.update({f"RAG: {r.label}": rags[r.value] for r in RAG_ORDER})
    figures["Overdue now"] = sum(1 for a in data.actions if a.days_overdue > 0)
    figures["Changed this quarter"] = sum(1 for a in data.actions if a.changed_this_quarter)
    return figures


def _summary(wb, styles: _Styles, data: WorkbookData, groups: dict[str, tuple[Counter, Counter]]) -> None:
    widths = [40] + [12] * (len(STATUS_ORDER) + len(RAG_ORDER) + 1)
    sheet = _Sheet(wb, styles, "Summary", widths)
    _print_setup(sheet, data)
    append = sheet.append
    append([(title_of(data), "title")])
    facts = [("Partnership", data.partnership_name), ("Quarter", data.quarter), ("Data as at", data.as_at)]
    if data.committee_name:
        facts.append(("Committee", data.committee_name))
    if data.meeting_date:
        facts.append(("Meeting", data.meeting_date))
    for label, value in facts:
        append([(label, "label"), (value, "plain_date" if isinstance(value, dt.date) else "plain")])
    append()
    append([(f"Actions by status and RAG, per {data.group_label.lower()}", "heading")])
    header_row = append([(data.group_label, "header")] + [(s.label, "header") for s in STATUS_ORDER]
                        + [("Total", "header")] + [(f"RAG: {r.label}", "header") for r in RAG_ORDER])
    totals_status, totals_rag = Counter(), Counter()
    for group, (statuses, rags) in groups.items():
        totals_status.update(statuses)
        totals_rag.update(rags)
        append([(group, "wrap")] + [(statuses[s.value], "number") for s in STATUS_ORDER]
               + [(sum(statuses.values()), "total")] + [(rags[r.value], "number") for r in RAG_ORDER])
    last_group_row = sheet.row
    append([("All actions", "total")] + [(totals_status[s.value], "total") for s in STATUS_ORDER]
           + [(sum(totals_status.values()), "total")] + [(totals_rag[r.value], "total") for r in RAG_ORDER])
    append()
    append([("Headline changes", "heading")])
    kinds = Counter(change.kind for change in data.changes)
    append([(f"Compared with {data.compared_with}." if data.compared_with else
             "No earlier workbook to compare with.", "plain")])
    for kind in CHANGE_KINDS:
        append([(kind, "label"), (kinds[kind], "plain")])
    figures = summary_figures(data)
    append([("Overdue now", "label"), (figures["Overdue now"], "plain")])
    append([("Changed this quarter", "label"), (figures["Changed this quarter"], "plain")])
    for line in headlines(data):
        append([(line, "plain")])
    for section in data.sections:
        for sentence in section.summary:
            append([(f"{section.title}: {sentence}", "plain")])
    if groups:
        append()
        chart_note = append([("Chart: the status columns of the table above, as stacked bars per "
                              f"{data.group_label.lower()}.", "plain")])
        # The chart starts a page of its own, so it is never split across two.
        sheet.ws.set_h_pagebreaks([chart_note - 1])
        chart = _status_chart(wb, data, header_row, last_group_row)
        sheet.ws.insert_chart(chart_note, 0, chart, {"description": chart.alt_text, "object_position": 3})


def _status_chart(wb, data: WorkbookData, header_row: int, last_group_row: int):
    chart = wb.add_chart({"type": "bar", "subtype": "stacked"})
    title = f"Status of actions by {data.group_label.lower()}"
    for index, status in enumerate(STATUS_ORDER, start=1):
        colour = "#" + palette.status_fill(status)
        chart.add_series({
            "name": ["Summary", header_row - 1, index],
            "categories": ["Summary", header_row, 0, last_group_row - 1, 0],
            "values": ["Summary", header_row, index, last_group_row - 1, index],
            "fill": {"color": colour}, "border": {"color": "#333E48"}, "gap": 60, "overlap": 100,
        })
    chart.set_title({"name": title})
    chart.set_x_axis({"name": "Number of actions"})
    chart.set_y_axis({"name": data.group_label, "reverse": True})
    chart.set_legend({"position": "bottom"})
    groups = last_group_row - header_row
    # At most a landscape page high (about 17 cm of A4 with its margins).
    chart.set_size({"width": 980, "height": int(min(620, max(300, 28 * groups + 160)))})
    chart.alt_text = (f"Stacked bar chart of the number of actions in each status for each "
                      f"{data.group_label.lower()} of {data.plan_name}, {data.quarter}. "
                      "The same figures are in the table on this sheet.")
    return chart


def moved_text(row) -> str:
    if not (row.moved_reason or row.moved_by or row.moved_on):
        return ""
    who = ", ".join(part for part in (row.moved_by, _long_date(row.moved_on) if row.moved_on else "") if part)
    return (row.moved_reason or "No reason recorded") + (f" ({who})" if who else "")


@functools.lru_cache(maxsize=4096)
def _long_date(day: dt.date) -> str:
    return long_date(day)


STATUS_LABELS = {status.value: status.label for status in Status}
RAG_LABELS = {colour.value: colour.label for colour in Rag}
#: Excel's day 0 (its 1900 date system counts 1900 as a leap year, so every date from March 1900 on is
#: this many days after it).
EXCEL_EPOCH = dt.date(1899, 12, 30)
EXCEL_FIRST_TRUE_DAY = dt.date(1900, 3, 1)
_FORMULA_STARTS = frozenset(FORMULA_PREFIXES)
_illegal = ILLEGAL_CHARACTERS_RE.search


def _points(lines: int) -> float:
    """The height of a row holding that many lines of text (Excel's limit at most)."""
    return min(lines * LINE_HEIGHT_POINTS, MAX_ROW_HEIGHT_POINTS)


#: Lines beyond which a row is no taller (MAX_ROW_HEIGHT_POINTS): a row's line count fits in a byte.
_MAX_LINES = -(-MAX_ROW_HEIGHT_POINTS // LINE_HEIGHT_POINTS)


class _Table:
    """A long table (Actions, Overdue, Changes) written row by row with XlsxWriter's typed calls.

    Each row's text values come as one tuple (`text_columns` gives their columns): checked once for characters
    XML forbids and Excel's length limit (cleaned cell by cell only when it has them), each written with its
    column's format looked up once (the quote-prefixed one for text that looks like a formula), an empty one
    as a blank with the border. Dates go in as Excel day numbers.

    Row heights are worked out before the sheet is started (`plan`), from the wrapping columns as
    `_Sheet.append` does: the commonest becomes the sheet's default row height and only the other rows are given
    theirs, since XlsxWriter keeps what it is told about each row until the workbook is closed.
    """

    def __init__(self, columns: Sequence[Column], text_columns: Sequence[int]):
        self.columns = columns
        self.text_columns = tuple(text_columns)
        #: (position in the text tuple, characters a line holds, width) of each text column that wraps.
        self.wrapping = [(index, max(int(columns[col].width * 1.1) - 1, 1), columns[col].width)
                         for index, col in enumerate(self.text_columns) if columns[col].style in WRAPPING]
        self.lines = bytearray()
        self.common = 1

    def plan(self, rows: Sequence, texts_of) -> int:
        """Each row's line count, and the commonest (fewest lines on a tie) as the default: its height returned."""
        wrapping = self.wrapping
        lines = self.lines = bytearray(len(rows))
        for index, row in enumerate(rows):
            texts = texts_of(row)
            most = 1
            for position, per_line, width in wrapping:
                value = texts[position]
                if value and (len(value) > per_line or "\n" in value):
                    found = wrapped_lines(value, width)
                    if found > most:
                        most = found
            lines[index] = most if most < _MAX_LINES else _MAX_LINES
        if rows:
            counts = Counter(lines)
            self.common = max(counts, key=lambda n: (counts[n], -n))
        return _points(self.common)

    def attach(self, sheet: _Sheet) -> None:
        ws = sheet.ws
        self.sheet = sheet
        self.write_string, self.write_number, self.write_blank = ws.write_string, ws.write_number, ws.write_blank
        self.set_row = ws.set_row
        formats, quoted = sheet.styles.formats, sheet.styles.quoted
        known = [column.style if column.style in formats else "text" for column in self.columns]  # "rag": per row
        self.formats = [formats[style] for style in known]
        self.text_cells = [(col, formats[known[col]], quoted[known[col]]) for col in self.text_columns]

    def height(self, row: int, index: int) -> None:
        """Row `row` (of the sheet) given the height of the table's row `index` when it is not the default."""
        lines = self.lines[index]
        if lines != self.common:
            self.set_row(row, _points(lines))

    def texts(self, row: int, values: tuple) -> None:
        try:
            joined = "".join(values)
        except TypeError:  # a missing value (None): a blank cell
            values = tuple("" if value is None else value for value in values)
            joined = "".join(values)
        if _illegal(joined) is not None or len(joined) > EXCEL_CELL_LIMIT:
            values = [safe_text(value) for value in values]
        write_string, write_blank, starts = self.write_string, self.write_blank, _FORMULA_STARTS
        for (col, plain, quoted), value in zip(self.text_cells, values):
            if value:
                write_string(row, col, value, quoted if value[0] in starts else plain)
            else:
                write_blank(row, col, None, plain)

    def date(self, row: int, col: int, value: dt.date | None) -> None:
        if value is None:
            self.write_blank(row, col, None, self.formats[col])
        elif value >= EXCEL_FIRST_TRUE_DAY and not isinstance(value, dt.datetime):
            self.write_number(row, col, (value - EXCEL_EPOCH).days, self.formats[col])
        else:
            self.sheet.write(row, col, value, "date")

    def number(self, row: int, col: int, value: int | float | None) -> None:
        if value is None:
            self.write_blank(row, col, None, self.formats[col])
        else:
            self.write_number(row, col, value, self.formats[col])


def _action_texts(row: ActionRow) -> tuple:
    moved = moved_text(row) if (row.moved_reason or row.moved_by or row.moved_on) else ""
    return (row.group, row.ref, row.proposals, row.text, row.lead_officer, row.organisations, row.timescale_text,
            row.rag_text, row.latest_update, moved)


def _actions(wb, styles, data: WorkbookData) -> None:
    table = _Table(ACTION_COLUMNS, (0, 1, 2, 3, 4, 5, 6, 10, 11, 15))
    default = table.plan(data.actions, _action_texts)
    sheet = _table_sheet(wb, styles, data, "Actions", ACTION_COLUMNS, len(data.actions), freeze_cols=2, paper=A3,
                         default_height=default, group=data.group_label, items=data.item_label)
    table.attach(sheet)
    texts, date, height = table.texts, table.date, table.height
    write_string, write_number, formats = table.write_string, table.write_number, table.formats
    status_format, number_format, changed_format = formats[8], formats[13], formats[14]
    rag_cells = {colour.value: (RAG_LABELS[colour.value], styles.formats[f"rag:{colour.value}"]) for colour in Rag}
    first = sheet.row
    for index, row in enumerate(data.actions):
        r = first + index
        height(r, index)
        texts(r, _action_texts(row))
        date(r, 7, row.due)
        write_string(r, 8, STATUS_LABELS[row.status], status_format)
        write_string(r, 9, *rag_cells[row.rag])
        date(r, 12, row.latest_update_on)
        if row.days_overdue is None:
            table.number(r, 13, None)
        else:
            write_number(r, 13, row.days_overdue, number_format)
        write_string(r, 14, "Yes" if row.changed_this_quarter else "No", changed_format)
    sheet.row = first + len(data.actions)


def _overdue_texts(row: ActionRow) -> tuple:
    return row.ref, row.text, row.lead_officer, row.latest_update


def _overdue(wb, styles, data: WorkbookData) -> None:
    overdue = sorted((a for a in data.actions if a.days_overdue > 0), key=lambda a: (-a.days_overdue, a.ref))
    table = _Table(OVERDUE_COLUMNS, (1, 2, 3, 6))
    default = table.plan(overdue, _overdue_texts)
    sheet = _table_sheet(wb, styles, data, "Overdue", OVERDUE_COLUMNS, len(overdue), default_height=default)
    table.attach(sheet)
    texts, date, height, write_string, write_number = table.texts, table.date, table.height, table.write_string, \
        table.write_number
    number_format, status_format = table.formats[0], table.formats[5]
    first = sheet.row
    for index, row in enumerate(overdue):
        r = first + index
        height(r, index)
        write_number(r, 0, row.days_overdue, number_format)
        texts(r, _overdue_texts(row))
        date(r, 4, row.due)
        write_string(r, 5, STATUS_LABELS[row.status], status_format)
        date(r, 7, row.latest_update_on)
    sheet.row = first + len(overdue)


def _change_texts(change: ChangeRow) -> tuple:
    reason = change.reason or ("No reason recorded" if change.kind == "Date slipped" else "")
    return change.kind, change.ref, change.text, change.before, change.after, reason, change.moved_by


def _changes(wb, styles, data: WorkbookData) -> None:
    table = _Table(CHANGE_COLUMNS, (0, 1, 2, 3, 4, 5, 6))
    default = table.plan(data.changes, _change_texts)
    sheet = _table_sheet(wb, styles, data, "Changes", CHANGE_COLUMNS, len(data.changes), default_height=default)
    table.attach(sheet)
    texts, date, number, height = table.texts, table.date, table.number, table.height
    first = sheet.row
    for index, change in enumerate(data.changes):
        r = first + index
        height(r, index)
        texts(r, _change_texts(change))
        date(r, 7, change.moved_on)
        number(r, 8, change.times_date_moved)
    sheet.row = first + len(data.changes)


def _self_evaluation(wb, styles, data: WorkbookData) -> None:
    sheet = _table_sheet(wb, styles, data, "Self-evaluation", RATING_COLUMNS, len(data.self_evaluation),
                         items=data.item_label, current=data.current_round or "none agreed",
                         previous=data.previous_round or "none")
    for rating in data.self_evaluation:
        sheet.append([(rating.number, "text"), (rating.title, "wrap"), (rating.current, "wrap"),
                      (rating.previous, "wrap"), (rating.movement, "text")])


#: Rows each indicator's block takes: its chart sits beside the block, two blocks to a printed page.
INDICATOR_BLOCK_ROWS = 18
INDICATOR_BLOCKS_PER_PAGE = 2


def _indicators(wb, styles, data: WorkbookData) -> None:
    sheet = _Sheet(wb, styles, "Indicators", (34, 14, 14, 60))
    _print_setup(sheet, data)
    tolerance = f"{rag.TARGET_TOLERANCE:.0%}"
    sheet.append([("Performance indicators", "title")])
    sheet.append([(f"Values as at {long_date(data.as_at)}: the last eight periods of each indicator.", "plain")])
    sheet.append([(f"Against target: green meets or beats the target; amber misses it by no more than "
                   f"{tolerance} of the target; red misses it by more. Direction of travel compares the latest "
                   "value with the one before.", "plain")])
    sheet.append()
    breaks = []
    for number, indicator in enumerate(data.indicators):
        if number and number % INDICATOR_BLOCKS_PER_PAGE == 0:
            breaks.append(sheet.row)  # a page starts here: no chart is cut in two
        start = sheet.row
        better = "higher is better" if indicator.higher_is_better else "lower is better"
        sheet.append([(indicator.name, "heading")])
        sheet.append([(f"{indicator.unit.capitalize()}, {indicator.frequency}, {better}"
                       + (f". Data: {indicator.responsible}" if indicator.responsible else "")
                       + (f". {indicator.note}" if indicator.note else ""), "plain")])
        sheet.append([("Latest against target", "label"), (indicator.rag.label, f"rag:{indicator.rag.value}"),
                      ("", "plain"), (indicator.rag_text, "note")])
        sheet.append([("Direction of travel", "label"), (indicator.direction, "label")])
        header = sheet.append([("Period", "header"), ("Value", "header"), ("Target", "header")])
        periods = indicator.periods[-8:]
        for period in periods:
            sheet.append([(period.label, "text"), (period.value, "number"), (period.target, "number")])
        last = sheet.row
        if any(p.value is not None for p in periods):
            chart = wb.add_chart({"type": "line"})
            categories = ["Indicators", header, 0, last - 1, 0]
            chart.add_series({"name": "Value", "categories": categories,
                              "values": ["Indicators", header, 1, last - 1, 1],
                              "marker": {"type": "circle"}, "line": {"color": "#" + palette.fill("blue")}})
            if any(p.target is not None for p in periods):
                chart.add_series({"name": "Target", "categories": categories,
                                  "values": ["Indicators", header, 2, last - 1, 2],
                                  "line": {"color": "#333E48", "dash_type": "dash"}})
            chart.set_title({"name": indicator.name[:120]})
            chart.set_legend({"position": "bottom"})
            chart.set_size({"width": 600, "height": 300})
            sheet.ws.insert_chart(start, 4, chart, {"description": indicator_chart_description(indicator),
                                                     "object_position": 3})
        while sheet.row < start + INDICATOR_BLOCK_ROWS:
            sheet.append()
    if breaks:
        sheet.ws.set_h_pagebreaks(breaks)


def _section(wb, styles, data: WorkbookData, section: Section, name: str) -> None:
    widths = list(section.widths) or [max(12, min(60, len(c) + 4)) for c in section.columns]
    widths += [20] * (len(section.columns) - len(widths))
    columns = [Column(title, width, "wrap") for title, width in zip(section.columns, widths)]
    flagged = [i for i in section.flagged_rows if 0 <= i < len(section.rows)]
    order = flagged + [i for i in range(len(section.rows)) if i not in set(flagged)]
    sheet = _table_sheet(wb, styles, data, name, columns, len(order))
    for index in order:
        style = "flag" if index in flagged else "wrap"
        sheet.append((value, style) for value in section.rows[index][: len(columns)])


def notes_lines(data: WorkbookData) -> list[tuple[str, str]]:
    """The Notes sheet: (heading, text) pairs saying how every figure is worked out."""
    rules = " ".join(line.strip() for line in (rag.derive.__doc__ or "").splitlines()[2:] if line.strip())
    lines = [
        ("RAG rules", rules),
        ("Red", f"Past its due date, or at risk and due within {rag.AT_RISK_RED_WINDOW_DAYS} days."),
        ("Amber", f"At risk, or no progress update for {rag.STALE_AFTER_DAYS} days or more "
                  "(counted from when the action was created if it has never had one)."),
        ("Green", "Open, not at risk, not past due and updated recently."),
        ("Blue", "Complete."),
        ("Not rated", "Superseded by another action; no longer tracked."),
        ("Colour", "Each RAG colour is also written as a word, so the sheets can be read without colour. "
                   "Statuses use the same colours in every chart: On track green, At risk amber, Complete blue."),
        ("Data as at", f"Every action is shown as it stood on {long_date(data.as_at)}: its status, due date, "
                       "lead and RAG are worked out from the tracker's history for that date, so building this "
                       f"{data.quarter} workbook again later gives the same figures."),
        ("Days overdue", "Days between the due date (the end of the timescale as written, or the latest "
                         "revised timescale) and the data-as-at date; 0 when not past due or closed."),
        ("Changed this quarter", f"Yes when the action had a progress update in {data.quarter} or appears "
                                 "on the Changes sheet."),
        ("Changes", "Compared with " + (data.compared_with or "the state at the start of the quarter") + ". "
                    "New: not in the comparison. Completed: now complete and not before. Status moved: any "
                    "other change of status. Date slipped: the due date is later than before, with the reason "
                    "given for the new date, who gave it and when; 'Times the date has moved' counts every "
                    "progress update that revised the timescale."),
        ("Self-evaluation", "The latest agreed self-evaluation rating of each proposal beside the rating in "
                            "the round before it."),
        ("Summary counts", "Counted from the rows of the Actions sheet; every action is in exactly one "
                           f"{data.group_label.lower()} (the one of its first linked {data.item_label.lower()})."),
    ]
    if data.draft:
        lines.insert(0, ("DRAFT", "This workbook has not been issued: its figures may still change."))
    for name, why in left_out(data):
        lines.append((f"{name} left out", f"The {name} sheet is left out: {why}"))
    return lines


def _notes(wb, styles, data: WorkbookData) -> None:
    sheet = _Sheet(wb, styles, "Notes", (24, 100))
    _print_setup(sheet, data)
    sheet.append([("Notes: how the figures are worked out", "title")])
    for heading, text in notes_lines(data):
        sheet.append([(heading, "label"), (text, "note")])
