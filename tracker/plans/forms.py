"""Forms for plans and actions: they parse what was posted; tracker.plans.services decides.

Choices that depend on the partnership are set by the view. Lengths, readable timescales, reasons and
permissions are the services' rules (the same for the API, the Excel return and the importer), so a form
only checks that a field was filled in and has the right type.
"""
from __future__ import annotations

from tracker.once import OnceForm
from wtforms import HiddenField, RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from tracker.plans.models import PlanKind
from tracker.rag import Status

from tracker.plans.services import NARRATIVE_MAX



def choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms choices."""
    return [SelectChoice(value, label) for value, label in pairs]


STATUS_CHOICES = choices((s.value, s.label) for s in Status)
UPDATE_STATUS_CHOICES = choices((s.value, s.label) for s in Status if s is not Status.SUPERSEDED)


def optional_id(value):
    return int(value) if value not in (None, "", "None") else None


class UpdateForm(OnceForm):
    """A lead officer's progress update."""

    version = HiddenField(validators=[InputRequired()])
    status = RadioField("Status", choices=UPDATE_STATUS_CHOICES,
                        validators=[InputRequired("Choose the action's status")])
    narrative = TextAreaField(
        "What has happened since the last update?",
        description="Keep it short; committee members read this. Leave a blank line between paragraphs.",
        validators=[DataRequired("Describe the progress"), Length(max=NARRATIVE_MAX,
                    message=f"Write no more than {NARRATIVE_MAX:,} characters")],
    )
    revised_timescale = StringField(
        "Revised timescale",
        description="Only if the date moves, for example “March 2025” or “Q3 2024/25”.",
        validators=[Optional()],
    )
    revision_reason = TextAreaField("Reason for the new timescale", validators=[Length(max=2000)])

    def __init__(self, *args, current_timescale: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.current_timescale = current_timescale


class ActionForm(OnceForm):
    """A plan manager's create / edit form."""

    version = HiddenField()
    ref = StringField("Reference", description="Leave blank for the next number (A1, A2, ...).",
                      validators=[Optional(), Length(max=40)])
    # Required, and at most 5,000 characters: the service says so, beside the other fields' refusals.
    text = TextAreaField("Action")
    timescale = StringField("Timescale", description="As the plan writes it, for example “Autumn 2025”.",
                            validators=[Optional()])
    revision_reason = TextAreaField("Reason for the new timescale", description="Needed when the timescale changes.",
                                    validators=[Optional(), Length(max=2000)])
    status = SelectField("Status", choices=STATUS_CHOICES, default=Status.NOT_STARTED.value)
    lead_officer_id = SelectField("Lead officer", coerce=optional_id, validate_choice=True)
    lead_text = StringField("Lead as written", description="Who the source document names, if different.",
                            validators=[Optional(), Length(max=500)])
    organisations = SelectMultipleField("Lead organisations", coerce=int, validators=[Optional()])
    items = SelectMultipleField("Linked items", coerce=int, validators=[Optional()])


class CorrectionForm(OnceForm):
    """A lead officer's correction of the narrative of their own latest update."""

    narrative = TextAreaField(
        "Corrected update",
        description="The original stays in the action's history; committee papers show the correction.",
        validators=[DataRequired("Write the corrected update"), Length(max=NARRATIVE_MAX,
                    message=f"Write no more than {NARRATIVE_MAX:,} characters")])


class CloseForm(OnceForm):
    version = HiddenField(validators=[InputRequired()])
    note = TextAreaField("Closing note", description="Why the action is complete: what was delivered.",
                         validators=[DataRequired("Write a closing note"), Length(max=NARRATIVE_MAX)])


NO_LONGER_NEEDED = "no_longer_needed"


def replacement_value(value):
    """An action id, "no longer needed", or None (nothing chosen)."""
    if value == NO_LONGER_NEEDED:
        return NO_LONGER_NEEDED
    return optional_id(value)


class SupersedeForm(OnceForm):
    version = HiddenField(validators=[InputRequired()])
    replacement = SelectField("Replaced by", coerce=replacement_value,
                              description="Any action of the partnership's plans, or “No longer needed”.",
                              validators=[InputRequired("Choose the action that replaces this one")])
    note = TextAreaField("Note", description="Why the action is superseded or no longer needed.",
                         validators=[DataRequired("Write a note"), Length(max=NARRATIVE_MAX)])

    def validate_replacement(self, field) -> None:
        if field.data is None:
            raise ValidationError("Choose the action that replaces this one, or “No longer needed”")


class ReassignForm(OnceForm):
    from_user = SelectField("Move the open actions led by", coerce=optional_id)
    to_user = SelectField("To", coerce=optional_id)
    scope = RadioField("Which plans", choices=choices([("plan", "This plan only"),
                                                      ("partnership", "Every plan of the partnership")]),
                       default="plan", validators=[InputRequired("Choose which plans")])

    def validate_from_user(self, field) -> None:
        if field.data is None:
            raise ValidationError("Choose the officer whose actions move")

    def validate_to_user(self, field) -> None:
        if field.data is None:
            raise ValidationError("Choose the officer who takes them over")
        if field.data == self.from_user.data:
            raise ValidationError("Choose a different officer to take the actions over")


class PlanForm(OnceForm):
    partnership_id = SelectField("Partnership", coerce=optional_id)
    name = StringField("Name", validators=[DataRequired("Enter the plan's name"), Length(max=300)])
    kind = RadioField("Kind", choices=choices((k.value, k.label) for k in PlanKind), default=PlanKind.ACTION_PLAN.value,
                      validators=[InputRequired("Choose the kind of plan")])
    framework_id = SelectField("Framework", coerce=optional_id)
    manager_id = SelectField("Plan manager", coerce=optional_id)
    description = TextAreaField("Description", validators=[Optional(), Length(max=5000)])


class ArchiveForm(OnceForm):
    """Archiving or restoring a plan: only the CSRF token."""
