"""The reader's comment form."""

from flask_wtf import FlaskForm
from wtforms import EmailField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from moderation.validators import max_chars, no_binary, strip


def honeypot_empty(form, field):
    if field.data:
        raise ValidationError("This comment could not be accepted.")


class CommentForm(FlaskForm):
    author_name = StringField(
        "Name",
        filters=[strip],
        validators=[DataRequired("Please give a name to show with your comment."),
                    max_chars("MODERATION_NAME_MAX_CHARS", "Your name"), no_binary],
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
