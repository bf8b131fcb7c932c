"""Forms, each with Flask-WTF's CSRF token."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import Field, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from app.domain.accounts import MAX_PASSWORD, password_problem


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=MAX_PASSWORD)])


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
