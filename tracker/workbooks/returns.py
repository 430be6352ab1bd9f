"""Update returns: a spreadsheet of a lead officer's open actions, filled in offline and uploaded back.

Download -> fill in Status, Progress update, Revised timescale (+ reason) -> upload -> preview -> confirm.
Rows whose action changed since the download (its version moved on) are conflicts and are not applied.
"""
from __future__ import annotations

import datetime as dt
import io
import zipfile
from dataclasses import dataclass

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from tracker.audit import services as audit
from tracker.auth.models import Role, User
from tracker.cells import looks_like_formula
from tracker.plans.permissions import can_update_action
from tracker.extensions import db
from tracker.imports import safety
from tracker.plans.models import Action, Plan
from tracker.errors import RuleError
from tracker.plans.services import ConcurrentEditError, check_progress, record_progress
from tracker.rag import OPEN_STATUSES, STATUS_LABELS, Status
from tracker.text import parse_id
from tracker.timeutil import utcnow
from tracker.workbooks.builder import safe_text
from tracker.workbooks.models import ReturnUpload
from tracker.workbooks.services import natural_key

SHEET = "Update return"
MAX_ROWS = 5000
#: (header, width, editable)
COLUMNS = (
    ("Ref", 9, False),
    ("Action", 55, False),
    ("Timescale (as written)", 18, False),
    ("Current status", 14, False),
    ("Status", 14, True),
    ("Progress update", 55, True),
    ("Revised timescale", 18, True),
    ("Reason for the new timescale", 30, True),
    ("Action ID", 10, False),
    ("Version", 8, False),
)
HEADERS = [c[0] for c in COLUMNS]
#: Editable columns kept as text in Excel ("@"), so "June 2031" or "30/06/2031" is not turned into a date.
TEXT_COLUMNS = ("Revised timescale",)


class ReturnError(RuleError):
    """The upload cannot be read as a return; nothing was changed."""

    def __init__(self, message: str, field: str | None = "file"):
        super().__init__(message, field)


#: The column a service's field is read from, for a preview problem's cell reference.
FIELD_COLUMNS = {"status": "Status", "narrative": "Progress update", "revised_timescale": "Revised timescale",
                 "revision_reason": "Reason for the new timescale", "version": "Version",
                 "superseded_by_id": "Status"}


def return_actions(plan: Plan, user: User) -> list[Action]:
    """Open actions the user reports on: their own, or every led action for a plan manager."""
    query = select(Action).where(Action.plan_id == plan.id, Action.status.in_(OPEN_STATUSES))
    if not user.has_role(plan.partnership_id, Role.PLAN_MANAGER):
        query = query.where(Action.lead_officer_id == user.id)
    actions = db.session.scalars(query.options(selectinload(Action.lead_officer))).all()
    return sorted(actions, key=lambda a: natural_key(a.ref))


