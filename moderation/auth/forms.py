from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from moderation.validators import no_binary


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired("Enter your username."),
                                                   Length(max=80), no_binary])
    password = PasswordField("Password", validators=[DataRequired("Enter your password."),
                                                     Length(max=1024), no_binary])
    remember = BooleanField("Keep me signed in on this computer")
    next = HiddenField()


class ConfirmPasswordForm(FlaskForm):
    password = PasswordField("Your password", validators=[DataRequired("Enter your password."),
                                                          Length(max=1024), no_binary])


class LogoutForm(FlaskForm):
    """Field-less: only the CSRF token, so logging out is a POST nobody can forge."""


class CodeForm(FlaskForm):
    code = StringField("Code from your authenticator app, or a recovery code",
                       validators=[DataRequired("Type the code."), Length(max=20), no_binary])
