"""Import a risk register (.xlsx, columns mapped by their headings or as the manager chooses) or the risk
tables of a committee report in the Dundee layout (.docx). Every file passes tracker.imports.safety's checks
before a parser opens it.

`read(file)` gives rows (plain dicts) and problems (a register's sheet is kept, so `rows_from_sheet(sheet,
mapping)` reads it again with another column mapping); `preview(rows, partnership, plan)` says what each row would
do (new, changed, unchanged) without writing; `apply(...)` writes it. A row is matched to a risk by its
reference, so importing the same file twice changes nothing the second time.
"""
from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass, field

from sqlalchemy import select

from tracker.errors import RuleError
from tracker.extensions import db
from tracker.imports.safety import CheckedFile, ImportRefused, Limits, check
from tracker.partnerships.models import Partnership
from tracker.plans.models import Action, Plan
from tracker.risks import scoring, services
from tracker.risks.models import Risk, RiskStatus

#: heading (normalised) -> field; the first match wins. "planned" is the report's word for the target level.
HEADINGS = [
    ("inherent likelihood", "inherent_likelihood"), ("inherent impact", "inherent_impact"),
    ("residual likelihood", "residual_likelihood"), ("residual impact", "residual_impact"),
    ("target likelihood", "target_likelihood"), ("target impact", "target_impact"),
    ("planned likelihood", "target_likelihood"), ("planned impact", "target_impact"),
    ("inherent", "inherent"), ("residual", "residual"), ("target", "target"), ("planned", "target"),
    ("reference", "reference"), ("ref", "reference"), ("risk id", "reference"), ("id", "reference"),
    ("title", "title"), ("risk name", "title"),
    ("description", "description"), ("category", "categories"), ("categories", "categories"),
    ("owner", "owner"), ("status", "status"), ("review date", "review_date"), ("next review", "review_date"),
    ("action ref", "action_refs"), ("tracked action", "action_refs"),
    ("mitigat", "mitigations"), ("control", "mitigations"),
    ("recommendation", "recommendation"), ("risk", "title"),
]
MAX_ROWS = 2_000


#: What a column can hold (the field it fills), in the order the preview's mapping lists them.
ROLES = {
    "reference": "Reference", "title": "Title", "description": "Description", "categories": "Categories",
    "owner": "Owner (a name or e-mail address)", "status": "Status (open, tolerated or closed)",
    "review_date": "Review date",
    "inherent_likelihood": "Inherent likelihood", "inherent_impact": "Inherent impact",
    "inherent": "Inherent level (like 'Likelihood 3 x Impact 3' or '3 x 3')",
    "residual_likelihood": "Residual likelihood", "residual_impact": "Residual impact",
    "residual": "Residual level (like '2 x 2')",
    "target_likelihood": "Target likelihood", "target_impact": "Target impact",
    "target": "Target (planned) level (like '2 x 2')",
    "action_refs": "Tracked action references (of the chosen plan)",
    "mitigations": "Mitigating actions as written", "recommendation": "Approval recommendation",
}
LEVELS = ("inherent", "residual", "target")


@dataclass
class Sheet:
    """A register's first sheet as read: its heading row, each heading by column letter, and the text of every
    non-empty row below it under those columns. Kept with the preview, so the rows can be read again with
    another column mapping without the file."""

    header_row: int  # 1-based, as Excel numbers rows
    headers: dict[str, str]  # column letter -> heading as written
    rows: list[list] = field(default_factory=list)  # [row number, [cell text per column of `headers`]]

    def to_dict(self) -> dict:
        return {"header_row": self.header_row, "headers": self.headers, "rows": self.rows}

    @classmethod
    def from_dict(cls, data: dict) -> Sheet:
        return cls(int(data["header_row"]), dict(data["headers"]), [list(r) for r in data["rows"]])


@dataclass
class Parsed:
    rows: list[dict]
    problems: list[str] = field(default_factory=list)
    kind: str = "xlsx"
    mapping: dict[str, str] = field(default_factory=dict)  # field -> column letter (a register's columns)
    sheet: Sheet | None = None  # a register's sheet, to read again with another mapping

    @property
    def headers(self) -> dict[str, str]:
        return self.sheet.headers if self.sheet else {}

    @property
    def unused_columns(self) -> dict[str, str]:
        """{letter: heading} of the columns no field reads."""
        used = set(self.mapping.values())
        return {letter: heading for letter, heading in self.headers.items() if letter not in used}


