from __future__ import annotations

from tracker.dates import DayMonthYearField
from tracker.once import OnceForm
from wtforms import IntegerField, SelectChoice, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from tracker.committees.models import CommitteeKind


class CommitteeForm(OnceForm):
    name = StringField("Name", validators=[DataRequired("Enter the committee's name"), Length(max=200)])
    kind = SelectField("Kind of committee", choices=[SelectChoice(k.value, k.label) for k in CommitteeKind])
    papers_due_working_days = IntegerField(
        "Papers due (working days before a meeting)", default=10,
        description="Scottish bank holidays and weekends are not counted. Usually 10.",
        validators=[DataRequired("Enter a number of working days"),
                    NumberRange(min=1, max=60, message="Enter a number from 1 to 60")])
    plans = SelectMultipleField("Plans it oversees", coerce=int, validators=[Optional()])


class MemberForm(OnceForm):
    user_id = SelectField("Person", coerce=int, validators=[DataRequired("Choose a person")])
    role_label = StringField("Role on the committee", default="Member",
                             description="For example: Voting member, Carer representative, "
                                         "Service-user representative, Officer",
                             validators=[DataRequired("Enter their role"), Length(max=100)])


class MeetingForm(OnceForm):
    held_on = DayMonthYearField("Meeting date", description="For example, 27 1 2027",
                                required_message="Enter the meeting date, for example 27 1 2027")
    title = StringField("Title", validators=[Optional(), Length(max=300)])
