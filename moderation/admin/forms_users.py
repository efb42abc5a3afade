"""Admin forms: users and per-article settings."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from moderation.models import Role
from moderation.services.users import MIN_PASSWORD_LENGTH
from moderation.validators import no_binary, strip

ROLE_CHOICES = [SelectChoice(Role.MODERATOR.value, "Moderator"),
                SelectChoice(Role.ADMIN.value, "Admin")]


class CreateUserForm(FlaskForm):
    username = StringField("Username", filters=[strip],
                           validators=[DataRequired("Give the new user a username."),
                                       Length(max=80), no_binary])
    role = SelectField("Role", choices=ROLE_CHOICES, default=Role.MODERATOR.value)
    email = StringField("Email (optional)", filters=[strip],
                        validators=[Optional(), Length(max=254), no_binary])
    password = PasswordField(
        "Initial password (leave empty to generate one)",
        validators=[Optional(), Length(
            min=MIN_PASSWORD_LENGTH, max=1024,
            message=f"A password is {MIN_PASSWORD_LENGTH} to 1024 characters."), no_binary],
    )


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=ROLE_CHOICES)


class UserActionForm(FlaskForm):
    """Field-less: only the CSRF token, for deactivate, reactivate and password reset."""


class EmailForm(FlaskForm):
    email = StringField("Email", filters=[strip],
                        validators=[Optional(), Length(max=254), no_binary])


class DeactivateForm(FlaskForm):
    # Sent only by the confirmation page's button: the list's button asks first.
    confirm = BooleanField("Yes, deactivate this account")


class ArticleSettingsForm(FlaskForm):
    # Unchecked boxes are not sent at all: absent means off.
    comments_open = BooleanField("Comments open")
    premoderate = BooleanField("Pre-moderate every comment")