def _clean(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, (dt.datetime, dt.date)):
        value = (value.date() if isinstance(value, dt.datetime) else value).isoformat()
    return "\n".join(" ".join(line.split()) for line in str(value).replace("\r", "\n").split("\n")).strip()


def field_for(heading: str) -> str | None:
    key = " ".join(heading.lower().replace("_", " ").split()).strip(" :")
    if not key:
        return None
    for word, name in HEADINGS:
        if key == word or (len(word) > 3 and word in key):
            return name
    return None


def guess_mapping(headers: dict[str, str]) -> dict[str, str]:
    """{field: column letter} from the headings: the first column whose heading names a field reads it."""
    found: dict[str, str] = {}
    for letter, heading in headers.items():
        name = field_for(heading)
        if name and name not in found:
            found[name] = letter
    return found


def check_mapping(mapping: dict[str, str]) -> None:
    """Refuse a mapping the rows cannot be read with: no reference column, a level given both as one column and
    as likelihood and impact, half a likelihood x impact pair, or no inherent or residual level."""
    for name in mapping:
        if name not in ROLES:
            raise RuleError("Choose what each column holds from the list.", "mapping")
    if "reference" not in mapping:
        raise RuleError("Choose the column that holds the risks' references: importing again matches them by it.",
                        "mapping")
    for what in LEVELS:
        parts = [p for p in (f"{what}_likelihood", f"{what}_impact") if p in mapping]
        if what in mapping and parts:
            raise RuleError(f"Choose either one {what} level column or its likelihood and impact columns, not both.",
                            "mapping")
        if len(parts) == 1:
            other = "impact" if parts[0].endswith("likelihood") else "likelihood"
            raise RuleError(f"Choose the {what} {other} column too: a score is likelihood x impact.", "mapping")
        if what != "target" and what not in mapping and not parts:
            raise RuleError(f"Choose the columns that hold the {what} level: its likelihood and impact, or one "
                            f"column like '3 x 3'.", "mapping")


def read(file, *, limits: Limits | None = None, mapping: dict[str, str] | None = None) -> Parsed:
    checked = file if isinstance(file, CheckedFile) else check(file, limits)
    return read_docx(checked) if checked.kind == "docx" else read_xlsx(checked, mapping=mapping)


# --------------------------------------------------------------------------- .xlsx
def read_sheet(checked: CheckedFile) -> Sheet:
    """The first sheet's heading row (the first of its first 30 rows naming a reference or title and one other
    field) and the rows under it."""
    import openpyxl
    from openpyxl.utils import get_column_letter

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(checked.data), read_only=True, data_only=True,
                                          keep_links=False)
    except Exception:  # openpyxl raises many kinds on a damaged workbook
        raise ImportRefused("The workbook is damaged: Excel's parts could not be read.") from None
    try:
        grid = []
        for values in workbook.worksheets[0].iter_rows(values_only=True):
            grid.append(values)
            if len(grid) > MAX_ROWS + 30:
                raise ImportRefused(f"The sheet has more than {MAX_ROWS:,} rows, the most one import takes.")
    except ImportRefused:
        raise
    except Exception:
        raise ImportRefused("The workbook is damaged: a sheet's cells could not be read.") from None
    finally:
        workbook.close()
    for index, values in enumerate(grid[:30]):
        headers = {get_column_letter(col + 1): _clean(value) for col, value in enumerate(values)
                   if isinstance(value, str) and _clean(value)}
        found = set(guess_mapping(headers))
        if len(found) >= 2 and found & {"reference", "title"}:
            break
    else:
        raise ImportRefused("No heading row was found: the first sheet needs columns such as Reference, Title, "
                            "Inherent likelihood and Inherent impact.")
    columns = [col for col, value in enumerate(grid[index]) if isinstance(value, str) and _clean(value)]
    sheet = Sheet(header_row=index + 1, headers=headers)
    for number, values in enumerate(grid[index + 1:], start=index + 2):
        cells = [_clean(values[c]) if c < len(values) else "" for c in columns]
        if any(cells):
            sheet.rows.append([number, cells])
    return sheet


