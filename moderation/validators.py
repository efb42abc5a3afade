"""Field checks shared by every form: text only, lengths counted after trimming."""

import re

from flask import current_app
from wtforms.validators import ValidationError

from moderation import names

# Control characters other than tab and newlines, U+FFFD (what undecodable bytes become) and
# lone surrogates (JSON's "\ud800": no UTF-8 can store one) mean junk, not something typed.
_JUNK = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd\ud800-\udfff]")


def strip(value):
    return value.strip() if isinstance(value, str) else value


def no_binary(form, field):
    if field.data and _JUNK.search(field.data):
        raise ValidationError(
            "This contains characters that are not text (binary data or control codes). "
            "Please type or paste plain text."
        )


def normal_name(value):
    """A name in its one normal form (NFKC, trimmed): "ａｄｍｉｎ" is "admin"."""
    return names.normalise(value) if isinstance(value, str) else value


def no_hidden(form, field):
    """No zero-width or text-direction characters: they make one name pass for another."""
    hidden = names.hidden_characters(field.data)
    if hidden:
        raise ValidationError(f"A name cannot contain {hidden}. Please type it plainly.")


def max_chars(config_key: str, what: str):
    def check(form, field):
        limit = int(current_app.config[config_key])
        if field.data and len(field.data) > limit:
            raise ValidationError(
                f"{what} can be at most {limit:,} characters; yours has {len(field.data):,}."
            )

    return check
