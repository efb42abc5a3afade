from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, Length, Optional

from moderation.services.decide import ACTIONS, REASONS
from moderation.validators import no_binary


class DecisionForm(FlaskForm):
    action = HiddenField(validators=[DataRequired("Choose approve or reject."),
                                     AnyOf(list(ACTIONS), "Choose approve or reject.")])
    reason = SelectField("Reason", choices=[SelectChoice("", "—")]
                         + [SelectChoice(value, label) for value, label in REASONS.items()],
                         validators=[Optional()])
    note = TextAreaField("Note", validators=[Optional(), Length(max=1000), no_binary])
