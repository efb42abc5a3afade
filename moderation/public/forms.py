"""The reader's comment form."""

import re

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import EmailField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

# Control characters other than tab and newlines, and U+FFFD (what undecodable bytes become),
# mean binary junk rather than something a person typed.
_JUNK = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]")


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def no_binary(form, field):
    if field.data and _JUNK.search(field.data):
        raise ValidationError(
            "This contains characters that are not text (binary data or control codes). "
            "Please type or paste plain text."
        )


def max_chars(config_key: str, what: str):
    def check(form, field):
        limit = int(current_app.config[config_key])
        if field.data and len(field.data) > limit:
            raise ValidationError(
                f"{what} can be at most {limit:,} characters; yours has {len(field.data):,}."
            )

    return check


def honeypot_empty(form, field):
    if field.data:
        raise ValidationError("This comment could not be accepted.")


class CommentForm(FlaskForm):
    author_name = StringField(
        "Name",
        filters=[_strip],
        validators=[DataRequired("Please give a name to show with your comment."),
                    max_chars("MODERATION_NAME_MAX_CHARS", "Your name"), no_binary],
    )
    author_email = EmailField(
        "Email (optional, never shown)",
        filters=[_strip],
        validators=[Optional(), Length(max=254, message="That email address is too long."),
                    Email("That does not look like an email address.")],
    )
    body = TextAreaField(
        "Comment",
        filters=[_strip],
        validators=[DataRequired("Please write a comment before posting."),
                    max_chars("MODERATION_COMMENT_MAX_CHARS", "A comment"), no_binary],
    )
    # Hidden from people by CSS; bots that fill every field give themselves away.
    website = StringField("Leave this field empty", validators=[honeypot_empty])
