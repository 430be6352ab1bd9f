"""Forms to add, review and close risks, and to upload a register."""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, HiddenField, RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from tracker.risks import scoring
from tracker.risks.models import RiskStatus

SCORE_FIELDS = ("inherent_likelihood", "inherent_impact", "residual_likelihood", "residual_impact",
                "target_likelihood", "target_impact")


def _score(label: str) -> SelectField:
    return SelectField(label, coerce=int, validators=[InputRequired(f"Choose the {label.lower()}")])


class _Scores:
    inherent_likelihood = _score("Inherent likelihood")
    inherent_impact = _score("Inherent impact")
    residual_likelihood = _score("Residual likelihood")
    residual_impact = _score("Residual impact")
    target_likelihood = _score("Target likelihood")
    target_impact = _score("Target impact")

    def set_scale(self, size: int) -> None:
        for name in SCORE_FIELDS:
            getattr(self, name).choices = [SelectChoice(n, str(n)) for n in range(1, size + 1)]

    def pairs(self) -> dict:
        return {what: (getattr(self, f"{what}_likelihood").data, getattr(self, f"{what}_impact").data)
                for what in ("inherent", "residual", "target")}


class RiskForm(_Scores, FlaskForm):
    reference = StringField("Reference", validators=[DataRequired("Enter the risk's reference"), Length(max=40)],
                            description="Unique on the partnership's register, like R1 or DIJB72-2022 R1.")
    title = StringField("Title", validators=[DataRequired("Enter the risk's title"), Length(max=300)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=5000)])
    categories = StringField("Categories", validators=[Optional(), Length(max=500)],
                             description="Separated by commas, like 'Financial, Political'.")
    owner_id = SelectField("Owner", coerce=int, validators=[Optional()],
                           description="The person asked to review the risk when its review date passes.")
    review_date = DateField("Review date", validators=[Optional()], description="For example, 2027-03-31")
    plans = SelectMultipleField("Plans", coerce=int, validators=[Optional()])
    actions = SelectMultipleField("Mitigating actions", coerce=int, validators=[Optional()],
                                  description="The tracked actions the residual score assumes.")
    mitigations = TextAreaField("Mitigating actions as written", validators=[Optional(), Length(max=5000)],
                                description="Timescales and resources, as the committee report gives them.")
    recommendation = TextAreaField("Approval recommendation", validators=[Optional(), Length(max=5000)])


class ReviewForm(_Scores, FlaskForm):
    reason = TextAreaField("Why, or what changed", validators=[DataRequired("Say why the risk was reviewed")])
    review_date = DateField("Next review date", validators=[Optional()], description="For example, 2027-03-31")
    actions = SelectMultipleField("Mitigating actions", coerce=int, validators=[Optional()])
    version = HiddenField(validators=[InputRequired()])


class StatusForm(FlaskForm):
    status = RadioField("New status", validators=[DataRequired("Choose the new status")],
                        choices=[SelectChoice(s.value, s.label) for s in RiskStatus])
    reason = TextAreaField("Why", validators=[DataRequired("Say why the status changes")])
    version = HiddenField(validators=[InputRequired()])


class UploadForm(FlaskForm):
    file = FileField("Risk register (.xlsx) or committee report (.docx)",
                     validators=[FileRequired("Choose an .xlsx or .docx file to upload")])
    plan_id = SelectField("Plan the risks belong to", coerce=int, validators=[Optional()])


class CsrfForm(FlaskForm):
    """Just the CSRF token."""


class ConfirmForm(FlaskForm):
    token = HiddenField(validators=[InputRequired()])


class MatrixForm(FlaskForm):
    """A partnership's scoring matrix: the scheme, and each band's label, lowest and highest score.

    The scores are text fields: the service reads and refuses them in plain English (band_N_low ...)."""

    size = RadioField("Scoring scheme", coerce=int, validators=[InputRequired("Choose the scoring scheme")],
                      choices=[SelectChoice(size, label) for size, (label, _) in scoring.SCHEMES.items()])

    def band_rows(self) -> list[tuple]:
        """(number, label field, lowest field, highest field) for each row of the form."""
        return [(n, self[f"band_{n}_name"], self[f"band_{n}_low"], self[f"band_{n}_high"])
                for n in range(1, scoring.MAX_BANDS + 1)]

    def bands(self) -> list[tuple]:
        """The bands as written, up to the last row with anything in it: (label, lowest, highest), the scores as
        whole numbers where they are (anything else goes to the service as written, to be refused)."""
        rows = [(name.data or "", _number(low.data), _number(high.data)) for _, name, low, high in self.band_rows()]
        while rows and rows[-1] == ("", None, None):
            rows.pop()
        return rows

    def fill(self, matrix: scoring.Matrix) -> None:
        self.size.data = matrix.size
        ranges = scoring.band_ranges(matrix)
        for number, name, low, high in self.band_rows():
            given = ranges[number - 1] if number <= len(ranges) else ("", "", "")
            name.data, low.data, high.data = given[0], str(given[1]), str(given[2])


def _number(text):
    text = (text or "").strip()
    if not text:
        return None
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 4 else text


for _n in range(1, scoring.MAX_BANDS + 1):
    setattr(MatrixForm, f"band_{_n}_name", StringField(f"Band {_n} label"))
    setattr(MatrixForm, f"band_{_n}_low", StringField(f"Band {_n} lowest score"))
    setattr(MatrixForm, f"band_{_n}_high", StringField(f"Band {_n} highest score"))
del _n


def risk_mapping_form(headers: dict[str, str], mapping: dict[str, str]):
    """A register's column mapping: one select per heading (the plan import's, with the risk fields), and the
    preview's token, which keeps the sheet."""
    from tracker.imports.forms import column_mapping_form
    from tracker.risks.importers import ROLES

    class RiskMappingForm(FlaskForm):
        token = HiddenField(validators=[InputRequired()])

    return column_mapping_form(RiskMappingForm, headers, mapping, ROLES, none_label="Not used")()
