"""Read an action or delivery plan (.xlsx) into rows of actions; no database.

Plans differ in layout, so the reader finds the header row under any title block, guesses what each
column holds from its header (the user can correct the mapping), fills merged cells, treats blanks inside
a merged block as "same as above", and turns the outcome > priority area > action hierarchy into themes
and items. Values are read with python-calamine (stored results of formulas, never evaluated) after the
file passed every check in tracker.imports.safety; merged ranges come from calamine's own list, and
formulas without a stored value from one pass over the sheet's XML, because calamine shows them as blank.
"""
from __future__ import annotations

import datetime as dt
import functools
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import python_calamine
from lxml import etree
from openpyxl.utils import column_index_from_string, get_column_letter

from tracker.frameworks.services import builtin_definition
from tracker.imports.problems import ERROR, WARNING, Problem
from tracker.imports.safety import CheckedFile, ImportRefused, Limits, check
from tracker.rag import Status
from tracker.timescales import interpret

#: What a column can hold, in the order the preview lists them.
ROLES = {
    "outcome": "Outcome",
    "area_ref": "Priority area number",
    "area": "Priority area",
    "ref": "Action reference",
    "action": "Action",
    "timescale": "Timescale",
    "officer": "Lead officer (a person or job title)",
    "lead": "Lead or partner organisations",
    "msg": "MSG proposals",
    "status": "Status",
}
#: Header words for each role, most specific first (a header is tested against the roles in this order).
HEADER_WORDS = [
    ("msg", ("msg", "proposal")),
    ("outcome", ("outcome", "key feature", "theme")),
    ("area", ("priority area", "priority", "objective", "area")),
    ("timescale", ("timescale", "target date", "due date", "deadline", "by when", "completion date", "date", "when")),
    ("status", ("rag", "status", "progress")),
    ("officer", ("officer", "responsib", "by whom", "owner", "person", "contact", "named lead")),
    ("lead", ("lead", "partner", "organisation", "agency", "agencies", "by who", "who")),
    ("action", ("action", "what we will do", "activity", "activities", "task", "description")),
    ("ref", ("ref", "no.", "number", "#", "id")),
]
STATUS_WORDS = {
    "on track": Status.ON_TRACK, "green": Status.ON_TRACK, "in progress": Status.ON_TRACK,
    "underway": Status.ON_TRACK, "progressing": Status.ON_TRACK,
    "complete": Status.COMPLETE, "completed": Status.COMPLETE, "done": Status.COMPLETE,
    "achieved": Status.COMPLETE, "blue": Status.COMPLETE, "closed": Status.COMPLETE,
    "delayed": Status.AT_RISK, "slippage": Status.AT_RISK, "slipped": Status.AT_RISK, "at risk": Status.AT_RISK,
    "amber": Status.AT_RISK, "red": Status.AT_RISK, "behind schedule": Status.AT_RISK, "off track": Status.AT_RISK,
    "not started": Status.NOT_STARTED, "not yet started": Status.NOT_STARTED, "yet to start": Status.NOT_STARTED,
    "ongoing": Status.ONGOING, "continuous": Status.ONGOING, "business as usual": Status.ONGOING,
    "superseded": Status.SUPERSEDED, "withdrawn": Status.SUPERSEDED, "no longer required": Status.SUPERSEDED,
}
HIERARCHY = ("outcome", "area_ref", "area")
HEADER_SEARCH_ROWS = 30
PROGRESS_EVERY = 500
SHEET_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
MSG_NUMBERS = frozenset(item["number"] for theme in builtin_definition("msg")["themes"] for item in theme["items"])
_MSG_CANONICAL = {number: number for number in MSG_NUMBERS}
REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
OFFICE_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_SAFE_XML = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
FORMULA = re.compile(rb"<(?:\w+:)?f[\s/>]")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