def build_return(plan: Plan, user: User) -> bytes:
    """The return workbook: editable Status (drop-down), update and timescale columns; the rest locked."""
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    wb.properties.title = f"Update return: {plan.name}"
    wb.properties.creator = "Improvement action tracker"
    header_font, header_fill = Font(bold=True, color="FFFFFF"), PatternFill("solid", fgColor="333E48")
    editable_fill = PatternFill("solid", fgColor="FFF2CC")
    wrap = Alignment(vertical="top", wrap_text=True)
    for col, (title, width, editable) in enumerate(COLUMNS, start=1):
        cell = ws.cell(row=1, column=col, value=title)
        cell.font, cell.fill, cell.alignment = header_font, header_fill, wrap
        ws.column_dimensions[get_column_letter(col)].width = width
    actions = return_actions(plan, user)
    for row, action in enumerate(actions, start=2):
        values = [action.ref, action.text, action.timescale_text, Status(action.status).label,
                  Status(action.status).label, "", "", "", action.id, action.version]
        for col, value in enumerate(values, start=1):
            cell = ws.cell(row=row, column=col)
            if isinstance(value, str):
                cell.value = safe_text(value) or None
                if cell.value is not None:
                    cell.data_type = "s"
                    if looks_like_formula(cell.value):
                        cell.quotePrefix = True  # stays text even once edited
            else:
                cell.value = value
            cell.alignment = wrap
            if COLUMNS[col - 1][0] in TEXT_COLUMNS:
                cell.number_format = "@"
            if COLUMNS[col - 1][2]:
                cell.protection = Protection(locked=False)
                cell.fill = editable_fill
    last = max(len(actions) + 1, 2)
    statuses = DataValidation(type="list", formula1='"' + ",".join(STATUS_LABELS.values()) + '"',
                              allow_blank=False, showErrorMessage=True, errorTitle="Status",
                              error="Choose a status from the list.", promptTitle="Status",
                              prompt="Choose the action's status now.", showInputMessage=True)
    statuses.add(f"E2:E{last}")
    ws.add_data_validation(statuses)
    for letter in ("I", "J"):
        ws.column_dimensions[letter].hidden = True
    ws.freeze_panes = "C2"
    ws.protection.sheet = True
    ws.protection.formatRows = False  # people may resize rows to read long text
    ws.protection.formatColumns = False
    ws.page_setup.orientation = "landscape"
    ws.print_title_rows = "1:1"
    help_sheet = wb.create_sheet("How to fill this in")
    help_sheet.column_dimensions["A"].width = 100
    for line in (
        f"Update return for {plan.name}.",
        "Fill in the yellow columns only: Status (choose from the list), Progress update, and, if the action "
        "will finish later, Revised timescale with the reason.",
        "Leave a row unchanged if there is nothing to report. Do not add, remove or reorder rows.",
        "Upload the file back to the tracker. You will see what will be recorded before anything is saved.",
        "If someone else updates an action after you downloaded this file, that row is shown as a conflict "
        "and is not applied: download a fresh return for it.",
    ):
        help_sheet.append([line])
        help_sheet.cell(row=help_sheet.max_row, column=1).alignment = wrap
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _text(value) -> str:
    """A cell as text. A date cell (Excel makes one of "30/06/2031" typed into a cell not formatted as text) is
    its ISO date, "2031-06-30", not "2031-06-30 00:00:00"; a time of day is kept only when there is one."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return "" if value is None else str(value).strip()


def _timescale(value) -> str:
    """A timescale cell as text: a date cell is that day as an ISO date, which the timescale parser (and so
    the service) reads as it reads a date, whatever time of day the cell also holds; text is kept as typed."""
    if isinstance(value, dt.datetime):
        value = value.date()
    return _text(value)


def _action_id(value) -> int | None:
    """The hidden action id as written back (1, 1.0 or "1"); None if it is not one, or names no record (beyond
    the database's id range), so the row is "not one of your actions" rather than a query that overflows."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return parse_id(value)


def _whole(value) -> int | None:
    """A hidden version as written back by a spreadsheet (1, 1.0 or "1"); None if it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def parse_return(filename: str, content: bytes) -> list[dict]:
    """The rows of an uploaded return that report something, as plain dicts; ReturnError if unreadable."""
    try:
        safety.check(content, expect="xlsx")
        wb = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except safety.ImportRefused as error:
        raise ReturnError(str(error)) from error
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as error:
        raise ReturnError("The file could not be read as an Excel workbook.") from error
    try:
        if SHEET not in wb.sheetnames:
            raise ReturnError(f"The workbook has no '{SHEET}' sheet. Upload the return you downloaded.")
        rows = wb[SHEET].iter_rows(values_only=True)
        header = [_text(v) for v in next(rows, ())][: len(HEADERS)]
        if header != HEADERS:
            raise ReturnError("The columns have been changed. Download a fresh return and fill that in.")
        parsed = []
        for number, values in enumerate(rows, start=2):
            if number > MAX_ROWS + 1:
                raise ReturnError(f"The return has more than {MAX_ROWS:,} rows; it cannot be a download "
                                  "from the tracker.")
            values = dict(zip(HEADERS, list(values) + [None] * len(HEADERS)))
            if all(v in (None, "") for v in values.values()):
                continue
            parsed.append({
                "row": number, "ref": _text(values["Ref"]), "action_id": _action_id(values["Action ID"]),
                "version": _whole(values["Version"]), "current_status": _text(values["Current status"]),
                "status": _text(values["Status"]), "narrative": _text(values["Progress update"]),
                "revised_timescale": _timescale(values["Revised timescale"]),
                "reason": _text(values["Reason for the new timescale"]),
            })
        return parsed
    finally:
        wb.close()


@dataclass
class PreviewRow:
    row: dict
    action: Action | None
    outcome: str  # "apply", "conflict", "error", "unchanged"
    message: str
    status: Status | None = None
    field: str | None = None

    @property
    def cell(self) -> str | None:
        """The cell the problem is in, e.g. 'G5', when the refusal names a column."""
        column = FIELD_COLUMNS.get(self.field or "")
        if column is None:
            return None
        return f"{get_column_letter(HEADERS.index(column) + 1)}{self.row['row']}"


def preview(upload: ReturnUpload, user: User) -> list[PreviewRow]:
    """What confirming would do with each row, decided without changing anything."""
    # parse_id again: rows stored before ids were range-checked on upload may hold any number.
    ids = [i for r in upload.rows if (i := parse_id(r.get("action_id"))) is not None]
    actions = {a.id: a for a in db.session.scalars(
        select(Action).where(Action.id.in_(ids)).options(selectinload(Action.plan)))} if ids else {}
    seen: set[int] = set()
    result = []
    for row in upload.rows:
        action = actions.get(parse_id(row.get("action_id")))
        result.append(_judge(row, action, upload.plan_id, user, seen))
    return result


def _judge(row: dict, action: Action | None, plan_id: int, user: User, seen: set[int]) -> PreviewRow:
    """The verdict the service would give, asked without writing: the same rules as the web form and API."""
    if action is None or action.plan_id != plan_id or not can_update_action(user, action):
        return PreviewRow(row, None, "error", "This row is not one of your actions in this plan.")
    if action.id in seen:
        return PreviewRow(row, action, "error", "This action is listed twice; only its first row is used.")
    seen.add(action.id)
    try:
        status = Status.from_label(row["status"]) if row["status"] else Status(action.status)
    except ValueError as error:
        return PreviewRow(row, action, "error", str(error), field="status")
    reports = row["narrative"] or row["revised_timescale"] or status.label != row["current_status"]
    if not reports:
        return PreviewRow(row, action, "unchanged", "Nothing to record.")
    try:
        check_progress(action, actor=user, status=status, narrative=row["narrative"],
                       revised_timescale=row["revised_timescale"] or None, revision_reason=row["reason"] or None)
    except RuleError as error:
        return PreviewRow(row, action, "error", error.message, field=error.field)
    if row["version"] != action.version:
        return PreviewRow(row, action, "conflict", "Someone changed this action after the return was "
                                                   "downloaded. Not applied: check it in the tracker.")
    return PreviewRow(row, action, "apply", "Will be recorded as a progress update.", status)


def apply(upload: ReturnUpload, user: User) -> dict[str, int]:
    """Record every applicable row as a progress update by the uploader; flushes, the caller commits once."""
    if upload.applied_at is not None:
        raise ReturnError("This return has already been applied.")
    counts = {"apply": 0, "conflict": 0, "error": 0, "unchanged": 0}
    for item in preview(upload, user):
        if item.outcome == "apply":
            try:
                record_progress(item.action, actor=user, status=item.status, narrative=item.row["narrative"],
                                revised_timescale=item.row["revised_timescale"] or None,
                                revision_reason=item.row["reason"] or None, expected_version=item.row["version"])
            except ConcurrentEditError:
                counts["conflict"] += 1
                continue
            except RuleError:  # changed since the preview was judged (a role removed, say): not applied
                counts["error"] += 1
                continue
        counts[item.outcome] += 1
    upload.applied_at = utcnow()
    audit.record(user_id=user.id, entity_type="return_upload", entity_id=upload.id, verb="apply",
                 plan_id=upload.plan_id, partnership_id=upload.plan.partnership_id, after=counts,
                 summary=f"Applied update return {upload.filename}: {counts['apply']} updates, "
                         f"{counts['conflict']} conflicts")
    return counts


def stage_upload(plan: Plan, user: User, filename: str, content: bytes) -> ReturnUpload:
    """Read an uploaded return and keep its rows until the uploader confirms the preview."""
    rows = parse_return(filename, content)
    if not rows:
        raise ReturnError("The return has no rows.")
    upload = ReturnUpload(plan_id=plan.id, user_id=user.id, filename=safe_text(filename)[:255], rows=rows)
    db.session.add(upload)
    db.session.flush()
    audit.record(user_id=user.id, entity_type="return_upload", entity_id=upload.id, verb="upload",
                 plan_id=plan.id, partnership_id=plan.partnership_id, after={"rows": len(rows)},
                 summary=f"Uploaded update return {upload.filename} ({len(rows)} rows)")
    return upload