def rows_from_sheet(sheet: Sheet, mapping: dict[str, str] | None = None) -> Parsed:
    """The sheet's rows read with `mapping` ({field: column letter}; by default guessed from the headings)."""
    mapping = guess_mapping(sheet.headers) if mapping is None else dict(mapping)
    letters = list(sheet.headers)
    if any(letter not in sheet.headers for letter in mapping.values()):
        raise RuleError("The column mapping names a column the sheet does not have.", "mapping")
    parsed = Parsed(rows=[], kind="xlsx", mapping=mapping, sheet=sheet)
    try:
        check_mapping(mapping)
    except RuleError as error:  # shown with the preview's column mapping, to be chosen there
        parsed.problems.append(error.message)
        return parsed
    for number, cells in sheet.rows:
        row = {"row": f"row {number}"}
        for name, letter in mapping.items():
            row[name] = cells[letters.index(letter)]
        if not any(row[name] for name in mapping):
            continue
        for what in LEVELS:
            if f"{what}_likelihood" in row or f"{what}_impact" in row:
                row[what] = f"{row.pop(f'{what}_likelihood', '')} x {row.pop(f'{what}_impact', '')}"
        parsed.rows.append(_interpret(row, parsed.problems))
    if not parsed.rows:
        parsed.problems.append("The sheet has no risks under its headings.")
    return parsed


def read_xlsx(checked: CheckedFile, *, mapping: dict[str, str] | None = None) -> Parsed:
    return rows_from_sheet(read_sheet(checked), mapping)


# --------------------------------------------------------------------------- .docx (Dundee layout)
_DOCX_LABELS = [("description", "description"), ("categor", "categories"), ("inherent", "inherent"),
                ("residual", "residual"), ("planned", "target"), ("target", "target"),
                ("mitigat", "mitigations"), ("recommendation", "recommendation"), ("owner", "owner")]
_RISK_NUMBER = re.compile(r"^\s*risk\s+(\d{1,3})\b", re.I)


def read_docx(checked: CheckedFile) -> Parsed:
    import docx
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(checked.data))
        tables = [Table(el, document) for el in document.element.body.iterchildren()
                  if el.tag.rsplit("}", 1)[-1] == "tbl"]
        grids = []
        for table in tables:
            rows = []
            for row in table.rows:
                seen, cells = set(), []
                for cell in row.cells:
                    if cell._tc not in seen:
                        seen.add(cell._tc)
                        cells.append(cell.text)
                rows.append(cells)
            grids.append(rows)
    except Exception:  # python-docx raises many kinds on a damaged package
        raise ImportRefused("The document is damaged: Word's parts could not be read.") from None
    parsed = Parsed(rows=[], kind="docx")
    for rows in grids:
        found: dict[str, str] = {}
        number = None
        for cells in rows:
            if len(cells) < 2:
                continue
            label, value = _clean(cells[0]).lower(), _clean(" ".join(cells[1:]) if len(cells) > 2 else cells[1])
            if number is None and (match := _RISK_NUMBER.match(label)):
                number = match[1]
            names = [name for word, name in _DOCX_LABELS if word in label]
            if "mitigations" in names and "residual" in names:  # two labels run together in one cell
                level = scoring._LEVEL.search(value)
                found["mitigations"] = value[:level.start()].strip() if level else value
                found["residual"] = level[0] if level else ""
            elif names:
                found.setdefault(names[0], value)
        if "description" not in found or "inherent" not in found:
            continue
        row = {"row": f"risk {number or len(parsed.rows) + 1}",
               "reference": f"R{number or len(parsed.rows) + 1}", **found}
        parsed.rows.append(_interpret(row, parsed.problems))
    if not parsed.rows:
        parsed.problems.append("No risk tables were found: each needs a Description and an Inherent Risk Level "
                               "row, as in a committee report's risk assessment.")
    return parsed