@dataclass
class ParsedPlan:
    rows: list[dict]
    problems: list[Problem]
    sheet: str = ""
    header_row: int = 0
    headers: dict[str, str] = field(default_factory=dict)  # column letter -> header as written
    mapping: dict[str, str] = field(default_factory=dict)  # role -> column letter
    title: str = ""  # the title block above the header row
    themes: list[dict] = field(default_factory=list)  # [{number, title, items: [{number, title}]}]
    rows_read: int = 0
    mode: str = ""
    kind: str = "xlsx"

    def to_dict(self, rows: bool = True) -> dict:
        """JSON values; without the rows when `rows` is false (a preview keeps them once, as its own rows)."""
        return {**{k: getattr(self, k) for k in self.__dataclass_fields__ if k != "problems" and (rows or k != "rows")},
                "problems": [p.to_dict() for p in self.problems]}

    @classmethod
    def from_dict(cls, data: dict) -> ParsedPlan:
        return cls(**{**data, "problems": [Problem.from_dict(p) for p in data["problems"]]})


def parse(file, *, mapping: dict[str, str] | None = None, limits: Limits | None = None,
          progress: Callable[[int], None] | None = None) -> ParsedPlan:
    """Read the first sheet with a header row; `mapping` (role -> column letter) overrides the guess.

    Only a file that passed every check in tracker.imports.safety is opened.
    """
    limits = limits or Limits()
    checked = file if isinstance(file, CheckedFile) else check(file, limits, expect="xlsx")
    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(checked.data))
    except Exception:  # the reader raises several kinds on a damaged workbook
        raise ImportRefused("The workbook is damaged: Excel's parts could not be read.") from None
    try:
        grid, sheet_name, sheet_index, merges, skipped = _first_sheet_with_data(workbook, limits, progress)
    except ImportRefused:
        raise
    except Exception:  # a damaged sheet shows only when its rows are read
        raise ImportRefused("The workbook is damaged: a sheet's cells could not be read.") from None
    finally:
        workbook.close()
    uncached = _uncached_formulas(checked, sheet_index)
    _release_freed_memory()
    parsed = _Interpreter(grid, sheet_name, merges, uncached, mapping).run()
    parsed.problems[:0] = [Problem(f"The sheet '{name}' has no header row (Action, Lead, Timescale ...); it was not "
                                   "read.", WARNING, sheet=name) for name in skipped]
    return parsed


def _release_freed_memory() -> None:
    """Hand the memory the reader freed (its copy of the sheet, the sheet's XML) back to the system.

    The reader keeps its cells outside Python's own allocator; once they are Python values that memory is
    free but stays with the process, on top of everything the import builds next. Only with glibc
    (elsewhere there is nothing to call, and nothing is done)."""
    try:
        _libc().malloc_trim(0)
    except (OSError, AttributeError):
        pass


@functools.lru_cache(maxsize=1)
def _libc():
    import ctypes

    return ctypes.CDLL("libc.so.6")


def _first_sheet_with_data(workbook, limits: Limits, progress):
    """The first worksheet with a header row (else the first with anything in it), and the sheets passed over."""
    empty, skipped, first = [], [], None
    for index, meta in enumerate(workbook.sheets_metadata):
        if str(meta.typ) != str(python_calamine.SheetTypeEnum.WorkSheet):
            continue
        sheet = workbook.get_sheet_by_index(index)
        grid = _read_grid(sheet, limits, progress)
        if not grid:
            empty.append(sheet.name)
            continue
        found = (grid, sheet.name, index, _merged_ranges(sheet))
        if _header_row(grid) is not None:
            return (*found, skipped)
        skipped.append(sheet.name)
        first = first or found
    if first:
        return (*first, [])
    raise ImportRefused(f"The workbook has no data: {', '.join(repr(n) for n in empty)} "
                        f"{'is' if len(empty) == 1 else 'are'} empty.")


def _merged_ranges(sheet) -> list[tuple[int, int, int, int]]:
    """(first row, first column, last row, last column), 1-based, from the reader's own list of merged cells."""
    return [(top + 1, left + 1, bottom + 1, right + 1)
            for (top, left), (bottom, right) in (sheet.merged_cell_ranges or [])]


