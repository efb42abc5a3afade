"""Admin forms: webhook endpoints."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from moderation.services.webhook_guard import MAX_URL
from moderation.services.webhooks import KINDS, MAX_DESCRIPTION
from moderation.validators import no_binary, strip

EVENT_LABELS = {
    "comment.created": "comment.created: a reader posted (before scoring)",
    "comment.published": "comment.published: approved by the policy or a moderator",
    "comment.held": "comment.held: held for review (reject band, or hidden by reports)",
    "comment.rejected": "comment.rejected: rejected by a moderator or the policy",
    "comment.removed": "comment.removed: a published comment was taken down",
    "article.created": "article.created: a new article arrived from the CMS",
}


class EndpointForm(FlaskForm):
    url = StringField("URL", filters=[strip],
                      validators=[DataRequired("Give the URL that receives the events."),
                                  Length(max=MAX_URL), no_binary])
    description = StringField("Description (optional)", filters=[strip],
                              validators=[Optional(), Length(max=MAX_DESCRIPTION), no_binary])
    events = SelectMultipleField(
        "Events", choices=[SelectChoice(kind, EVENT_LABELS[kind]) for kind in KINDS],
        validators=[DataRequired("Choose at least one event to send.")],
        widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    active = BooleanField("Active: send events to this URL", default=True)


class WebhookActionForm(FlaskForm):
    """Field-less: only the CSRF token, for disable, enable, rotate, test and redeliver."""