def _title(description: str) -> str:
    first = re.split(r"(?<=[.;])\s", description.strip(), maxsplit=1)[0].rstrip(".;")
    return first if len(first) <= 120 else first[:117].rsplit(" ", 1)[0] + "..."


def _interpret(row: dict, problems: list[str]) -> dict:
    """Scores read into (likelihood, impact) pairs; a problem for each that cannot be read."""
    where = row["row"]
    for what in ("inherent", "residual", "target"):
        text = row.get(what, "")
        try:
            level = scoring.parse_level(text) if text.strip(" x") else None
        except RuleError as error:
            problems.append(f"{where}: {error.message}")
            level = None
        else:
            if level is None and what != "target":
                problems.append(f"{where}: the {what} level '{text[:60]}' could not be read: write it like "
                                "'Likelihood 3 x Impact 3' or give likelihood and impact columns.")
        row[what] = [level.likelihood, level.impact] if level else None
        row[f"{what}_band"] = level.band if level else None
    if row.get("target") is None and row.get("residual") is not None:
        row["target"] = row["residual"]
    if not row.get("title"):
        row["title"] = _title(row.get("description", "")) or row.get("reference", "")
    row["mitigations"] = "\n".join(line.strip(" •-–") for line in row.get("mitigations", "").split("\n")
                                   if line.strip(" •-–"))
    row["categories"] = ", ".join(c.strip() for c in re.split(r"[,;/]", row.get("categories", "")) if c.strip())
    return row


# --------------------------------------------------------------------------- preview and apply
@dataclass
class Item:
    row: dict
    outcome: str  # "new", "changed", "unchanged"
    changes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _owner_id(partnership: Partnership, text: str) -> int | None:
    from tracker.auth.models import Membership, User

    if not text:
        return None
    key = text.strip().lower()
    for user in db.session.scalars(select(User).join(Membership).where(Membership.partnership_id == partnership.id)):
        if key in {user.name.lower(), (user.email or "").lower()}:
            return user.id
    raise RuleError(f"The owner '{text[:60]}' has no account in this partnership.", "owner")


def _status(text: str) -> RiskStatus:
    key = (text or "open").strip().lower()
    for status in RiskStatus:
        if key in (status.value, status.label.lower()):
            return status
    raise RuleError(f"The status '{text[:40]}' is not one of Open, Tolerated or Closed.", "status")


def _date(text: str) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        raise RuleError(f"The review date '{text[:40]}' is not a date (write it like 2027-03-31).",
                        "review_date") from None


def _actions(plan: Plan | None, partnership: Partnership, text: str) -> list[Action]:
    refs = [r.strip() for r in re.split(r"[,;\n]", text or "") if r.strip()]
    if not refs:
        return []
    if plan is None:
        raise RuleError("Choose the plan whose actions the action references name.", "action_refs")
    by_ref = {a.ref: a for a in db.session.scalars(select(Action).where(Action.plan_id == plan.id))}
    missing = [r for r in refs if r not in by_ref]
    if missing:
        raise RuleError(f"The plan has no action {missing[0][:40]}.", "action_refs")
    return [by_ref[r] for r in refs]


def _fields(row: dict, partnership: Partnership, plan: Plan | None) -> dict:
    return {"title": row.get("title", ""), "description": row.get("description", ""),
            "categories": row.get("categories", ""), "mitigations": row.get("mitigations", ""),
            "recommendation": row.get("recommendation", ""), "owner_id": _owner_id(partnership, row.get("owner", "")),
            "review_date": _date(row.get("review_date", ""))}


