"""The policy editor's form: per label on/off and two thresholds, the meaning of the reject
band, a note, and whether to re-band the waiting queue. Built once from LABELS."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, FloatField, HiddenField, RadioField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from moderation.models import LABELS
from moderation.services.policy import rule_for
from moderation.services.replay import WINDOWS
from moderation.validators import no_binary

WINDOW_CHOICES = [SelectChoice("7d", "Last 7 days"), SelectChoice("30d", "Last 30 days"),
                  SelectChoice("all", "All history")]
assert {choice.value for choice in WINDOW_CHOICES} == set(WINDOWS)


def _threshold(label: str, which: str) -> FloatField:
    name = label.replace("_", " ")
    return FloatField(
        f"{name} {which}",
        validators=[InputRequired(f"Give {name} a {which} threshold between 0 and 1."),
                    NumberRange(0, 1, f"{name}: thresholds are between 0 and 1.")],
    )


class PolicyForm(FlaskForm):
    reject_action = RadioField(
        "Reject band",
        choices=[SelectChoice("hold", "Hold for review (top of the queue)"),
                 SelectChoice("reject", "Reject automatically")],
        default="hold",
    )
    note = TextAreaField("Why this change", validators=[Optional(), Length(max=2000), no_binary])
    reband = BooleanField("Also re-band the comments waiting in the queue now "
                          "(each move is recorded as a decision by the new version)")
    requeue_published = BooleanField(
        "Also send the published comments from the replay window that this version puts in "
        "the reject band back to the queue for review (nothing is removed)")
    window = SelectField("Replay on", choices=WINDOW_CHOICES, default="30d")
    base_version = HiddenField()

    def thresholds(self) -> dict:
        return {
            label: {
                "enabled": bool(self[f"{label}_enabled"].data),
                "approve": self[f"{label}_approve"].data,
                "reject": self[f"{label}_reject"].data,
            }
            for label in LABELS
        }

    def fill(self, thresholds: dict, reject_action: str) -> None:
        for label in LABELS:
            rule = rule_for(thresholds, label) or {}
            self[f"{label}_enabled"].data = bool(rule.get("enabled", True))
            self[f"{label}_approve"].data = rule.get("approve")
            self[f"{label}_reject"].data = rule.get("reject")
        self.reject_action.data = reject_action

    def first_error(self) -> str | None:
        for field in self:
            if field.errors:
                return field.errors[0]
        return None


for _label in LABELS:
    setattr(PolicyForm, f"{_label}_enabled", BooleanField(f"{_label.replace('_', ' ')} on"))
    setattr(PolicyForm, f"{_label}_approve", _threshold(_label, "approve-below"))
    setattr(PolicyForm, f"{_label}_reject", _threshold(_label, "reject-at"))


class ActivateForm(FlaskForm):
    note = TextAreaField("Note", validators=[Optional(), Length(max=2000), no_binary])
    reband = BooleanField("Also re-band the waiting queue")
