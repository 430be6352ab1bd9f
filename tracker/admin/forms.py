from __future__ import annotations

from tracker.once import OnceForm
from wtforms import BooleanField, EmailField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional

from tracker.auth.models import Role
from tracker.partnerships.models import OrganisationKind, Partnership

NO_ROLE = ""
ROLE_CHOICES = [SelectChoice(NO_ROLE, "No access")] + [SelectChoice(r.value, r.label) for r in Role]


class PartnershipForm(OnceForm):
    name = StringField("Name", description="The short name people use, for example 'Dundee'",
                       validators=[DataRequired("Enter the partnership's name"), Length(max=200)])
    full_name = StringField("Full name", description="For example 'Dundee Health and Social Care Partnership'",
                            validators=[Optional(), Length(max=300)])


class UserDetailsForm(OnceForm):
    name = StringField("Full name", validators=[DataRequired("Enter the person's name"), Length(max=200)])
    email = EmailField("Email address", validators=[
        DataRequired("Enter the person's email address"),
        Email("Enter an email address like name@example.scot", check_deliverability=False),
        Length(max=254),
    ])
    job_title = StringField("Job title", validators=[Optional(), Length(max=200)])
    is_admin = BooleanField("Site administrator",
                            description="Manages every partnership, its users and organisations")


class RolesForm(OnceForm):
    """One role select per partnership the administrator manages (fields added by `with_partnerships`)."""

    @classmethod
    def with_partnerships(cls, partnerships: list[Partnership], **kwargs) -> RolesForm:
        form_class = type("PartnershipRolesForm", (cls,), {
            f"role_{p.id}": SelectField(f"Role in {p.name}", choices=ROLE_CHOICES, default=NO_ROLE)
            for p in partnerships
        })
        return form_class(**kwargs)

    def role_fields(self):
        return [field for field in self if field.name.startswith("role_")]

    def roles(self) -> dict[int, Role | None]:
        return {int(field.name.removeprefix("role_")): Role(field.data) if field.data else None
                for field in self.role_fields()}


class NewUserForm(UserDetailsForm, RolesForm):
    """Details and roles together, for a new account."""


class OrganisationForm(OnceForm):
    partnership_id = SelectField("Partnership", coerce=int)
    name = StringField("Name", validators=[DataRequired("Enter the organisation's name"), Length(max=200)])
    kind = SelectField("Kind", choices=[SelectChoice(k.value, k.label) for k in OrganisationKind],
                       default=OrganisationKind.OTHER.value)
    aliases = TextAreaField(
        "Other names",
        description="One a line: abbreviations and spellings that plans use for it, for example 'NHST'",
        validators=[Optional(), Length(max=5000)],
    )

    def alias_lines(self) -> list[str]:
        return [line.strip()[:200] for line in (self.aliases.data or "").splitlines()]


class PartnershipSignInForm(OnceForm):
    """How a partnership's members sign in (tracker.auth.sso_services.set_partnership_sso checks the rules)."""

    sso_required = BooleanField(
        "Members must sign in with their organisation's account",
        description="Password sign-in and password reset are then refused for the partnership's members")
    jit_domains = TextAreaField(
        "Email domains that may join by signing in",
        description="One a line, for example nhs.scot. People at these domains who have no account get one, "
                    "with no role, when they first sign in with their organisation's account; you then give "
                    "them a role. Leave it empty to add every account yourself.",
        validators=[Optional(), Length(max=2000)])
