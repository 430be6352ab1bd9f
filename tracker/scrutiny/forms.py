from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, HiddenField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from tracker.scrutiny.models import Assurance, AuditorKind


class ReportForm(FlaskForm):
    title = StringField("Title of the report", validators=[DataRequired("Enter the report's title"),
                                                           Length(max=300)])
    auditor_kind = SelectField("Auditor", choices=[SelectChoice(k.value, k.label) for k in AuditorKind])
    auditor_name = StringField("Name of the auditor or body", validators=[Optional(), Length(max=200)],
                               description="For example, Dundee City Council Internal Audit")
    issued_on = DateField("Date of the report", description="For example, 2026-03-31",
                          validators=[DataRequired("Enter the report's date as a real date, like 2026-03-31")])
    assurance = SelectField("Assurance opinion", choices=[SelectChoice("", "No opinion given")] +
                            [SelectChoice(a.value, a.label) for a in Assurance], validators=[Optional()])
    committee_id = SelectField("Committee that receives it", coerce=str, validators=[Optional()])
    plan_id = SelectField("Plan that tracks the actions", coerce=str,
                          validators=[DataRequired("Choose the plan that tracks the actions")])
    scheme_id = SelectField("Grade scheme", coerce=str, validators=[DataRequired("Choose the grade scheme")])


class RecommendationForm(FlaskForm):
    ref = StringField("Reference", description="For example, R1 or 3.2",
                      validators=[DataRequired("Enter the recommendation's reference"), Length(max=40)])
    finding = TextAreaField("Finding", validators=[Optional()])
    text = TextAreaField("Recommendation", validators=[DataRequired("Enter the recommendation")])
    grade = SelectField("Grade", coerce=str, validators=[Optional()])
    response = TextAreaField("Management response", validators=[Optional()],
                             description="The action management agreed; it becomes the tracked action.")
    lead_officer_id = SelectField("Responsible officer", coerce=str, validators=[Optional()])
    agreed_date = DateField("Agreed date", description="For example, 2026-09-30", validators=[Optional()])


class CompleteForm(FlaskForm):
    action_id = SelectField("Action", coerce=str, validators=[DataRequired("Choose the action")])
    narrative = TextAreaField("What was done", validators=[DataRequired("Say what was done")])
    file = FileField("Evidence file", validators=[Optional()],
                     description="A PDF, Word, Excel or PowerPoint file, or a PNG or JPEG image")
    url = StringField("Or a link to the evidence", validators=[Optional(), Length(max=2000)])
    title = StringField("Title of the evidence", validators=[Optional(), Length(max=200)])


class VerifyForm(FlaskForm):
    note = TextAreaField("Note", validators=[Optional()])


class ReopenForm(FlaskForm):
    reason = TextAreaField("Why it is re-opened", validators=[DataRequired("Give the reason it is re-opened")])


class ImportForm(FlaskForm):
    file = FileField("Recommendation tracker (.xlsx)", validators=[FileRequired("Choose an .xlsx file to upload")])


class ConfirmImportForm(FlaskForm):
    payload = HiddenField(validators=[DataRequired("Upload the tracker again")])
