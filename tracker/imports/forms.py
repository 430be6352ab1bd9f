from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from tracker.imports.xlsx_plan import ROLES


class UploadForm(FlaskForm):
    file = FileField("File", validators=[FileRequired("Choose an .xlsx plan or a .docx self-evaluation")],
                     description="An action or delivery plan (.xlsx) or an MSG self-evaluation return (.docx).")
    partnership = SelectField("Partnership", coerce=int, validators=[DataRequired("Choose the partnership")])
    plan_name = StringField("Plan name", validators=[Optional(), Length(max=300)],
                            description="Leave blank to take it from the file. A plan with this name is updated.")


class ConfirmForm(FlaskForm):
    """Only the CSRF token: confirming applies the stored preview."""


def mapping_form(headers: dict[str, str], mapping: dict[str, str], plan_name: str, kind: str):
    """A form with one select per column of the header row, so the user can correct the guess."""
    by_letter = {letter: role for role, letter in mapping.items()}

    class MappingForm(FlaskForm):
        plan = StringField("Plan name", default=plan_name,
                           validators=[DataRequired("Enter the plan's name"), Length(max=300)])
        use_suggested = BooleanField("Use the rating the evidence says was agreed where no level is marked",
                                     default=True)

        def validate(self, extra_validators=None):
            if not super().validate(extra_validators):
                return False
            chosen = [f.data for f in self.column_fields() if f.data]
            repeated = sorted({ROLES[r] for r in chosen if chosen.count(r) > 1})
            if repeated:
                self.form_errors.append(f"Choose each kind of column once: {', '.join(repeated)} is chosen twice.")
                return False
            if kind == "xlsx" and "action" not in chosen:
                self.form_errors.append("Choose the column that holds the actions.")
                return False
            return True

        def column_fields(self):
            return [self[f"column_{letter}"] for letter in headers]

        def mapping(self) -> dict[str, str]:
            return {f.data: f.name.removeprefix("column_") for f in self.column_fields() if f.data}

    choices = [SelectChoice("", "Not imported")] + [SelectChoice(role, label) for role, label in ROLES.items()]
    for letter, header in headers.items():
        setattr(MappingForm, f"column_{letter}", SelectField(
            f"Column {letter}: {header}", choices=choices, default=by_letter.get(letter, ""),
            validators=[Optional()]))
    return MappingForm()


class AliasForm(FlaskForm):
    alias = StringField("Name as written in plans", validators=[DataRequired("Enter the name as plans write it"),
                                                                Length(max=200)],
                        description='For example "DH&SCP" or "Carers Centre Comms".')
    organisation = SelectField("Means", coerce=int,
                               description="Choose “Forget this name” to remove it from the list.")
