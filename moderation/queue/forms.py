from datetime import date, datetime, time
from urllib.parse import parse_qsl, urlsplit

from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import Form, HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, Length, Optional, ValidationError

from moderation import dates
from moderation.models import LABELS
from moderation.services.decide import ACTIONS, REASONS, UNDO
from moderation.services.queue import BANDS, QueueError, QueueFilter
from moderation.services.users import safe_next
from moderation.validators import no_binary

# "… all matching this filter (up to N)": one click never decides more than this.
MATCHING_LIMIT = 200
FILTER_FIELDS = ("order", "band", "article", "label", "label_min", "scorer", "since", "until",
                 "q")
REASON_CHOICES = [SelectChoice(value, label) for value, label in REASONS.items()]


class QueueFilterForm(Form):
    """The GET form at the top of the queue. Values stay strings here; to_filter() turns them
    into a QueueFilter and says clearly what is wrong with the ones it cannot use."""

    order = SelectField("Order", choices=[SelectChoice("risk", "Riskiest first"),
                                          SelectChoice("oldest", "Oldest first"),
                                          SelectChoice("newest", "Newest first")],
                        validate_choice=False)
    band = SelectField("Band", choices=[SelectChoice("", "All waiting")]
                       + [SelectChoice(band, band.capitalize()) for band in BANDS],
                       validate_choice=False)
    article = StringField("Article", validators=[Optional(), Length(max=120)])
    label = SelectField("Label", choices=[SelectChoice("", "Any label")]
                        + [SelectChoice(label, label.replace("_", " ")) for label in LABELS],
                        validate_choice=False)
    label_min = StringField("at least", validators=[Optional(), Length(max=20)])
    scorer = StringField("Scorer", validators=[Optional(), Length(max=80)])
    since = StringField("From", validators=[Optional(), Length(max=10)])
    until = StringField("To", validators=[Optional(), Length(max=10)])
    q = StringField("Search", validators=[Optional(), Length(max=200)])

    def mark_labels(self, produced: tuple[str, ...]) -> None:
        """Only the labels the current scorer produces are offered; one it does not produce
        stays while it is the chosen one (a saved link), saying so."""
        chosen = (self.label.data or "").strip()
        self.label.choices = [SelectChoice("", "Any label")] + [
            SelectChoice(label, label.replace("_", " ")
                         + ("" if label in produced else " (not scored now)"))
            for label in LABELS if label in produced or label == chosen]

    def to_filter(self) -> QueueFilter:
        if not self.validate():
            field, messages = next(iter(self.errors.items()))
            raise QueueError(f"{self[field].label.text}: {messages[0]}")
        since, until = _day(self.since.data, "From"), _day(self.until.data, "To")
        return QueueFilter(
            order=(self.order.data or "risk").strip(),
            band=_text(self.band.data),
            article=_text(self.article.data),
            label=_text(self.label.data),
            label_min=_number(self.label_min.data),
            scorer=_text(self.scorer.data),
            since=datetime.combine(since, time.min) if since else None,
            # "To" a day includes the whole of that day.
            until=datetime.combine(until, time.max) if until else None,
            text=_text(self.q.data),
        )

    def arguments(self) -> dict[str, str]:
        """The filters that are set, as query parameters: for links that keep them."""
        values = {name: (self[name].data or "").strip() for name in FILTER_FIELDS}
        if values["order"] == "risk":
            values["order"] = ""
        return {name: value for name, value in values.items() if value}

    @property
    def active(self) -> bool:
        return bool(set(self.arguments()) - {"order"})


def _text(value: str | None) -> str | None:
    return (value or "").strip() or None


def _day(value: str | None, name: str) -> date | None:
    value = _text(value)
    if value is None:
        return None
    try:
        return dates.parse_day(value)
    except ValueError as error:
        raise QueueError(f"{name}: {value[:40]!r} is not a date we can use: {error}.") from None


def _number(value: str | None) -> float | None:
    value = _text(value)
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        raise QueueError(f"A label's minimum score is a number between 0 and 1, not {value!r}."
                         ) from None
    if number != number:  # NaN
        raise QueueError("A label's minimum score is a number between 0 and 1.")
    return number


def filter_form_from_next(target: str | None) -> QueueFilterForm:
    """The filters of the queue page a POST came from (its `next` field)."""
    query = urlsplit(queue_path(target) or "").query
    return QueueFilterForm(MultiDict(parse_qsl(query, keep_blank_values=True)))


def queue_path(target: str | None) -> str | None:
    """Only the queue page itself, on this site: where a decision may send the moderator back."""
    target = safe_next(target)
    if target is None or urlsplit(target).path != "/queue/":
        return None
    return target


class QueueActionForm(FlaskForm):
    """A POST button on the queue: CSRF plus where to go back to."""

    next = HiddenField()


class DecisionForm(QueueActionForm):
    action = HiddenField(validators=[
        DataRequired("Choose approve, reject or remove."),
        AnyOf([*ACTIONS, UNDO], "Choose approve, reject, remove or undo.")])
    reason = SelectField("Reason", choices=[SelectChoice("", "—")] + REASON_CHOICES,
                         validators=[Optional()])
    note = TextAreaField("Note", validators=[Optional(), Length(max=1000), no_binary])

    @property
    def problem_field(self) -> str | None:
        """The field to fix when it did not validate: its error shows beside it."""
        return next((name for name in ("reason", "note") if self.errors.get(name)), None)


class HoldForm(QueueActionForm):
    reason = StringField("Why", validators=[Optional(), Length(max=500), no_binary])


BULK_COMMANDS = {
    "approve:selected": ("approve", "selected"),
    "reject:selected": ("reject", "selected"),
    "approve:matching": ("approve", "matching"),
    "reject:matching": ("reject", "matching"),
}


class BulkForm(QueueActionForm):
    command = HiddenField(validators=[
        DataRequired("Choose what to do with the selection."),
        AnyOf(list(BULK_COMMANDS), "Choose what to do with the selection.")])
    ids = SelectMultipleField(coerce=int, validate_choice=False)
    reason = SelectField("Reason", choices=[SelectChoice("", "—")] + REASON_CHOICES,
                         validators=[Optional()])
    note = StringField("Note", validators=[Optional(), Length(max=1000), no_binary])

    @property
    def action(self) -> str:
        return BULK_COMMANDS[self.command.data][0]

    @property
    def scope(self) -> str:
        return BULK_COMMANDS[self.command.data][1]

    def validate_ids(self, field):
        if self.command.data in BULK_COMMANDS and self.scope == "selected" and not field.data:
            raise ValidationError("Select at least one comment first (the box on each card).")
        if len(field.data or []) > MATCHING_LIMIT:
            raise ValidationError(f"At most {MATCHING_LIMIT} comments at once.")

