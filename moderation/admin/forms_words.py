from flask_wtf import FlaskForm
from wtforms import Form, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from moderation.services.words import MAX_NOTE, MAX_WORD
from moderation.validators import no_binary, strip

# What "try a text" accepts: a long comment, not a book.
MAX_TRY = 5000


class WordForm(FlaskForm):
    word = StringField("Word or phrase", filters=[strip],
                       validators=[DataRequired("Type the word or phrase to add."),
                                   Length(max=MAX_WORD, message=f"A word or phrase can be at "
                                          f"most {MAX_WORD} characters."), no_binary])
    kind = SelectField("List", choices=[
        SelectChoice("banned", "Banned: reject band, whatever the score"),
        SelectChoice("suspect", "Suspect: always waits for a moderator"),
    ], validators=[DataRequired("Choose the banned or the suspect list.")],
        validate_choice=False)
    note = StringField("Note (optional)", filters=[strip],
                       validators=[Optional(), Length(max=MAX_NOTE), no_binary])


class RemoveWordForm(FlaskForm):
    """Field-less: only the CSRF token, so removing a word is a POST nobody can forge."""


class TryForm(Form):
    """A GET form: trying a text changes nothing, and the link can be shared."""

    text = TextAreaField("Text", filters=[strip],
                         validators=[Optional(), Length(max=MAX_TRY), no_binary])