def _read_grid(sheet, limits: Limits, progress) -> list[list]:
    """Every row from A1 down, blanks as empty strings; refused before reading when the sheet is too long."""
    if sheet.height and sheet.end and sheet.end[0] + 1 > limits.max_rows + HEADER_SEARCH_ROWS:
        raise ImportRefused(_too_many_rows(sheet.name, limits))
    grid = sheet.to_python(skip_empty_area=False) if sheet.height else []
    if len(grid) > limits.max_rows + HEADER_SEARCH_ROWS:
        raise ImportRefused(_too_many_rows(sheet.name, limits))
    while grid and all(_blank(v) for v in grid[-1]):
        grid.pop()
    if grid and progress:
        progress(len(grid))
    return grid


def _header_row(grid: list[tuple]) -> int | None:
    """The row (1-based) among the first 30 that names most columns, counting an action column double."""
    best, best_score = None, 0
    for index, values in enumerate(grid[:HEADER_SEARCH_ROWS], start=1):
        roles = {guess_role(_text(v)) for v in values if isinstance(v, str)} - {None}
        score = len(roles) + (2 if "action" in roles else 0)
        if score > best_score and len(roles) >= 2:
            best, best_score = index, score
    return best


def _too_many_rows(title: str, limits: Limits) -> str:
    return (f"The sheet '{title}' has more than {limits.max_rows:,} rows, the most one import takes. "
            "Split the plan into smaller workbooks.")


def _uncached_formulas(checked: CheckedFile, sheet_index: int) -> list[str]:
    """Formula cells without a stored value, from the sheet's XML (the reader shows them as blank).

    Most plans hold no formula, so the sheet is searched for one before any element-by-element pass (not even
    unpacked again when the safety checks saw nothing like a formula in it).
    """
    path = _sheet_path(checked, sheet_index)
    if path is None or checked.formula_parts is not None and path not in checked.formula_parts:
        return []
    with checked.open_zip() as archive:
        xml = archive.read(path)
    uncached = []
    if FORMULA.search(xml):
        parser = etree.iterparse(io.BytesIO(xml), events=("end",), tag=f"{SHEET_NS}c", resolve_entities=False,
                                 no_network=True, load_dtd=False, huge_tree=False)
        for _event, element in parser:
            if len(element) and element.find(f"{SHEET_NS}f") is not None:
                value = element.find(f"{SHEET_NS}v")
                if value is None or not (value.text or "").strip():
                    uncached.append(element.get("r"))
            element.clear()
    return uncached


ROW_TAG = re.compile(rb"<(?:\w+:)?row[\s>]")


def count_rows(checked: CheckedFile) -> int:
    """How many rows the workbook's largest worksheet holds, from its XML (no cell is read): whether an
    import is big enough to run in the background. Only for a file that passed the safety checks."""
    with checked.open_zip() as archive:
        names = [n for n in archive.namelist() if n.startswith("xl/worksheets/") and n.endswith(".xml")]
        return max((len(ROW_TAG.findall(archive.read(name))) for name in names), default=0)


def _sheet_path(checked: CheckedFile, sheet_index: int) -> str | None:
    """The zip path of the workbook's n-th worksheet, through the workbook's relationships."""
    with checked.open_zip() as archive:
        workbook = etree.fromstring(archive.read("xl/workbook.xml"), _SAFE_XML)
        try:
            rels = etree.fromstring(archive.read("xl/_rels/workbook.xml.rels"), _SAFE_XML)
        except KeyError:
            return None
        names = set(archive.namelist())
    targets = {rel.get("Id"): rel.get("Target", "") for rel in rels.iter(f"{REL_NS}Relationship")}
    sheets = list(workbook.iter(f"{SHEET_NS}sheet"))
    if sheet_index >= len(sheets):
        return None
    target = targets.get(sheets[sheet_index].get(f"{OFFICE_REL_NS}id"), "")
    path = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    path = re.sub(r"[^/]+/\.\./", "", path)
    return path if path in names else None


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


_SPACES = re.compile(r"[ \t\u00a0]+")


def _text(value) -> str:
    if value is None or value == "":
        return ""
    if type(value) is str:  # most cells: only collapse spaces when there is something to collapse
        if "  " in value or "\t" in value or "\xa0" in value:
            return _SPACES.sub(" ", value).strip()
        return value.strip()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dt.datetime, dt.date)):
        return _as_date(value).isoformat()
    return _SPACES.sub(" ", str(value)).strip()


