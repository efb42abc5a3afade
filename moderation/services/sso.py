"""Readers signed in through the news site's own CMS: the CMS signs a short JWT (HS256, the
site's sso_secret) with the reader's id, name and expiry, and the embed passes it along.
Nothing else is trusted: any other algorithm ("none" included), a token signed with another
site's secret, an expired one or one meant to live longer than a day is refused."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import jwt

from moderation.models import Site

ALGORITHM = "HS256"
MAX_LIFETIME_SECONDS = 24 * 3600
MAX_TOKEN_CHARS = 4096


@dataclass(frozen=True)
class Reader:
    """A verified reader of one site."""
    site_id: int
    sub: str
    name: str
    email: str | None

    @property
    def reader_id(self) -> str:
        return f"{self.site_id}:{self.sub}"


class SSOError(ValueError):
    """The token cannot be accepted; `status` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def _header(token: str) -> dict:
    if len(token) > MAX_TOKEN_CHARS:
        raise SSOError("The sign-in token is too long.")
    try:
        return jwt.get_unverified_header(token)
    except jwt.DecodeError:
        raise SSOError("The sign-in token is not a JWT.") from None
    except jwt.InvalidTokenError as error:  # a header PyJWT refuses: a kid not text, a bad crit
        raise SSOError(f"The sign-in token's header is not valid ({error}).") from None


def verify(site: Site, token: str) -> Reader:
    """The reader the site vouches for, or SSOError saying why not."""
    if not site.sso_secret:
        raise SSOError(f"{site.name} does not sign readers in here; post without signing in.")
    header = _header(token)
    if header.get("alg") != ALGORITHM:
        raise SSOError(f"The sign-in token must be signed with {ALGORITHM}, not "
                       f"{header.get('alg')}.")
    try:
        claims = jwt.decode(token, site.sso_secret, algorithms=[ALGORITHM],
                            options={"require": ["sub", "name", "exp"]})
    except jwt.ExpiredSignatureError:
        raise SSOError("Your sign-in has expired. Reload the page to sign in again.",
                       401) from None
    except jwt.InvalidSignatureError:
        raise SSOError(f"The sign-in token was not signed by {site.name}.", 403) from None
    except jwt.MissingRequiredClaimError as missing:
        raise SSOError(f"The sign-in token has no {missing.claim} claim.") from None
    except jwt.InvalidTokenError as error:
        raise SSOError(f"The sign-in token is not valid ({error}).") from None
    return _reader(site, claims)


def _is_number(value) -> bool:
    """A JWT NumericDate: PyJWT accepts "1700000000" (it calls int()), and True is an int."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _reader(site: Site, claims: dict) -> Reader:
    expires, issued = claims["exp"], claims.get("iat", datetime.now(UTC).timestamp())
    if not _is_number(expires) or not _is_number(issued):
        raise SSOError("The sign-in token's exp and iat are numbers of seconds since 1970, "
                       "not text or true/false.")
    if expires - issued > MAX_LIFETIME_SECONDS:
        raise SSOError("The sign-in token lives longer than 24 hours; the site must issue "
                       "shorter ones.")
    sub, name, email = claims["sub"], claims["name"], claims.get("email")
    if not isinstance(sub, str) or not sub.strip() or len(sub) > 200:
        raise SSOError("The sign-in token's sub is the reader's id: 1 to 200 characters.")
    if not isinstance(name, str) or not name.strip() or len(name) > 80:
        raise SSOError("The sign-in token's name is 1 to 80 characters.")
    if email is not None and (not isinstance(email, str) or len(email) > 254):
        raise SSOError("The sign-in token's email is not an email address.")
    return Reader(site.id, sub.strip(), " ".join(name.split()), (email or "").strip() or None)


def issue(secret: str, sub: str, name: str, *, email: str | None = None,
          lifetime_seconds: int = 3600, now: datetime | None = None) -> str:
    """What a CMS does (used by the docs' example and the tests)."""
    issued = int((now or datetime.now(UTC)).timestamp())
    claims = {"sub": sub, "name": name, "iat": issued, "exp": issued + lifetime_seconds}
    if email:
        claims["email"] = email
    return jwt.encode(claims, secret, algorithm=ALGORITHM)
