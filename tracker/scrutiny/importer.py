"""Import an audit recommendation tracker (.xlsx): read, preview, then confirm; a second import changes nothing.

The columns are found by their headings (ref, finding, recommendation, grade, response, officer, date, revised
date, status), in any order, in the first ten rows of the first sheet that has them. Each revised date (a cell
may hold several, separated by ";" or line breaks) becomes a progress update that re-dates the action, so the
revisions are counted from the actions' history like any other. A recommendation whose reference the report
already has is left as it is.
"""
from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import asdict, dataclass, field

import openpyxl
from sqlalchemy import select

from tracker import text as texts
from tracker.auth.models import Membership, User
from tracker.extensions import db
from tracker.imports import safety
from tracker.plans import services as plans
from tracker.rag import Status
from tracker.scrutiny import services
from tracker.scrutiny.models import AuditReport, Recommendation
from tracker.timescales import interpret
from tracker.timeutil import today

#: Column role -> headings that name it (compared without case, spaces or punctuation), longest first.
HEADINGS: dict[str, tuple[str, ...]] = {
    "revised": ("revised target date", "revised implementation date", "revised due date", "revised dates",
                "revised date", "revised"),
    "ref": ("recommendation reference", "recommendation ref", "rec ref", "reference", "ref", "no", "number"),
    "finding": ("finding", "findings", "issue", "observation"),
    "response": ("management response", "agreed management action", "agreed action", "response"),
    "recommendation": ("recommendation", "recommendations"),
    "grade": ("grade", "priority", "rating", "risk rating"),
    "officer": ("responsible officer", "action owner", "lead officer", "officer", "owner", "lead"),
    "date": ("agreed implementation date", "original target date", "implementation date", "target date",
             "agreed date", "due date", "date"),
    "status": ("current status", "status", "progress"),
}
REQUIRED = ("ref", "recommendation")
STATUS_WORDS = {
    "open": Status.NOT_STARTED, "not started": Status.NOT_STARTED, "in progress": Status.ON_TRACK,
    "on track": Status.ON_TRACK, "ongoing": Status.ON_TRACK, "partially implemented": Status.ON_TRACK,
    "at risk": Status.AT_RISK, "delayed": Status.AT_RISK, "overdue": Status.AT_RISK,
    "implemented": Status.COMPLETE, "complete": Status.COMPLETE, "completed": Status.COMPLETE,
    "closed": Status.COMPLETE, "verified": Status.COMPLETE, "closed verified": Status.COMPLETE,
}


def _key(text) -> str:
    return re.sub(r"[^a-z0-9]", "", str(text or "").casefold())


@dataclass
class Row:
    line: int
    ref: str
    recommendation: str
    finding: str = ""
    grade: str = ""
    response: str = ""
    officer: str = ""
    date: str | None = None  # ISO date
    revised: list[str] = field(default_factory=list)  # ISO dates, oldest first
    status: str = Status.NOT_STARTED.value
    verified: bool = False
    problem: str = ""
    exists: bool = False


def find_columns(rows: list[tuple]) -> tuple[int, dict[str, int]]:
    """(index of the heading row, role -> column index); ImportRefused if no row names ref and recommendation."""
    for index, cells in enumerate(rows[:10]):
        roles: dict[str, int] = {}
        for column, cell in enumerate(cells):
            key = _key(cell)
            if not key:
                continue
            for role, names in HEADINGS.items():
                if role not in roles and key in {_key(n) for n in names}:
                    roles[role] = column
                    break
        if all(r in roles for r in REQUIRED):
            return index, roles
    raise safety.ImportRefused("No row of the first sheet has the headings “Ref” and “Recommendation”. Add them "
                               "above the columns (with Finding, Grade, Response, Officer, Date, Revised date and "
                               "Status as you have them) and upload the file again.")


