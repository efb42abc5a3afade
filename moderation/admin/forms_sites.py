"""Admin form: a news site that embeds comments."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from moderation.services import sites
from moderation.validators import no_binary, strip

THEME_CHOICES = [SelectChoice("auto", "Follow the reader's system (auto)"),
                 SelectChoice("light", "Light"), SelectChoice("dark", "Dark")]


def valid_origins(form, field):
    try:
        sites.parse_origins(field.data or "")
    except sites.SiteError as error:
        raise ValidationError(str(error)) from None


class SiteForm(FlaskForm):
    name = StringField("Name", filters=[strip], validators=[no_binary])
    origins = TextAreaField("Allowed origins, one per line (https://news.example, or "
                            "https://*.news.example for its subdomains)",
                            validators=[no_binary, valid_origins])
    allow_anonymous = BooleanField("Readers may comment without signing in")
    auto_register = BooleanField("Register an article the first time its page loads the "
                                 "comments")
    # Write-only: never rendered back (PasswordField does not echo its value).
    sso_secret = PasswordField("Sign-in (SSO) secret", filters=[strip], validators=[no_binary],
                               render_kw={"autocomplete": "off"})
    remove_secret = BooleanField("Remove the sign-in secret (readers can no longer sign in)")
    theme = SelectField("Theme", choices=THEME_CHOICES, default="auto", validate_choice=False)
    font = StringField("Font (a CSS font-family list, such as Georgia, serif)", filters=[strip],
                       validators=[no_binary])
