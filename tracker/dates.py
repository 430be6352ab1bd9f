"""Dates people type: one pure parser, and the day / month / year form field that uses it.

`parse_date(day, month, year)` reads the Design System's three-box date pattern; `parse_typed_date(text)`
reads a date typed in one box ("27/1/2027", "27 January 2027", "27 Jan 2027" or "2027-01-27"). Both return
a `datetime.date` or raise `tracker.errors.RuleError` with a plain message; neither touches a request.
"""
from __future__ import annotations

import datetime as dt
import re

from markupsafe import Markup, escape
from wtforms import Field
from wtforms.utils import unset_value
from wtforms.validators import StopValidation

from tracker.errors import RuleError
from tracker.text import EARLIEST_DATE, LATEST_DATE

MONTHS = {name: number for number, names in enumerate(
    [("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",), ("june", "jun"),
     ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"), ("october", "oct"),
     ("november", "nov"), ("december", "dec")], start=1) for name in names}
EXAMPLE = "27 1 2027"


def _number(value, what: str, field: str | None, label: str) -> int:
    text = "" if value is None else str(value).strip()
    if not text:
        raise RuleError(f"{label} must include a {what}.", field)
    if text.isascii() and text.isdigit() and len(text) <= 4:
        return int(text)
    if what == "month" and text.lower().rstrip(".") in MONTHS:
        return MONTHS[text.lower().rstrip(".")]
    raise RuleError(f"{label} must be a real date, for example {EXAMPLE}.", field)


def parse_date(day, month, year, *, field: str | None = None, label: str = "The date") -> dt.date:
    """A date from its day, month and year as typed (the month may be a name); between 1990 and 2100."""
    if all(not str(part or "").strip() for part in (day, month, year)):
        raise RuleError(f"Enter {label[:1].lower() + label[1:]}.", field)
    d, m, y = (_number(day, "day", field, label), _number(month, "month", field, label),
               _number(year, "year", field, label))
    if y < 100:
        raise RuleError(f"{label} must have a four-digit year, for example {EXAMPLE}.", field)
    try:
        value = dt.date(y, m, d)
    except ValueError:
        raise RuleError(f"{label} must be a real date, for example {EXAMPLE}.", field) from None
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise RuleError(f"{label} must be between 1990 and 2100.", field)
    return value


def parse_typed_date(text, *, field: str | None = None, label: str = "The date") -> dt.date:
    """A date typed in one box: "27/1/2027", "27-01-2027", "27 January 2027", "27 Jan 2027" or "2027-01-27"."""
    value = "" if text is None else str(text).strip()
    iso = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", value)
    if iso:
        return parse_date(iso.group(3), iso.group(2), iso.group(1), field=field, label=label)
    parts = [p for p in re.split(r"[\s/.,-]+", value) if p]
    if not value:
        raise RuleError(f"Enter {label[:1].lower() + label[1:]}.", field)
    if len(parts) != 3:
        raise RuleError(f"{label} must be a real date, for example {EXAMPLE}.", field)
    return parse_date(*parts, field=field, label=label)


class DateInputWidget:
    """The Design System's date pattern: day, month and year boxes in a fieldset (rendered by forms.date_input)."""

    def __call__(self, field, **kwargs):
        described = kwargs.get("aria_describedby") or kwargs.get("aria-describedby")
        invalid = bool(field.errors)
        boxes = []
        for part, label, width, size in (("day", "Day", "fixed-2", 2), ("month", "Month", "fixed-2", 2),
                                         ("year", "Year", "fixed-4", 4)):
            ident = f"{field.id}-{part}"
            boxes.append(Markup(
                '<div><label class="ds_label" for="{ident}">{label}</label>'
                '<input class="ds_input ds_input--{width}{error}" type="text" inputmode="numeric" '
                'id="{ident}" name="{name}" value="{value}" maxlength="{max}"{invalid}{described}></div>'
            ).format(ident=ident, label=label, width=width, error=" ds_input--error" if invalid else "",
                     name=f"{field.name}-{part}", value=field.parts.get(part, ""), max=size + 7,
                     invalid=Markup(' aria-invalid="true"') if invalid else "",
                     described=Markup(' aria-describedby="{}"').format(described) if described else ""))
        return Markup('<div class="ds_datepicker__input-wrapper app-date-parts">{}</div>').format(
            Markup("").join(boxes))


class DayMonthYearField(Field):
    """A date typed in three boxes (name-day, name-month, name-year), parsed by `parse_date`.

    `data` is a date or None; a date that cannot be read leaves `data` None and puts the parser's message in
    `errors`. A single posted `name` (a script, an old page) is read by `parse_typed_date`. Without a
    `required_message` the date is optional: boxes left blank give None."""

    widget = DateInputWidget()

    def __init__(self, label=None, validators=None, *, required_message: str | None = None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.parts: dict[str, str] = {}
        self.parse_error: str | None = None
        self.required_message = required_message

    def process(self, formdata, data=None, extra_filters=None):
        self.process_errors = []
        self.parse_error = None
        self.parts = {}
        if data is None or data is unset_value:
            data = self.default() if callable(self.default) else self.default
        self.data = data
        if isinstance(self.data, dt.date):
            self.parts = {"day": str(self.data.day), "month": str(self.data.month), "year": str(self.data.year)}
        self.raw_data = None
        if formdata is None:
            return
        parts = {part: formdata.get(f"{self.name}-{part}") for part in ("day", "month", "year")}
        single = formdata.get(self.name)
        if all(value is None for value in parts.values()) and single is None:
            return
        self.raw_data = [single] if single is not None else [parts[p] or "" for p in ("day", "month", "year")]
        self.parts = {part: (value or "")[:20] for part, value in parts.items()}
        if self.required_message is None and not "".join(v or "" for v in (*parts.values(), single)).strip():
            self.data = None  # an optional date left blank
            return
        try:
            if single is not None and all(value is None for value in parts.values()):
                self.parts = {"day": single[:20], "month": "", "year": ""}
                self.data = parse_typed_date(single, label=str(self.label.text))
                self.parts = {"day": str(self.data.day), "month": str(self.data.month), "year": str(self.data.year)}
            else:
                self.data = parse_date(parts["day"], parts["month"], parts["year"], label=str(self.label.text))
        except RuleError as error:
            self.data = None
            self.parse_error = error.message

    def pre_validate(self, form):
        if self.parse_error:
            raise StopValidation(self.parse_error)
        if self.data is None and self.required_message:
            raise StopValidation(self.required_message)

    def _value(self):
        return escape(self.data.isoformat()) if isinstance(self.data, dt.date) else ""
