"""Indicator values from an .xlsx file, with the importer's safety rules and a preview before anything changes.

The shared importer (tracker/imports/) was not in main when this was written, so this is a small
reader with the same rules: the content must really be an .xlsx (a zip with a workbook inside,
whatever the file is called), the sizes its zip declares must be modest (no zip bombs), the sheet may
not have too many rows, and it is read with openpyxl in read-only, values-only mode (formulas are
never evaluated: their cached results are used).
"""
from __future__ import annotations

import datetime as dt
import io
import warnings
from dataclasses import dataclass, field

from tracker.errors import RuleError
from tracker.imports import safety
from tracker.indicators.forms import parse_number
from tracker.indicators.models import Dimension, Indicator
from tracker.indicators import services
from tracker.indicators.services import BreakdownInput, IndicatorError, check_breakdowns, check_text, format_value
from tracker.periods import Period

MAX_ROWS = 5000
COLUMNS = ("indicator", "period", "value", "note", "breakdown", "category")
REQUIRED_COLUMNS = ("indicator", "period", "value")


class SpreadsheetError(RuleError):
    """The file cannot be read safely; the message says why in plain words."""


def check_xlsx(data: bytes) -> None:
    """Refuse anything that is not a modest .xlsx, judged by content (the importer's safety rules)."""
    try:
        safety.check(data, expect="xlsx")
    except safety.ImportRefused as error:
        raise SpreadsheetError(str(error)) from None

def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


#: The messages openpyxl warns with when it skips part of a workbook (an extension, a missing default style).
OPENPYXL_SKIPPED_PARTS = r"(.* extension is not supported and will be removed|Workbook contains no default style)"


def read_rows(data: bytes) -> list[dict]:
    """The first sheet's rows as {column: value} dicts (columns named in the first row), with row numbers."""
    check_xlsx(data)
    import openpyxl

    try:
        with warnings.catch_warnings():
            # Only openpyxl's notes on parts it skips (irrelevant to values); any other warning still shows.
            warnings.filterwarnings("ignore", message=OPENPYXL_SKIPPED_PARTS, category=UserWarning,
                                    module=r"openpyxl\.")
            workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:
        raise SpreadsheetError("The workbook could not be read. Save it again from Excel as .xlsx.") from None
    try:
        sheet = workbook.worksheets[0]
        rows_iter = sheet.iter_rows(values_only=True)
        header = next(rows_iter, None)
        if header is None:
            raise SpreadsheetError("The first sheet is empty. Put the column names in the first row.")
        columns = {}
        for index, name in enumerate(header):
            key = _cell_text(name).lower()
            if key in COLUMNS and key not in columns:
                columns[key] = index
        missing = [c for c in REQUIRED_COLUMNS if c not in columns]
        if missing:
            raise SpreadsheetError("The first row must name the columns Indicator, Period and Value "
                                   f"(missing: {', '.join(m.capitalize() for m in missing)}).")
        rows = []
        for number, row in enumerate(rows_iter, start=2):
            if number > MAX_ROWS + 1:
                raise SpreadsheetError(f"The sheet has more than {MAX_ROWS:,} rows. Upload at most {MAX_ROWS:,} "
                                       "values at a time.")
            cells = {key: (row[index] if index < len(row) else None) for key, index in columns.items()}
            if all(v in (None, "") for v in cells.values()):
                continue
            rows.append({"row": number, **cells})
        return rows
    finally:
        workbook.close()


@dataclass
class PreviewItem:
    """One value the upload would enter: a total with any breakdown rows, or the problem with it."""

    rows: list[int]
    indicator_name: str
    period_label: str
    indicator: Indicator | None = None
    period: Period | None = None
    value: float | None = None
    note: str = ""
    breakdowns: list[BreakdownInput] = field(default_factory=list)
    current_value: float | None = None
    current_id: int | None = None
    errors: list[str] = field(default_factory=list)
    unchanged: bool = False
    #: Why the value looks like a slip (services.unusual); confirming the preview confirms it.
    warning: str | None = None

    @property
    def status(self) -> str:
        if self.errors:
            return "Problem"
        if self.current_id is None:
            return "New"
        if self.unchanged:
            return "Unchanged"
        return "Correction"

    def describe(self) -> str:
        if self.errors:
            return " ".join(self.errors)
        unit = self.indicator.unit
        text = format_value(self.value, unit)
        if self.status == "Correction":
            text = f"{format_value(self.current_value, unit)} corrected to {text}"
        if self.breakdowns:
            text += f" (with {len(self.breakdowns)} breakdown figures)"
        return text


