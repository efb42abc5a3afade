"""Forms for the semantic examples and the site models."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, Length, Optional

from moderation.services.examples import LIST_LABELS, MAX_CHARS, MAX_NOTE
from moderation.validators import no_binary, strip

LABEL_CHOICES = [SelectChoice(label, label.replace("_", " ")) for label in LIST_LABELS]


class ExampleForm(FlaskForm):
    label = SelectField("Label", choices=LABEL_CHOICES, validate_choice=False,
                        validators=[DataRequired("Choose a label.")])
    kind = RadioField("It is", choices=[
        SelectChoice("harmful", "Harmful: comments like it score high on the label"),
        SelectChoice("lookalike", "A harmless look-alike: comments like it should not"),
    ], default="harmful")
    text = TextAreaField("Example sentence", filters=[strip],
                         validators=[DataRequired("Type the example sentence to add."),
                                     Length(max=MAX_CHARS, message=f"An example can be at most "
                                            f"{MAX_CHARS} characters."), no_binary])
    note = StringField("Note (optional)", filters=[strip],
                       validators=[Optional(), Length(max=MAX_NOTE), no_binary])


class RemoveExampleForm(FlaskForm):
    label = HiddenField(validators=[DataRequired()])
    kind = HiddenField(validators=[DataRequired(), AnyOf(("harmful", "lookalike"))])
    text = HiddenField(validators=[DataRequired(), Length(max=MAX_CHARS), no_binary])


class SiteModelForm(FlaskForm):
    """Field-less: only the CSRF token, for activate and roll back."""


class NoteForm(FlaskForm):
    note = TextAreaField("Note", validators=[Optional(), Length(max=2000), no_binary])
