"""Forms for defining indicators, entering values and uploading them from a spreadsheet."""
from __future__ import annotations

import re

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms.fields.choices import SelectChoice
from wtforms import RadioField, SelectField, SelectMultipleField, StringField, TextAreaField, ValidationError
from wtforms.validators import DataRequired, Length, Optional

from tracker.indicators.models import Unit
from tracker.indicators.services import IndicatorError
from tracker.periods import FREQUENCIES, Period, financial_year_label, parse_financial_year

_NUMBER_RE = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")


def parse_number(text: str | float | int | None, what: str = "value") -> float | None:
    """'1,234', ' 72.5% ', '450' -> a number; blank -> None; anything else is refused in plain words."""
    if text is None:
        return None
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text)
    cleaned = str(text).strip().replace(",", "").rstrip("%").strip()
    if not cleaned:
        return None
    if not _NUMBER_RE.fullmatch(cleaned):
        raise IndicatorError(f"The {what} '{str(text).strip()[:40]}' is not a number. Enter digits, like 412 or 31.5.")
    return float(cleaned)


def parse_yearly_targets(text: str | None) -> dict[int, float]:
    """'2024/25: 450' one per line -> {2024: 450.0}."""
    targets: dict[int, float] = {}
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        year_text, sep, number = line.partition(":") if ":" in line else line.partition("=")
        if not sep:
            raise IndicatorError(f"Write each yearly target like '2024/25: 450', not '{line.strip()[:40]}'.")
        try:
            year = parse_financial_year(year_text)
        except ValueError as error:
            raise IndicatorError(str(error)) from None
        value = parse_number(number, "target")
        if value is None:
            raise IndicatorError(f"Give a target for {financial_year_label(year)}.")
        targets[year] = value
    return targets


def yearly_targets_text(targets) -> str:
    return "\n".join(f"{financial_year_label(t.financial_year)}: {t.target:g}" for t in targets)


class IndicatorForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Enter the indicator's name"), Length(max=300)])
    definition = TextAreaField("Definition", validators=[Optional(), Length(max=5000)],
                               description="What is counted and how, so that every period is measured the same way.")
    unit = RadioField("Unit", choices=[SelectChoice(u.value, u.label) for u in Unit], default=Unit.COUNT.value,
                      validators=[DataRequired("Choose the unit")])
    frequency = RadioField("How often it is measured", choices=[SelectChoice(f, f.capitalize()) for f in FREQUENCIES],
                           default="quarterly", validators=[DataRequired("Choose how often it is measured")])
    starts_on = StringField("First period", validators=[DataRequired("Enter the first period a value is expected for")],
                            description="Like 'Q1 2024/25' (quarterly), 'April 2024' (monthly), '2024/25' (annual) "
                                        "or '2023-25' (biennial). Values are due from this period on.")
    direction = RadioField("Which way is better", choices=[SelectChoice("higher", "Higher is better"),
                                                              SelectChoice("lower", "Lower is better")],
                           default="higher", validators=[DataRequired("Choose which way is better")])
    target = StringField("Target", validators=[Optional()], description="The standing target, e.g. 450.")
    yearly_targets = TextAreaField("Targets by year", validators=[Optional()],
                                   description="Optional, one per line, like '2024/25: 450'. "
                                               "A yearly target replaces the standing target for that financial year.")
    source = StringField("Source", validators=[Optional(), Length(max=500)],
                         description="Where the figures come from, e.g. 'Carers survey' or 'Mosaic'.")
    responsible_officer_id = SelectField("Officer responsible for the data", coerce=int, validators=[Optional()])
    items = SelectMultipleField("What it evidences", coerce=int, validators=[Optional()],
                                description="The outcomes' priority areas or proposals this indicator evidences.")

    def validate_target(self, field):
        try:
            parse_number(field.data, "target")
        except IndicatorError as error:
            raise ValidationError(str(error)) from None

    def validate_yearly_targets(self, field):
        try:
            parse_yearly_targets(field.data)
        except IndicatorError as error:
            raise ValidationError(str(error)) from None

    def validate_starts_on(self, field):
        if self.frequency.data not in FREQUENCIES:
            return
        try:
            Period.parse(self.frequency.data, field.data)
        except ValueError as error:
            raise ValidationError(str(error)) from None


class CsrfForm(FlaskForm):
    """Just the CSRF token, for forms whose fields are built per period."""


class UploadForm(FlaskForm):
    file = FileField("Spreadsheet (.xlsx)", validators=[FileRequired("Choose an .xlsx file to upload")],
                     description="Columns: Indicator, Period, Value, Note. The first sheet is read.")