def _texts(values: list, *, memo: bool = True) -> list[str]:
    """`_text` of each value; with `memo`, each distinct string converted once (a column repeats its values)."""
    if not memo:
        return [_text(value) for value in values]
    seen: dict[str, str] = {}
    texts = []
    for value in values:
        if type(value) is str:
            text = seen.get(value)
            if text is None:
                text = seen[value] = _text(value)
        else:
            text = _text(value)
        texts.append(text)
    return texts


def _as_date(value) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def _normal_header(text: str) -> str:
    return re.sub(r"\s+", " ", text.lower().replace("(s)", "").replace("’", "'")).strip(" :")


@functools.lru_cache(maxsize=1024)
def guess_role(header: str) -> str | None:
    """What a column holds, from its header ("Responsible officer" -> lead); None if unknown."""
    text = _normal_header(header)
    if not text:
        return None
    for role, words in HEADER_WORDS:
        for word in words:
            if word in ("#", "id", "no.", "ref", "who", "when", "date", "area", "number"):
                if re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text):
                    return role
            elif word in text:
                return role
    return None


_WHITESPACE = re.compile(r"\s+")


@functools.lru_cache(maxsize=1024)
def status_from_text(text: str) -> Status | None:
    key = _WHITESPACE.sub(" ", text.lower().replace("-", " ")).strip(" .")
    if key in STATUS_WORDS:
        return STATUS_WORDS[key]
    hint = interpret(text).status_hint
    return Status(hint) if hint else None


_MSG_NUMBER = re.compile(r"(?<![\d.])(\d)\s*\.\s*(\d{1,2})(?![\d.])")


def msg_numbers(text: str) -> list[str]:
    return [f"{int(a)}.{int(b)}" for a, b in _MSG_NUMBER.findall(text)] if text else []


