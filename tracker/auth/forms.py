from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from tracker.auth.passwords import MIN_LENGTH
from tracker.errors import RuleError
from tracker.text import line


def one_line(label: str, max_length: int):
    """A validator refusing control characters (NUL, CR, LF...) with tracker.text.line's plain message."""

    def check(_form, field):
        try:
            line(field.data, label=label, max_length=max_length)
        except RuleError as error:
            raise ValidationError(error.message) from None

    return check


class SignInForm(FlaskForm):
    email = EmailField("Email address", validators=[DataRequired("Enter your email address"), Length(max=254),
                                                    one_line("The email address", 254)])
    password = PasswordField("Password", validators=[DataRequired("Enter your password"), Length(max=1000)])


def _new_password_field(label: str = "New password") -> PasswordField:
    return PasswordField(
        label,
        description=f"At least {MIN_LENGTH} characters. A few unrelated words make a good password.",
        validators=[
            DataRequired("Enter a new password"),
            Length(min=MIN_LENGTH, message=f"Use at least {MIN_LENGTH} characters"),
            Length(max=1000, message="Use at most 1,000 characters"),
        ],
    )


def _confirm_field() -> PasswordField:
    return PasswordField("Confirm new password", validators=[
        DataRequired("Enter the new password again"),
        EqualTo("new_password", message="The two new passwords are not the same"),
    ])


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Current password",
                                     validators=[DataRequired("Enter your current password"), Length(max=1000)])
    new_password = _new_password_field()
    confirm_password = _confirm_field()

    def validate_new_password(self, field):
        if field.data and field.data == self.current_password.data:
            raise ValidationError("Choose a password different from the current one")


class ResetRequestForm(FlaskForm):
    email = EmailField("Email address", validators=[DataRequired("Enter your email address"), Length(max=254),
                                                    one_line("The email address", 254)])


class ResetPasswordForm(FlaskForm):
    new_password = _new_password_field()
    confirm_password = _confirm_field()


class ApiTokenForm(FlaskForm):
    name = StringField("Token name", description="What the token is for, for example 'Quarterly report script'",
                       validators=[DataRequired("Enter a name for the token"),
                                   Length(max=100, message="Use at most 100 characters"),
                                   one_line("The token name", 100)])
