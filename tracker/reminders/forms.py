from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired

from tracker.reminders.models import DueSoonFrequency


class ReminderSettingsForm(FlaskForm):
    due_soon = RadioField(
        "How often do you want to hear about your actions?",
        choices=[SelectChoice(f.value, f.label) for f in DueSoonFrequency],
        validators=[InputRequired("Choose how often you want reminders")],
    )
