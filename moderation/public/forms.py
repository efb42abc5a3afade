"""The reader's comment form."""

from flask_wtf import FlaskForm
from wtforms import EmailField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from moderation.services.reports import MAX_NOTE as REPORT_NOTE_MAX
from moderation.services.reports import REASONS as REPORT_REASONS
from moderation.validators import max_chars, no_binary, no_hidden, normal_name, strip


def honeypot_empty(form, field):
    if field.data:
        raise ValidationError("This comment could not be accepted.")


class CommentForm(FlaskForm):
    class Meta:
        # CSRFProtect checks every POST before the view runs (the template renders the
        # token): a second check here would only sign a fresh token on every post.
        csrf = False

    author_name = StringField(
        "Name",
        filters=[normal_name],
        validators=[DataRequired("Please give a name to show with your comment."),
                    max_chars("MODERATION_NAME_MAX_CHARS", "Your name"), no_binary, no_hidden],
    )
    author_email = EmailField(
        "Email (optional, never shown)",
        filters=[strip],
        validators=[Optional(), Length(max=254, message="That email address is too long."),
                    Email("That does not look like an email address.")],
    )
    body = TextAreaField(
        "Comment",
        filters=[strip],
        validators=[DataRequired("Please write a comment before posting."),
                    max_chars("MODERATION_COMMENT_MAX_CHARS", "A comment"), no_binary],
    )
    # Hidden from people by CSS; bots that fill every field give themselves away.
    website = StringField("Leave this field empty", validators=[honeypot_empty])


class ReportForm(FlaskForm):
    """A reader's report on a published comment."""

    reason = RadioField("What is wrong with it?", validate_choice=False,
                        choices=[SelectChoice(key, label) for key, label in REPORT_REASONS.items()])
    note = TextAreaField("Anything a moderator should know (optional; needed for “something "
                         "else”)", filters=[strip],
                         validators=[Optional(), Length(max=REPORT_NOTE_MAX), no_binary])
