"""Forms for sanctions: making one from a comment, and the sanctions page's filter."""

from flask_wtf import FlaskForm
from wtforms import Form, IntegerField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from moderation.services import sanctions
from moderation.validators import no_binary, strip

KIND_LABELS = {"hold": "Hold: every comment waits for a moderator",
               "suspend": "Suspend: refused for some days",
               "ban": "Ban: refused for good"}
MATCH_LABELS = {"name": "Their name (as now)", "email": "Their email",
                "address": "Their address (hashed)"}


class SanctionForm(FlaskForm):
    kind = SelectField("Sanction", choices=[SelectChoice(k, v) for k, v in KIND_LABELS.items()],
                       validators=[DataRequired("Choose hold, suspend or ban.")],
                       invalid_choice_message="Choose hold, suspend or ban.")
    match = SelectMultipleField(
        "Match on", choices=[SelectChoice(k, v) for k, v in MATCH_LABELS.items()],
        widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
        validators=[DataRequired("Choose at least one of name, email or address to match on.")],
        invalid_choice_message="Match on name, email or address.")
    days = IntegerField("Days (suspension)", validators=[Optional(), NumberRange(
        min=1, max=sanctions.MAX_DAYS,
        message=f"A suspension lasts 1 to {sanctions.MAX_DAYS} days.")])
    reason = StringField("Why", filters=[strip],
                         validators=[Optional(), Length(max=500), no_binary])

    def error_message(self) -> str:
        return " ".join(message for messages in self.errors.values() for message in messages)


class SanctionFilterForm(Form):
    kind = SelectField("Kind", choices=[SelectChoice("", "Any")]
                       + [SelectChoice(k, k.capitalize()) for k in sanctions.KINDS],
                       validators=[Optional()], invalid_choice_message="Unknown kind.")
    status = SelectField("Status", choices=[SelectChoice(s, s.capitalize())
                                            for s in sanctions.STATUSES],
                         default="active", invalid_choice_message="Unknown status.")
    name = StringField("Name", filters=[strip],
                       validators=[Optional(), no_binary, Length(max=80)])

    def error_message(self) -> str:
        return " ".join(message for messages in self.errors.values() for message in messages)
