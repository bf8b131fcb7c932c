"""Forms, each with Flask-WTF's CSRF token."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, Field, PasswordField, StringField, URLField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from app.domain import accounts, callback_urls
from app.domain.accounts import MAX_PASSWORD, MIN_PASSWORD, password_problem
from app.domain.errors import Refused


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=MAX_PASSWORD)])


# what password_problem checks, said before anyone types
PASSWORD_RULES = f"At least {MIN_PASSWORD} characters (at most {MAX_PASSWORD}), and not only spaces."


def usable_password(form: FlaskForm, field: Field) -> None:
    problem = password_problem(field.data or "")
    if problem:
        raise ValidationError(f"The new password {problem}.")


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        "Current password", validators=[DataRequired("Enter your current password."), Length(max=MAX_PASSWORD)]
    )
    new_password = PasswordField("New password", validators=[usable_password])
    repeat = PasswordField(
        "Repeat the new password", validators=[EqualTo("new_password", "The two new passwords differ.")]
    )


class NotificationsForm(FlaskForm):
    """Where Conveyor says a video is done; each field checked by the rule the API uses, cleaned
    into `checked` (an empty field clears it)."""

    email = EmailField("E-mail for notifications")
    callback_url = URLField("Default callback URL")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.checked: dict[str, str | None] = {}

    def validate_email(self, field: Field) -> None:
        self._check(field, accounts.check_email, "`email`", "This")

    def validate_callback_url(self, field: Field) -> None:
        self._check(field, callback_urls.check, "`callback_url`", "The callback URL")

    def _check(self, field: Field, rule, api_name: str, page_name: str) -> None:
        try:
            self.checked[field.name] = rule(field.data)
        except Refused as exc:
            # the API's words name its JSON field; a page names what the person typed into
            raise ValidationError(exc.message.replace(api_name, page_name, 1)) from exc
