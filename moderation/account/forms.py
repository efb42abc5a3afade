from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length

from moderation.services.tokens import EXPIRY_DAYS, MAX_NAME
from moderation.services.users import MIN_PASSWORD_LENGTH
from moderation.validators import no_binary, strip


class TokenForm(FlaskForm):
    name = StringField("Name", filters=[strip],
                       validators=[DataRequired("Give the token a name, like “nightly script”."),
                                   Length(max=MAX_NAME), no_binary])
    expires = SelectField(
        "Expires", default="90",
        choices=[SelectChoice(str(days), f"in {days} days") for days in EXPIRY_DAYS]
        + [SelectChoice("never", "never (until revoked)")])
    # Shown to admins only; the service refuses a publisher token to anyone else.
    scope = SelectField(
        "What it may do", default="full",
        choices=[SelectChoice("full", "everything you may do"),
                 SelectChoice("publisher", "publisher: only add and change articles (for a CMS)")])

    def days(self) -> int | None:
        return None if self.expires.data == "never" else int(self.expires.data)


class RevokeForm(FlaskForm):
    """Field-less: only the CSRF token, so revoking is a POST nobody can forge."""


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(
        "Current password", validators=[DataRequired("Enter your current password."),
                                        Length(max=1024), no_binary])
    new_password = PasswordField(
        "New password",
        validators=[DataRequired("Choose a new password."),
                    Length(min=MIN_PASSWORD_LENGTH, max=1024,
                           message=f"A password is {MIN_PASSWORD_LENGTH} to 1024 characters."),
                    no_binary])
    confirm_password = PasswordField(
        "New password again",
        validators=[DataRequired("Type the new password a second time."),
                    EqualTo("new_password", "The two new passwords are not the same.")])


class DeviceForm(FlaskForm):
    """Field-less: signing a device out is a POST nobody can forge."""


class TwoStepForm(FlaskForm):
    code = StringField("The 6-digit code your app shows",
                       validators=[DataRequired("Type the code from your app."),
                                   Length(max=20), no_binary])


class TwoStepDisableForm(FlaskForm):
    """Field-less: turning two-step sign-in off is a POST nobody can forge."""
