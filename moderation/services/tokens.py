"""API tokens: a script's key to the JSON API, acting as the user who made it. Only the
token's sha256 is stored, so a leaked database does not leak working tokens; the token
itself is shown once, when it is made."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from moderation.extensions import db
from moderation.models import ApiToken, User, utcnow

TOKEN_PREFIX = "mod_"
DISPLAY_CHARS = 8
MAX_NAME = 80
# Every request a token makes would otherwise be a write; once a minute says enough.
LAST_USED_GRANULARITY = timedelta(minutes=1)


class TokenError(ValueError):
    pass


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


EXPIRY_DAYS = (7, 30, 90, 365)  # choices offered; None means until revoked
# "full": all its user may do; "publisher": only /api/v1/articles (for a CMS), made by admins.
SCOPES = ("full", "publisher")


def create(user: User, name: str, *, days: int | None = None,
           scope: str = "full") -> tuple[ApiToken, str]:
    """A new token for `user`: the row, and the raw token (the only time it exists). With
    `days` it stops working that many days from now."""
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME:
        raise TokenError(f"A token's name is 1 to {MAX_NAME} characters.")
    if days is not None and not 1 <= days <= 3650:
        raise TokenError("A token lasts 1 to 3,650 days, or until it is revoked.")
    if scope not in SCOPES:
        raise TokenError(f"A token's scope is one of: {', '.join(SCOPES)}.")
    if scope == "publisher" and not user.is_admin:
        raise TokenError("Only admins make publisher tokens: they add and change articles.")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    token = ApiToken(user_id=user.id, name=name, prefix=raw[:DISPLAY_CHARS],
                     token_hash=hash_token(raw), created_at=now, scope=scope,
                     expires_at=now + timedelta(days=days) if days else None)
    db.session.add(token)
    db.session.flush()
    return token, raw


def verify(raw: str | None) -> ApiToken | None:
    """The live token `raw` stands for, its user active; None for anything else. Marks it
    used."""
    if not isinstance(raw, str) or not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    digest = hash_token(raw)
    token = db.session.execute(
        db.select(ApiToken).where(ApiToken.token_hash == digest)
    ).scalar_one_or_none()
    # Looked up by its hash, so lookup timing says nothing about the token itself.
    if token is None or not token.active or not token.user.active:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_GRANULARITY:
        token.last_used_at = now
        db.session.flush()
    return token


def revoke(token_id: int, user: User) -> ApiToken:
    """Revoke one of `user`'s own tokens; revoking twice keeps the first time."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise TokenError("No such token.")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.flush()
    return token


def revoke_all(user: User) -> list[ApiToken]:
    """Revoke every live token of `user` (deactivation, password reset): a token revoked
    stays revoked, so reactivating the account does not bring old scripts back."""
    now = utcnow()
    live = list(db.session.execute(
        db.select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ).scalars())
    for token in live:
        token.revoked_at = now
    db.session.flush()
    return live


def list_for(user: User) -> list[ApiToken]:
    return list(db.session.execute(
        db.select(ApiToken).where(ApiToken.user_id == user.id)
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    ).scalars())


def status(token: ApiToken) -> str:
    """What the tokens page says about a token: active, expires on …, expired or revoked."""
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None:
        if token.expires_at <= utcnow():
            return "expired"
        return f"active, expires on {token.expires_at.day} {token.expires_at:%B %Y}"
    return "active"
