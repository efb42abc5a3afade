"""The decision log's filter: read from the query string (a GET form, so no CSRF token)."""


from wtforms import DateField, Form, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, NumberRange, Optional

from moderation import dates
from moderation.services import audit
from moderation.validators import no_binary, strip

ACTION_LABELS = {"approved": "Approved", "rejected": "Rejected", "queued": "Queued",
                 "held": "Held", "removed": "Removed (taken down)", "undo": "Undo"}


class IsoDateField(DateField):
    """A YYYY-MM-DD date, with a message that says how to write one."""

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        try:
            self.data = dates.parse_day(valuelist[0])
        except ValueError:
            self.data = None
            raise ValueError(f"{self.label.text}: write the date as YYYY-MM-DD, "
                             f"for example 2024-05-31 (not {valuelist[0][:40]!r}).") from None


class PageField(IntegerField):
    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError("That page link is broken: start from the first page.") from None


class DecisionFilterForm(Form):
    moderator = StringField(
        "Moderator", filters=[strip],
        validators=[Optional(), no_binary,
                    Length(max=80, message="A username is at most 80 characters.")])
    action = SelectField(
        "Action", choices=[SelectChoice("", "Any")]
        + [SelectChoice(value, ACTION_LABELS[value]) for value in audit.ACTIONS],
        validators=[Optional()],
        invalid_choice_message=f"Unknown action: use one of {', '.join(audit.ACTIONS)}.")
    reason = SelectField(
        "Reason", choices=[SelectChoice("", "Any")]
        + [SelectChoice(value, label) for value, label in audit.LOG_REASONS.items()],
        validators=[Optional()],
        invalid_choice_message=f"Unknown reason: use one of {', '.join(audit.LOG_REASONS)}.")
    article = StringField(
        "Article", filters=[strip],
        validators=[Optional(), no_binary,
                    Length(max=120, message="An article slug is at most 120 characters.")])
    since = IsoDateField("From")
    until = IsoDateField("To")
    before = PageField(validators=[Optional(), NumberRange(
        min=1, max=2**31 - 1, message="That page link is broken: start from the first page.")])

    def error_message(self) -> str:
        return " ".join(message for messages in self.errors.values() for message in messages)

    def to_filter(self) -> audit.DecisionFilter:
        """Raises audit.AuditError for combinations the service refuses."""
        return audit.DecisionFilter(
            moderator=self.moderator.data or None,
            action=self.action.data or None,
            reason=self.reason.data or None,
            article=self.article.data or None,
            since=self.since.data,
            until=self.until.data,
        )