def _date(value, field_label: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    window = interpret(text)
    if window.end is None:
        raise ValueError(f"{field_label} “{text}” is not a date")
    return texts.date_in_range(window.end, label=field_label)


def _cell(cells: tuple, roles: dict[str, int], role: str):
    column = roles.get(role)
    return cells[column] if column is not None and column < len(cells) else None


def read(data: bytes, report: AuditReport) -> list[Row]:
    """The tracker's rows, each with the problem that stops it, if any; ImportRefused for an unsafe file."""
    checked = safety.check(data, expect="xlsx")
    book = openpyxl.load_workbook(io.BytesIO(checked.data), read_only=True, data_only=True)
    try:
        found = None
        for sheet in book.worksheets:
            rows = [tuple(r) for r in sheet.iter_rows(values_only=True, max_row=safety.Limits().max_rows)]
            try:
                found = rows, *find_columns(rows)
                break
            except safety.ImportRefused as refusal:
                error = refusal
        if found is None:
            raise error
    finally:
        book.close()
    rows, heading, roles = found
    existing = set(db.session.scalars(select(Recommendation.ref).where(Recommendation.report_id == report.id)))
    result, seen = [], set()
    for offset, cells in enumerate(rows[heading + 1:], start=heading + 2):
        if not any(c not in (None, "") for c in cells):
            continue
        result.append(_row(offset, cells, roles, report, existing, seen))
    return result


def _row(line: int, cells: tuple, roles: dict[str, int], report: AuditReport, existing: set, seen: set) -> Row:
    def text(role: str) -> str:
        value = _cell(cells, roles, role)
        return "" if value is None else str(value).strip()

    row = Row(line=line, ref=text("ref"), recommendation=text("recommendation"), finding=text("finding"),
              grade=text("grade"), response=text("response"), officer=text("officer"))
    try:
        if not row.ref:
            raise ValueError("it has no reference")
        texts.line(row.ref, label="The reference", max_length=40)
        if row.ref in seen:
            raise ValueError(f"the reference {row.ref} is used twice in the file")
        seen.add(row.ref)
        if not row.recommendation:
            raise ValueError("it has no recommendation")
        if row.grade:
            services.grade_for(report.scheme, row.grade)
        if _cell(cells, roles, "date") not in (None, ""):
            row.date = _date(_cell(cells, roles, "date"), "the date").isoformat()
        revised = _cell(cells, roles, "revised")
        if revised not in (None, ""):
            parts = [revised] if isinstance(revised, (dt.date, dt.datetime)) else \
                [p for p in re.split(r"[;\n]+", str(revised)) if p.strip()]
            row.revised = [_date(p, "the revised date").isoformat() for p in parts]
        status = _key(text("status"))
        if status:
            words = {_key(k): v for k, v in STATUS_WORDS.items()}
            if status not in words:
                raise ValueError(f"the status “{text('status')}” is not one of: {', '.join(STATUS_WORDS)}")
            row.status = words[status].value
            row.verified = "verified" in status
    except ValueError as error:  # RuleError is a ValueError too
        row.problem = f"Row {line}: {getattr(error, 'message', None) or error}."
    row.exists = row.ref in existing
    return row


def _officer(name: str, partnership_id: int) -> int | None:
    if not name:
        return None
    key = name.strip().casefold()
    users = db.session.scalars(select(User).join(Membership).where(Membership.partnership_id == partnership_id))
    return next((u.id for u in users if key in (u.name.casefold(), (u.email or "").casefold())), None)


def apply(report: AuditReport, rows: list[Row], *, actor=None, actor_id: int | None = None) -> int:
    """Record the new rows (no problem, reference not yet in the report); returns how many."""
    from tracker.scrutiny import permissions
    from tracker.errors import NotAllowed

    if actor is not None:
        if not permissions.can_manage(actor, report.partnership_id):
            raise NotAllowed("Only the partnership's plan managers can import audit recommendations.")
        actor_id = actor.id
    existing = set(db.session.scalars(select(Recommendation.ref).where(Recommendation.report_id == report.id)))
    added = 0
    for row in rows:
        if row.problem or row.ref in existing:
            continue
        status = Status(row.status)
        lead_id = _officer(row.officer, report.partnership_id)
        rec = services.add_recommendation(
            report, ref=row.ref, text=row.recommendation, finding=row.finding, grade=row.grade or None,
            response=row.response or None, agreed_date=dt.date.fromisoformat(row.date) if row.date else None,
            lead_officer_id=lead_id, lead_text=None if lead_id else (row.officer or None),
            status=Status.ON_TRACK if status is Status.COMPLETE else status, actor_id=actor_id)
        action = rec.actions[0]
        for revised in row.revised:
            revised_date = dt.date.fromisoformat(revised)
            # A revised date that has passed too cannot leave the action "on track" (plans' rule): At risk.
            keep = Status(action.status)
            if keep in plans.TO_TIME and revised_date < today():
                keep = Status.AT_RISK
            plans.record_progress(action, author_id=actor_id, status=keep,
                                  narrative="Revised date from the imported audit recommendation tracker.",
                                  revised_timescale=revised_date,
                                  revision_reason="Recorded in the audit recommendation tracker.")
        if status is Status.COMPLETE:
            plans.record_progress(action, author_id=actor_id, status=Status.COMPLETE,
                                  narrative="Implemented, as recorded in the imported audit recommendation tracker.")
        if row.verified:
            services.verify(rec, actor_id=actor_id, note="Verified, as recorded in the imported tracker.")
        existing.add(row.ref)
        added += 1
    return added


def to_payload(rows: list[Row]) -> list[dict]:
    return [asdict(r) for r in rows]


def from_payload(payload: list[dict]) -> list[Row]:
    return [Row(**{k: v for k, v in item.items() if k in Row.__dataclass_fields__}) for item in payload]