def _period_label(value) -> str:
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.isoformat()
    return _cell_text(value)


def _period(indicator: Indicator, text: str) -> Period:
    try:
        return Period.parse(indicator.frequency, text)
    except ValueError:
        pass
    try:
        return Period.containing(indicator.frequency, dt.date.fromisoformat(text))
    except ValueError:
        raise IndicatorError(f"'{text[:40]}' is not a {indicator.frequency} period "
                             f"(write it like '{indicator.first_period.label}').") from None


def preview(rows: list[dict], indicators: list[Indicator], current: dict, *, can_enter,
            today: dt.date) -> list[PreviewItem]:
    """What the rows would do, grouped by indicator and period; nothing is changed.

    `current` is services.current_values() for the indicators; `can_enter(indicator)` says whether the
    person uploading may enter its values.
    """
    by_name = {" ".join(i.name.lower().split()): i for i in indicators}
    items: dict[tuple, PreviewItem] = {}
    for row in rows:
        name, period_text = _cell_text(row.get("indicator")), _period_label(row.get("period"))
        indicator = by_name.get(" ".join(name.lower().split()))
        key = (indicator.id if indicator else name.lower(), period_text.lower())
        item = items.get(key)
        if item is None:
            item = items[key] = PreviewItem(rows=[], indicator_name=name, period_label=period_text, indicator=indicator)
        item.rows.append(row["row"])
        try:
            if indicator is None:
                raise IndicatorError(f"There is no indicator called '{name[:80]}' on this plan.")
            if not can_enter(indicator):
                raise IndicatorError("You cannot enter values for this indicator: ask its responsible officer "
                                     "or a plan manager.")
            item.period = item.period or _period(indicator, period_text)
            number = parse_number(row.get("value"))
            breakdown_text = _cell_text(row.get("breakdown")).lower()
            if breakdown_text:
                dimension = {"locality": Dimension.LOCALITY, "protected characteristic":
                             Dimension.PROTECTED_CHARACTERISTIC}.get(breakdown_text)
                if dimension is None:
                    raise IndicatorError(f"Row {row['row']}: the Breakdown column must say 'Locality' or "
                                         "'Protected characteristic'.")
                if number is None:
                    raise IndicatorError(f"Row {row['row']}: enter the breakdown figure.")
                item.breakdowns.append(BreakdownInput(dimension, check_text(_cell_text(row.get("category")),
                                                                              "category"), number))
            else:
                if item.value is not None:
                    raise IndicatorError(f"Row {row['row']}: {item.period.label} is given more than once.")
                item.value = number
                item.note = check_text(_cell_text(row.get("note")), "note")
        except IndicatorError as error:
            item.errors.append(str(error))
    for item in items.values():
        if item.errors:
            continue
        indicator = item.indicator
        try:
            services.check_period(indicator, item.period, today)
            item.value = check_breakdowns(indicator.unit, item.value, item.breakdowns)
            reason = services.unusual(indicator, item.period, item.value)
            item.warning = f"Check this figure: it is {reason}." if reason else None
        except IndicatorError as error:
            item.errors.append(str(error))
            continue
        entry = current.get(indicator.id, {}).get(item.period.start)
        if entry is not None:
            item.current_id, item.current_value = entry.id, entry.value
            mine = sorted((b.dimension.value, b.category, b.value) for b in item.breakdowns)
            theirs = sorted((b.dimension, b.category, b.value) for b in entry.breakdowns)
            item.unchanged = abs(entry.value - item.value) < 1e-9 and entry.note == item.note and mine == theirs
    return sorted(items.values(), key=lambda i: i.rows[0])


def to_payload(items: list[PreviewItem]) -> list[dict]:
    """The previewed changes, to carry (signed) to the confirmation."""
    return [
        {"indicator_id": i.indicator.id, "period_start": i.period.start.isoformat(), "value": i.value,
         "note": i.note, "current_id": i.current_id,
         "breakdowns": [[b.dimension.value, b.category, b.value] for b in i.breakdowns]}
        for i in items if not i.errors and not i.unchanged
    ]
