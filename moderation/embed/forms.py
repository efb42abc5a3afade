"""The embed's comment form: the reader's form plus what the iframe must carry back (which
article and site, the signed form token, the reader's sign-in token). No session CSRF token:
a third-party iframe may have no cookies (see services/embed_tokens)."""

from wtforms import HiddenField

from moderation.public.forms import CommentForm

CARRIED = ("key", "origin", "url", "title", "theme", "font", "sso")


class EmbedCommentForm(CommentForm):
    class Meta:
        csrf = False

    form_token = HiddenField()
    key = HiddenField()
    origin = HiddenField()
    url = HiddenField()
    title = HiddenField()
    theme = HiddenField()
    font = HiddenField()
    sso = HiddenField()

    def for_signed_in_reader(self) -> "EmbedCommentForm":
        """The name (and email) come from the site's sign-in token, not from the reader."""
        del self.author_name
        del self.author_email
        return self
