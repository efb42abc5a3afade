from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from moderation.services.tokens import MAX_NAME
from moderation.validators import no_binary, strip


class TokenForm(FlaskForm):
    name = StringField("Name", filters=[strip],
                       validators=[DataRequired("Give the token a name, like “nightly script”."),
                                   Length(max=MAX_NAME), no_binary])


class RevokeForm(FlaskForm):
    """Field-less: only the CSRF token, so revoking is a POST nobody can forge."""