class _Interpreter:
    """Turns the sheet's grid into action rows; every guess and gap becomes a located problem.

    The rows are read column by column first: each mapped column's cells as text (each distinct value of a
    column turned into text once: a plan repeats its few leads, timescales, statuses and merged blocks in
    row after row), with the merged blocks filled in; the pass over the rows then works on those texts.
    """

    def __init__(self, grid, sheet, merges, uncached, mapping):
        self.grid = grid
        self.sheet = sheet
        self.merges = merges
        self.problems: list[Problem] = []
        for cell in uncached:
            self.problems.append(Problem("The cell holds a formula with no calculated value; save the workbook in "
                                         "Excel so the value is stored, or type the value.", WARNING,
                                         sheet=sheet, cell=cell))
        self.requested_mapping = mapping
        self.timescales: dict = {}
        self.msg_cells: dict = {}
        self._filled_columns: dict[int, dict[int, tuple[int, int]]] = {}
        self.result = ParsedPlan(rows=[], problems=self.problems, sheet=sheet, rows_read=len(grid),
                                 mode=f"{len(merges):,} merged cell ranges filled in")

    # -- cells ---------------------------------------------------------------------------------------
    def raw(self, row: int, col: int):
        values = self.grid[row - 1] if row - 1 < len(self.grid) else ()
        return values[col - 1] if col - 1 < len(values) else None

    def filled_rows(self, col: int) -> dict[int, tuple[int, int]]:
        """Row -> the merged block's first cell, for the cells of column `col` inside a merged block (not its
        first cell); a later range wins where ranges overlap, as Excel's list gives them."""
        found = self._filled_columns.get(col)
        if found is None:
            found = self._filled_columns[col] = {}
            for min_row, min_col, max_row, max_col in self.merges:
                if min_col <= col <= max_col:
                    source = (min_row, min_col)  # one tuple per range, shared by its cells
                    for r in range(min_row, max_row + 1):
                        if (r, col) != source:
                            found[r] = source
        return found

    def value(self, row: int, col: int):
        """The cell's value, or the value of the merged block it lies in."""
        value = self.raw(row, col)
        source = self.filled_rows(col).get(row)
        if _blank(value) and source is not None:
            return self.raw(*source)
        return value

    def coordinate(self, row: int, col: int) -> str:
        return f"{get_column_letter(col)}{row}"

    def cell(self, row: int, role: str) -> str | None:
        """The cell of `role` on `row` ("E45"), None when no column holds it."""
        letter = self.result.mapping.get(role)
        return f"{letter}{row}" if letter else None

    def columns(self, header_row: int) -> tuple[dict[str, list[str]], dict[str, list[str]], list, list[bool]]:
        """For the rows below the header: each role's texts as written and with merged blocks filled in (an
        unmapped role reads as blank), the timescale cells' own values, and whether each row lies in a merged
        outcome or priority-area block."""
        body = self.grid[header_row:]
        count = len(body)
        blank = [""] * count
        own = dict.fromkeys(ROLES, blank)
        filled = dict.fromkeys(ROLES, blank)
        timescales = [None] * count
        in_block = [False] * count
        hierarchy = set(self.hierarchy_cols)
        for role, col in self.col_items:
            index = col - 1
            values = [cells[index] if index < len(cells) else None for cells in body]
            if role == "timescale":
                timescales = values
            own[role] = texts = _texts(values, memo=role != "action")
            sources = self.filled_rows(col)
            if not sources:
                filled[role] = texts
                continue
            filled_texts = None
            for row, source in sources.items():
                position = row - header_row - 1
                if not 0 <= position < count:
                    continue
                if col in hierarchy:
                    in_block[position] = True
                if not texts[position]:
                    if filled_texts is None:
                        filled_texts = list(texts)
                    filled_texts[position] = _text(self.raw(*source))
            filled[role] = texts if filled_texts is None else filled_texts
        return own, filled, timescales, in_block

    # -- layout --------------------------------------------------------------------------------------
    def guess_mapping(self, header_row: int) -> dict[str, str]:
        mapping: dict[str, str] = {}
        for col, value in enumerate(self.grid[header_row - 1], start=1):
            role = guess_role(_text(value))
            if role and role not in mapping:
                mapping[role] = get_column_letter(col)
        if "ref" in mapping and "area_ref" not in mapping and self._ref_spans_rows(mapping["ref"], header_row):
            mapping["area_ref"] = mapping.pop("ref")
            self.problems.append(Problem(
                f"The '{self.result.headers.get(mapping['area_ref'], 'Ref')}' column spans several actions, "
                "so it was read as the priority area's number.", WARNING, sheet=self.sheet,
                cell=f"{mapping['area_ref']}{header_row}"))
        return mapping

    def _ref_spans_rows(self, letter: str, header_row: int) -> bool:
        col = column_index_from_string(letter)
        merged = self.filled_rows(col)
        seen = set()
        for row in range(header_row + 1, len(self.grid) + 1):
            if row in merged:
                return True
            text = _text(self.raw(row, col))
            if text and text in seen:
                return True
            seen.add(text)
        return False

    # -- run -----------------------------------------------------------------------------------------
    def run(self, header_row: int | None = None) -> ParsedPlan:
        """`header_row` is the sheet's header row when the caller has found it (`_header_row`)."""
        header_row = header_row or _header_row(self.grid)
        if header_row is None:
            self.problems.append(Problem(
                "No header row was found in the first 30 rows (a row naming columns such as Action, Lead, "
                "Timescale). Choose what each column holds.", ERROR, sheet=self.sheet))
            header_row = 1
        self.result.header_row = header_row
        self.result.headers = {get_column_letter(c): _text(v) for c, v in enumerate(self.grid[header_row - 1], 1)
                               if not _blank(v)}
        self.result.title = " ".join(_text(v) for values in self.grid[:header_row - 1] for v in values
                                     if not _blank(v))
        mapping = dict(self.requested_mapping) if self.requested_mapping else self.guess_mapping(header_row)
        self.result.mapping = {role: letter for role, letter in mapping.items() if role in ROLES and letter}
        if "action" not in self.result.mapping:
            self.problems.append(Problem("No column is marked as holding the actions. Choose it in the column "
                                         "mapping.", ERROR, sheet=self.sheet, row=header_row))
            return self.result
        self.cols = {role: column_index_from_string(letter)
                     for role, letter in self.result.mapping.items()}
        self.col_items = list(self.cols.items())
        self.hierarchy_cols = [self.cols[role] for role in HIERARCHY if role in self.cols]
        self.read_rows(header_row)
        if not self.result.rows:
            self.problems.append(Problem("There are no actions below the header row.", ERROR, sheet=self.sheet,
                                         row=header_row))
        self.build_hierarchy()
        self.check_refs()
        return self.result

    def read_rows(self, header_row: int) -> None:
        own, filled, timescales, in_blocks = self.columns(header_row)
        o_action, o_timescale, o_lead, o_officer, o_ref, o_status, o_msg = (
            own[r] for r in ("action", "timescale", "lead", "officer", "ref", "status", "msg"))
        o_outcome, o_area_ref, o_area = (own[r] for r in HIERARCHY)
        f_outcome, f_area_ref, f_area = (filled[r] for r in HIERARCHY)
        mapped = [filled[role] for role in self.cols]
        occupied = [any(texts) for texts in zip(*mapped)]
        has_timescale = "timescale" in self.cols
        previous: dict | None = None
        group: tuple | None = None
        self.area_title_override: dict[str, str] = {}
        rows = self.result.rows
        first = header_row + 1
        for index, in_use in enumerate(occupied):
            if not in_use:
                continue
            row = first + index
            in_block = in_blocks[index]
            outcome, area_ref, area = f_outcome[index], f_area_ref[index], f_area[index]
            if previous is not None:  # a blank means "same as above" unless a higher level changed
                above = group
                if not outcome and not area_ref and not area:
                    in_block = True  # nothing new in the hierarchy columns: still the block above
                changed = False
                if outcome:
                    changed = outcome != above[0]
                else:
                    outcome = above[0]
                if area_ref:
                    changed = changed or area_ref != above[1]
                elif not changed:
                    area_ref = above[1]
                if not area and not changed:
                    area = above[2]
                row_group = above if (outcome, area_ref, area) == above else (outcome, area_ref, area)
            else:
                above = None
                row_group = (outcome, area_ref, area)
            text = o_action[index]
            timescale_value, timescale_text = timescales[index], o_timescale[index]
            if (previous is not None and text and text[0].islower() and above == row_group
                    and not (o_timescale[index] or o_lead[index] or o_officer[index] or o_ref[index]
                             or o_status[index] or o_msg[index])
                    and not previous["text"].endswith((".", "!", "?"))):
                previous["text"] = f"{previous['text']} {text}"
                self.problems.append(Problem("The action continues the one on the row above; the two were joined.",
                                             WARNING, sheet=self.sheet, row=row,
                                             cell=self.coordinate(row, self.cols["action"])))
                continue
            if text and not o_timescale[index] and has_timescale and _reads_as_timescale(text):
                timescale_value, timescale_text, text = text, text, ""
                self.problems.append(Problem(
                    f"The action cell holds '{timescale_value}', which reads as a timescale; it was used as the "
                    "timescale.", WARNING, sheet=self.sheet, row=row, cell=self.coordinate(row, self.cols["action"])))
                text = self._action_from_area(row, f_area[index])
            if not text:
                if o_timescale[index] or o_lead[index] or o_officer[index] or o_status[index] or o_ref[index] or \
                        o_msg[index] or not (o_outcome[index] or o_area_ref[index] or o_area[index]):
                    self.problems.append(Problem("The row has no action text; it was skipped.", ERROR,
                                                 sheet=self.sheet, row=row,
                                                 cell=self.coordinate(row, self.cols["action"])))
                continue
            same_block = in_block and above == row_group
            current = self._action_row(row, index, text, timescale_value, timescale_text, row_group, same_block,
                                       own, filled, previous)
            rows.append(current)
            previous, group = current, row_group

    def _action_from_area(self, row: int, area_text: str) -> str:
        """A missing action text that was typed into the end of the priority area's cell (a real quirk)."""
        if "area" not in self.cols:
            return ""
        sentences = SENTENCE_END.split(area_text)
        if len(sentences) < 2:
            return ""
        self.area_title_override[area_text] = " ".join(sentences[:-1])
        col = self.cols["area"]
        source = self.filled_rows(col).get(row, (row, col))
        self.problems.append(Problem(
            f"The action text was missing; the last sentence of the priority area cell {self.coordinate(*source)} "
            f"('{sentences[-1][:60]}') was taken as the action. Check it.", WARNING, sheet=self.sheet, row=row,
            cell=self.coordinate(row, self.cols["action"])))
        return sentences[-1]

    def _action_row(self, row, index, text, timescale_value, timescale_text, group, same_block, own, filled,
                    previous) -> dict:
        """`same_block`: the row lies in the merged block (or the blank hierarchy) of the action above, in its
        group: its blank lead, officer and proposals cells mean "same as above". `timescale_text` is the
        timescale cell's text (or the action cell's, when that held the timescale)."""
        cols = self.cols
        lead, lead_inherited = own["lead"][index], False
        if not lead and "lead" in cols:
            lead = filled["lead"][index]
            if not lead and same_block and previous["lead"]:
                lead, lead_inherited = previous["lead"], True
        officer, officer_inherited = own["officer"][index], False
        if not officer and "officer" in cols:
            officer = filled["officer"][index]
            if not officer and same_block and previous["officer"]:
                officer, officer_inherited = previous["officer"], True
        msg = []
        if "msg" in cols:
            any_number, numbers, unknown = self._msg_cell(filled["msg"][index])
            if not any_number and same_block and not own["msg"][index]:
                msg = list(previous["msg"])
            else:
                for number in unknown:
                    self.problems.append(Problem(f"'{number}' is not an MSG proposal; the link was left out.",
                                                 WARNING, sheet=self.sheet, row=row, cell=self.cell(row, "msg")))
                msg = list(numbers)
        if isinstance(timescale_value, (dt.datetime, dt.date)):
            timescale = _as_date(timescale_value)
            timescale_key = timescale.isoformat()
        else:
            timescale = timescale_key = timescale_text
        read, timescale_read = self._timescale(timescale)
        status, status_from = None, None
        status_text = own["status"][index] or filled["status"][index]
        if status_text:
            status = status_from_text(status_text)
            status_from = "status column"
            if status is None:
                self.problems.append(Problem(f"The status '{status_text[:60]}' is not one the tracker knows; "
                                             "the action's status was left as it is.", WARNING,
                                             sheet=self.sheet, row=row, cell=self.cell(row, "status")))
        if status is None and read.status_hint:
            status, status_from = Status(read.status_hint), "timescale"
        if timescale_key and read.kind == "unknown" and not read.status_hint:
            self.problems.append(Problem(f"The timescale '{timescale_key[:60]}' names no date; it is kept as "
                                         "written with no due date.", WARNING, sheet=self.sheet, row=row,
                                         cell=self.cell(row, "timescale")))
        return {
            "row": row,
            "ref": own["ref"][index],
            "text": text,
            "outcome": group[0],
            "area_ref": group[1],
            "area": group[2],
            "timescale": timescale_key,
            "timescale_is_date": isinstance(timescale, dt.date),
            "timescale_read": timescale_read,
            "lead": lead,
            "lead_inherited": lead_inherited,
            "officer": officer,
            "officer_inherited": officer_inherited,
            "msg": msg,
            "status": status.value if status else None,
            "status_from": status_from,
        }

    def _msg_cell(self, text: str) -> tuple[bool, tuple[str, ...], tuple[str, ...]]:
        """Whether a proposals cell names any number, the MSG proposals it names (one string per proposal)
        and the numbers that are not proposals; each distinct cell read once."""
        found = self.msg_cells.get(text)
        if found is None:
            numbers = msg_numbers(text)
            found = self.msg_cells[text] = (bool(numbers), tuple(_MSG_CANONICAL[n] for n in numbers
                                                                 if n in _MSG_CANONICAL),
                                            tuple(n for n in numbers if n not in MSG_NUMBERS))
        return found

    def _timescale(self, timescale) -> tuple:
        """The timescale's reading, and its JSON form (one dict shared by every row with that timescale)."""
        found = self.timescales.get(timescale)
        if found is None:
            read = interpret(timescale)
            found = self.timescales[timescale] = (read, {
                "kind": read.kind, "start": read.start.isoformat() if read.start else None,
                "end": read.end.isoformat() if read.end else None})
        return found

    # -- hierarchy -----------------------------------------------------------------------------------
    def build_hierarchy(self) -> None:
        """Outcomes become themes and priority areas items; actions get refs like "3.4.2" when they have none.

        Consecutive rows of one priority area (most of a plan) share its theme and item, found once."""
        rows = self.result.rows
        if not any(role in self.cols for role in HIERARCHY):
            for index, row in enumerate(rows, start=1):
                row.update(theme=None, item=None, ref=row["ref"] or f"A{index}")
            return
        themes: dict[str, dict] = {}
        numbered = {_numbered(outcome)[0] for outcome in {row["outcome"] or "" for row in rows}}
        auto_numbers = (str(n) for n in range(1, len(rows) + len(numbered) + 2) if str(n) not in numbered)
        item_keys: dict[tuple, tuple[str, str]] = {}
        counters: dict[tuple[str, str], int] = {}
        no_areas = "area" not in self.cols and "area_ref" not in self.cols
        last, pair = None, None
        for row in rows:
            key = (row["outcome"], row["area_ref"], row["area"])
            if key != last:
                last = key
                theme_key = row["outcome"] or ""
                if theme_key not in themes:
                    theme_number, theme_title = _numbered(theme_key)
                    themes[theme_key] = {"number": theme_number or next(auto_numbers), "title": theme_title or
                                         row["outcome"] or "Actions", "items": []}
                theme = themes[theme_key]
                item_key = (theme_key, "", "") if no_areas else (theme_key, row["area_ref"], row["area"])
                if item_key not in item_keys:
                    area_text = self.area_title_override.get(row["area"], row["area"])
                    number, title = row["area_ref"], area_text
                    if not number:
                        number, title = _numbered(area_text)
                    if no_areas:
                        number, title = theme["number"], theme["title"]
                    number = number or f"{theme['number']}.{len(theme['items']) + 1}"
                    title = title.rstrip(" ,;:") or f"Priority area {number}"
                    theme["items"].append({"number": number, "title": title})
                    item_keys[item_key] = (theme["number"], number)
                pair = item_keys[item_key]
            row["theme"], row["item"] = pair
            count = counters[pair] = counters.get(pair, 0) + 1
            if not row["ref"]:
                row["ref"] = f"{row['item']}.{count}"
        self.result.themes = [{"number": t["number"], "title": t["title"], "items": t["items"]}
                              for t in themes.values()]

    def check_refs(self) -> None:
        seen: dict[str, int] = {}
        for row in self.result.rows:
            if row["ref"] in seen:
                self.problems.append(Problem(f"The reference '{row['ref']}' is used again (first on row "
                                             f"{seen[row['ref']]}); each action needs its own.", ERROR,
                                             sheet=self.sheet, row=row["row"], cell=self.cell(row["row"], "ref")))
            seen.setdefault(row["ref"], row["row"])


_NUMBERED = re.compile(r"^\s*(?:outcome|key feature|theme|priority(?: area)?|objective)?\s*(\d+(?:\.\d+)*)\s*"
                       r"[:.\-–—)]?\s+(.*)$", re.I | re.S)


@functools.lru_cache(maxsize=4096)
def _numbered(text: str) -> tuple[str, str]:
    """("1", "I am heard") from "Outcome 1: I am heard"; ("", text) when there is no number."""
    match = _NUMBERED.match(text)
    if match and match[2].strip():
        return match[1], match[2].strip()
    return "", text.strip()


def _reads_as_timescale(text: str) -> bool:
    if len(text) > 60:
        return False
    read = interpret(text)
    return read.kind != "unknown" or read.status_hint is not None
