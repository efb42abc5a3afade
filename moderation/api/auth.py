"""Who is calling the API: a signed-in browser, by its session (and, for anything that
changes state, the CSRF token in the X-CSRFToken header), or a script, by
`Authorization: Bearer <token>` (no CSRF: a token is not sent by browsers on their own)."""

from __future__ import annotations

from flask import current_app, g, request
from flask_login import current_user

from moderation.api.schema import ApiError
from moderation.extensions import csrf, db
from moderation.models import ApiToken, Role, User
from moderation.services import tokens

STAFF = (Role.MODERATOR, Role.ADMIN)
PUBLISHER = "publisher"
# What a publisher token (a CMS keeping its articles in sync) may reach: nothing else.
PUBLISHER_ENDPOINTS = frozenset({"api.article_list", "api.article_get", "api.article_put"})
UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def _refuse(message: str, challenge: str = "Bearer") -> ApiError:
    return ApiError(401, message, headers={"WWW-Authenticate": challenge})


def _bearer_token(header: str) -> ApiToken:
    scheme, _, raw = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        raise _refuse("Send the API token as 'Authorization: Bearer <token>'.",
                      'Bearer error="invalid_request"')
    token = tokens.verify(raw.strip())
    if token is None:
        raise _refuse("This API token is not valid: it is unknown or revoked, or its account "
                      "is disabled.", 'Bearer error="invalid_token"')
    db.session.commit()  # its last_used_at, before the view's own transaction
    return token


def authenticate() -> None:
    """Every API request, before its view: sets g.api_user or answers 401/403."""
    header = request.headers.get("Authorization")
    scope = None  # a signed-in browser may do all its user may
    if header is not None:
        token = _bearer_token(header)
        user, scope = token.user, token.scope
    elif current_user.is_authenticated and current_user.is_active:
        user = current_user._get_current_object()
        if request.method in UNSAFE_METHODS and current_app.config["WTF_CSRF_ENABLED"]:
            csrf.protect()  # raises CSRFError: the API blueprint answers it as JSON
    else:
        raise _refuse("Sign in, or send an API token as 'Authorization: Bearer <token>'.")
    if user.role not in STAFF:
        raise ApiError(403, "The API is for moderators and admins.")
    if user.must_change_password:
        # An admin reset the password, perhaps because the account leaked: its tokens wait
        # until the owner has signed in and chosen a new one.
        raise ApiError(403, "This account must choose a new password before it can use the "
                            "API: sign in at /login to set one.")
    if scope == PUBLISHER and request.endpoint not in PUBLISHER_ENDPOINTS:
        raise ApiError(403, "This token may only manage articles (/api/v1/articles).")
    g.api_user = user
    g.api_scope = scope


def api_user() -> User:
    return g.api_user
