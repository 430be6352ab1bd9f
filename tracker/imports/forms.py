from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, HiddenField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from tracker.imports.xlsx_plan import ROLES
from tracker.text import parse_id


class UploadForm(FlaskForm):
    file = FileField("File", validators=[FileRequired("Choose an .xlsx plan or a .docx self-evaluation")],
                     description="An action or delivery plan (.xlsx) or an MSG self-evaluation return (.docx).")
    partnership = SelectField("Partnership", coerce=int, validators=[DataRequired("Choose the partnership")])
    plan_name = StringField("Plan name", validators=[Optional(), Length(max=300)],
                            description="Leave blank to take it from the file. A plan with this name is updated.")


def optional_id(value):
    """A posted id, or None for "nobody"; refused (not a choice) when it is not a number in range."""
    if value in (None, "", "None"):
        return None
    parsed = parse_id(value)
    return -1 if parsed is None else parsed


class ConfirmForm(FlaskForm):
    """Confirming applies the stored preview; for a plan, with its manager and the organisations to create."""

    manager = SelectField("Plan manager", coerce=optional_id, validate_choice=True,
                          description="Receives escalations and the “needs a lead” reminders for this plan.")
    create_organisations = SelectMultipleField("Organisations to create", coerce=str, validate_choice=True,
                                               validators=[Optional()])


class PlanChoiceForm(FlaskForm):
    """Update an existing plan with a similar name instead of creating a new one."""

    plan_id = HiddenField(validators=[DataRequired()])


def leads_form(unassigned: list[dict], candidates: list):
    """One select per distinct lead text, preset to the suggested person."""

    class LeadsForm(FlaskForm):
        def pairs(self):
            return [(entry, self[f"lead_{index}"]) for index, entry in enumerate(unassigned)]

    options = [SelectChoice("", "Nobody yet")] + [
        SelectChoice(str(u.id), f"{u.name}{' – ' + u.job_title if u.job_title else ''}") for u in candidates]
    for index, entry in enumerate(unassigned):
        setattr(LeadsForm, f"lead_{index}", SelectField(
            f"Lead officer for “{entry['text']}”", choices=options, coerce=optional_id, validate_choice=True,
            default=str(entry["suggested_id"]) if entry["suggested_id"] else ""))
    return LeadsForm()


class InviteForm(FlaskForm):
    """A new lead officer account for a lead text that names nobody the tracker knows."""

    lead_text = HiddenField(validators=[DataRequired()])
    name = StringField("Full name", validators=[DataRequired("Enter the person's name"), Length(max=200)])
    email = StringField("Email address", validators=[DataRequired("Enter the person's email address"),
                                                     Length(max=254)])
    job_title = StringField("Job title", validators=[Optional(), Length(max=200)])


def column_mapping_form(base: type, headers: dict[str, str], mapping: dict[str, str], roles: dict[str, str], *,
                        none_label: str = "Not imported", required: dict[str, str] | None = None) -> type:
    """`base` with one select per column of the header row (column_<letter>, labelled "Column B: Heading"),
    preset to the guessed role, so the user can correct the guess. Shared by the plan and risk register imports.

    `mapping` and `mapping()` are {role: column letter}; validating refuses a role chosen twice, then each of
    `required` ({role: message}) not chosen at all."""
    by_letter = {letter: role for role, letter in mapping.items()}

    class ColumnMappingForm(base):
        def validate(self, extra_validators=None):
            if not super().validate(extra_validators):
                return False
            chosen = [f.data for f in self.column_fields() if f.data]
            repeated = sorted({roles[r] for r in chosen if chosen.count(r) > 1})
            if repeated:
                self.form_errors.append(f"Choose each kind of column once: {', '.join(repeated)} is chosen twice.")
                return False
            for role, message in (required or {}).items():
                if role not in chosen:
                    self.form_errors.append(message)
                    return False
            return True

        def column_fields(self):
            return [self[f"column_{letter}"] for letter in headers]

        def mapping(self) -> dict[str, str]:
            return {f.data: f.name.removeprefix("column_") for f in self.column_fields() if f.data}

    choices = [SelectChoice("", none_label)] + [SelectChoice(role, label) for role, label in roles.items()]
    for letter, header in headers.items():
        setattr(ColumnMappingForm, f"column_{letter}", SelectField(
            f"Column {letter}: {header}", choices=choices, default=by_letter.get(letter, ""),
            validators=[Optional()]))
    return ColumnMappingForm


def mapping_form(headers: dict[str, str], mapping: dict[str, str], plan_name: str, kind: str):
    """A form with one select per column of the header row, so the user can correct the guess."""

    class MappingForm(FlaskForm):
        plan = StringField("Plan name", default=plan_name,
                           validators=[DataRequired("Enter the plan's name"), Length(max=300)])
        use_suggested = BooleanField("Use the rating the evidence says was agreed where no level is marked",
                                     default=True)

    required = {"action": "Choose the column that holds the actions."} if kind == "xlsx" else {}
    return column_mapping_form(MappingForm, headers, mapping, ROLES, required=required)()


class AliasForm(FlaskForm):
    alias = StringField("Name as written in plans", validators=[DataRequired("Enter the name as plans write it"),
                                                                Length(max=200)],
                        description='For example "DH&SCP" or "Carers Centre Comms".')
    organisation = SelectField("Means", coerce=int,
                               description="Choose “Forget this name” to remove it from the list.")