def preview(parsed: Parsed, partnership: Partnership, plan: Plan | None) -> list[Item]:
    """What each row would do; nothing is written."""
    existing = {r.reference: r for r in db.session.scalars(select(Risk).where(Risk.partnership_id == partnership.id))}
    reviews = services.latest_reviews(r.id for r in existing.values())
    matrix = services.matrix_for(partnership.id)
    items, seen = [], set()
    for row in parsed.rows:
        item = Item(row, "new")
        items.append(item)
        reference = (row.get("reference") or "").strip()
        if not reference:
            item.errors.append("No reference: each risk needs one, so that importing again updates it.")
            continue
        if reference in seen:
            item.errors.append(f"The reference {reference} is used twice in the file.")
        seen.add(reference)
        if row.get("inherent") is None or row.get("residual") is None:
            item.errors.append("The inherent and residual levels are needed.")
            continue
        try:
            fields = _fields(row, partnership, plan)
            actions = _actions(plan, partnership, row.get("action_refs", ""))
            services._scores(matrix, tuple(row["inherent"]), tuple(row["residual"]), tuple(row["target"]))
            for name in ("title",):
                services._text_line(fields[name], name, "The title", 300, required=True)
            for name in ("description", "mitigations", "recommendation"):
                services._text_block(fields[name], name, f"The {name}")
            services._categories(fields["categories"])
            _status(row.get("status", ""))
        except RuleError as error:
            item.errors.append(error.message)
            continue
        for what in ("inherent", "residual", "target"):
            written, pair = row.get(f"{what}_band"), row[what]
            ours = matrix.band(pair[0] * pair[1]).name
            if written and written.lower() != ours.lower():
                item.warnings.append(f"The file calls the {what} score {pair[0] * pair[1]} {written}; this "
                                     f"partnership's matrix calls it {ours}.")
        risk = existing.get(reference)
        if risk is None:
            continue
        item.outcome = "unchanged"
        for name, value in fields.items():
            if name in ("owner_id", "review_date") and value is None:
                continue
            if getattr(risk, name) != (services._categories(value) if name == "categories" else value):
                item.changes.append(name.replace("_id", "").replace("_", " "))
        if plan is not None and plan not in risk.plans:
            item.changes.append("plans")
        if actions and not set(actions) <= set(risk.actions):
            item.changes.append("mitigating actions")
        review = reviews.get(risk.id)
        now = None if review is None else [[review.inherent_likelihood, review.inherent_impact],
                                            [review.residual_likelihood, review.residual_impact],
                                            [review.target_likelihood, review.target_impact]]
        if now != [list(row["inherent"]), list(row["residual"]), list(row["target"])]:
            item.changes.append("scores")
        if item.changes:
            item.outcome = "changed"
    return items


def apply(parsed: Parsed, partnership: Partnership, plan: Plan | None, *, filename: str = "the import",
          actor=None, actor_id: int | None = None) -> dict:
    """Write the rows: new risks, reviews for changed scores, edits for changed details. Refuses (RuleError)
    when any row has an error, so a file goes in whole or not at all."""
    items = preview(parsed, partnership, plan)
    bad = [f"{i.row['row']}: {e}" for i in items for e in i.errors]
    if bad or parsed.problems:
        raise RuleError("Nothing was imported: " + "; ".join((parsed.problems + bad)[:5]))
    existing = {r.reference: r for r in db.session.scalars(select(Risk).where(Risk.partnership_id == partnership.id))}
    counts = {"new": 0, "changed": 0, "unchanged": 0}
    reason = f"Imported from {filename}"[:300]
    for item in items:
        counts[item.outcome] += 1
        row = item.row
        fields = _fields(row, partnership, plan)
        actions = _actions(plan, partnership, row.get("action_refs", ""))
        scores = {w: tuple(row[w]) for w in ("inherent", "residual", "target")}
        if item.outcome == "new":
            services.create_risk(partnership, reference=row["reference"], **scores, **fields,
                                 plans=[plan] if plan else [], actions=actions, status=_status(row.get("status", "")),
                                 reason=reason, actor=actor, actor_id=actor_id)
            continue
        if item.outcome == "unchanged":
            continue
        risk = existing[row["reference"]]
        details = {k: v for k, v in fields.items() if not (k in ("owner_id", "review_date") and v is None)}
        if plan is not None and plan not in risk.plans:
            details["plans"] = [*risk.plans, plan]
        if actions:
            details["actions"] = list(dict.fromkeys([*risk.actions, *actions]))
        services.edit_risk(risk, actor=actor, actor_id=actor_id, **details)
        if "scores" in item.changes:
            services.review_risk(risk, **scores, reason=reason, actor=actor, actor_id=actor_id)
    return counts
