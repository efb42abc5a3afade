"""The embed's comment form works without cookies (a third-party iframe often has none), so
it cannot carry Flask-WTF's session-bound CSRF token. Instead it carries a signed, short-lived
token bound to the article and the site, and the post must come from this service's own
origin (the iframe is same-origin with us). Nothing here grants authority: an anonymous post
needs no cookie, so there is no ambient credential a forged post could ride on; the token
stops cross-site form posts built without loading the form, and replays beyond its life."""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from moderation.services.sites import normal_origin

SALT = "embed-comment-form"
LIFETIME_SECONDS = 2 * 3600


class FormTokenError(ValueError):
    """The form's token is missing, forged, for another article or too old."""


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def form_token(article_id: int, site_id: int) -> str:
    return _serializer().dumps({"a": article_id, "s": site_id})


def check_form_token(token: str | None, article_id: int, site_id: int,
                     max_age: int = LIFETIME_SECONDS) -> None:
    try:
        claims = _serializer().loads(token or "", max_age=max_age)
    except SignatureExpired:
        raise FormTokenError("This form is more than two hours old. Reload the comments and "
                             "try again; nothing was saved.") from None
    except BadSignature:
        raise FormTokenError("This form was not sent from the comments on this page. Reload "
                             "them and try again; nothing was saved.") from None
    if claims != {"a": article_id, "s": site_id}:
        raise FormTokenError("This form belongs to another article. Reload the comments and "
                             "try again; nothing was saved.")


def from_own_origin(origin_header: str | None, sec_fetch_site: str | None,
                    own_origin: str) -> bool:
    """The post came from a page of this service (the embed's iframe): the browser's Origin
    is ours, and Sec-Fetch-Site, where the browser sends it, does not say cross-site."""
    origin = normal_origin(origin_header)
    if origin is None or origin != normal_origin(own_origin):
        return False
    return sec_fetch_site in (None, "", "same-origin", "same-site", "none")
