from flask_wtf import FlaskForm
from wtforms import BooleanField, Form, SelectField, StringField, TextAreaField, ValidationError
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from moderation.services.words import MAX_NOTE, MAX_PASTED, MAX_WORD
from moderation.validators import no_binary, strip

# What "try a text" accepts: a long comment, not a book.
MAX_TRY = 5000


def each_line_short(form, field):
    lines = [line.strip() for line in (field.data or "").splitlines() if line.strip()]
    for number, line in enumerate(lines, 1):
        if len(line) > MAX_WORD:
            where = f"Line {number}: " if len(lines) > 1 else ""
            raise ValidationError(f"{where}A word or phrase can be at most {MAX_WORD} "
                                  "characters.")


class WordForm(FlaskForm):
    word = TextAreaField("Words or phrases, one per line", filters=[strip],
                         validators=[DataRequired("Type the word or phrase to add."),
                                     Length(max=MAX_PASTED * (MAX_WORD + 2),
                                            message=f"Paste at most {MAX_PASTED} words."),
                                     each_line_short, no_binary])
    kind = SelectField("List", choices=[
        SelectChoice("banned", "Banned: reject band, whatever the score"),
        SelectChoice("suspect", "Suspect: always waits for a moderator"),
    ], validators=[DataRequired("Choose the banned or the suspect list.")],
        validate_choice=False)
    note = StringField("Note (optional)", filters=[strip],
                       validators=[Optional(), Length(max=MAX_NOTE), no_binary])
    inflect = BooleanField("Also match plurals and endings (“idiot” catches “Idiots!”, "
                           "“idiot’s”)")


class RemoveWordForm(FlaskForm):
    """Field-less: only the CSRF token, so removing a word is a POST nobody can forge."""


class TryForm(Form):
    """A GET form: trying a text changes nothing, and the link can be shared."""

    text = TextAreaField("Text", filters=[strip],
                         validators=[Optional(), Length(max=MAX_TRY), no_binary])
