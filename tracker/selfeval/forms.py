from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from tracker.dates import DayMonthYearField


class RoundDetailsForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired("Enter a title for the round"), Length(max=300)],
                        description="For example, MSG self-evaluation 2020")
    completed_on = DayMonthYearField("Date of completion", description="For example, 27 1 2027")
    agreed_at = StringField("Where it was agreed", validators=[Optional(), Length(max=300)],
                            description="For example, IJB development session, 10 May 2019")
    contact = StringField("Contact name and email address", validators=[Optional(), Length(max=300)])


class NewRoundForm(RoundDetailsForm):
    partnership_id = SelectField("Partnership", coerce=int, validators=[InputRequired("Choose a partnership")])
    framework_id = SelectField("Framework", coerce=int, validators=[InputRequired("Choose a framework")])


class NextRoundForm(FlaskForm):
    title = StringField("Title of the new round", validators=[DataRequired("Enter a title for the round"),
                                                              Length(max=300)])
    completed_on = DayMonthYearField("Date of completion", description="For example, 27 1 2027")


class RatingForm(FlaskForm):
    level = RadioField("Our rating", coerce=int, validators=[Optional()])
    evidence = TextAreaField("Evidence", validators=[Optional(), Length(max=50_000)],
                             description="One paragraph per line.")
    participants = TextAreaField("Who took part", validators=[Optional(), Length(max=5_000)],
                                 description="For example, IJB members, senior management team, carers' "
                                             "representatives")
    proposed_actions = TextAreaField("Proposed improvement actions", validators=[Optional(), Length(max=20_000)],
                                     description="One action per line.")
    reason = TextAreaField("Reason for the change", validators=[Length(max=2_000)],
                           description="This round has been agreed, so a change needs a reason. "
                                       "It is kept in the audit trail.")
    version = HiddenField()


class ConfirmForm(FlaskForm):
    """Only the CSRF token: for a button that changes something."""


class StatusForm(FlaskForm):
    to = HiddenField(validators=[DataRequired()])


def _optional_id(value):
    return int(value) if value not in (None, "", "None") else None


class TrackForm(FlaskForm):
    plan_id = SelectField("Plan", coerce=int, validators=[InputRequired("Choose a plan")])
    lead_officer_id = SelectField("Lead officer", coerce=_optional_id, validate_choice=True)


class LinkForm(FlaskForm):
    plan_id = SelectField("Plan", coerce=int, validators=[InputRequired("Choose a plan")])
    ref = StringField("Action reference", validators=[DataRequired("Enter the action's reference"), Length(max=40)])
