"""Forms to add, review and close risks, and to upload a register."""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, HiddenField, RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

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
