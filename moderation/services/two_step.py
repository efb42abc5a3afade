"""Two-step sign-in for staff: a time-based code from an authenticator app (TOTP, RFC 6238,
30-second steps, 6 digits) or one of ten single-use recovery codes.

A code is good once: the step it belongs to is remembered, so a code seen over a shoulder or
in a proxy log cannot be replayed within its 90 seconds, and the user's row is locked while a
code is checked, so two requests racing with one code cannot both pass. Recovery codes are
random (60 bits) and stored as HMAC-SHA256 under the app's secret key (a copy of the database
alone cannot be searched for them); each one works once."""

from __future__ import annotations

import hashlib
import hmac
import io
import secrets
import time

import pyotp
import segno
from flask import current_app

from moderation.extensions import db
from moderation.models import User, utcnow

ISSUER = "Moderation"
RECOVERY_CODES = 10
WINDOW = 1  # steps either side of now (clock drift of up to 30 s)


class TwoStepError(ValueError):
    pass


def required(user: User) -> bool:
    """Must this user set up two-step sign-in before anything else? Admins, by default
    (MODERATION_ADMIN_TOTP_REQUIRED)."""
    return bool(user.is_admin and current_app.config["MODERATION_ADMIN_TOTP_REQUIRED"])


def new_secret() -> str:
    return pyotp.random_base32()


def setup_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The setup QR code as inline SVG (no image request, no third party)."""
    out = io.BytesIO()
    segno.make(uri, error="m").save(out, kind="svg", scale=5, border=2, xmldecl=False,
                                    svgns=True, dark="#111", light="#fff")
    return out.getvalue().decode()


def _digits(code: str | None) -> str:
    return "".join((code or "").split()).replace("-", "")


def _hash(code: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"recovery:" + _digits(code).lower().encode(),
                    hashlib.sha256).hexdigest()


def _matching_step(secret: str, code: str, after: int | None, now: float | None = None):
    """The time step `code` is valid for (within WINDOW of now, later than `after`)."""
    code = _digits(code)
    if len(code) != 6 or not code.isascii() or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    now = time.time() if now is None else now
    current = int(now // totp.interval)
    for step in range(current - WINDOW, current + WINDOW + 1):
        if after is not None and step <= after:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread


def _recovery_codes() -> tuple[list[str], list[str]]:
    raw = []
    for _ in range(RECOVERY_CODES):
        chars = "".join(secrets.choice(ALPHABET) for _ in range(12))  # ~59 bits
        raw.append(f"{chars[:4]}-{chars[4:8]}-{chars[8:]}")
    return raw, [_hash(code) for code in raw]


def enable(user: User, secret: str, code: str) -> list[str]:
    """Turn two-step sign-in on once the app shows a matching code; returns the recovery
    codes to show once."""
    step = _matching_step(secret, code, None)
    if step is None:
        raise TwoStepError("That code does not match. Check the time on your phone and type "
                           "the 6 digits the app shows now.")
    raw, hashes = _recovery_codes()
    user.totp_secret = secret
    user.totp_enabled_at = utcnow()
    user.totp_last_step = step
    user.recovery_hashes = hashes
    return raw


def disable(user: User) -> None:
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    user.recovery_hashes = None


def new_recovery_codes(user: User) -> list[str]:
    raw, hashes = _recovery_codes()
    user.recovery_hashes = hashes
    return raw


def _lock(user: User) -> None:
    """Hold the user's row until the transaction ends (PostgreSQL: a row lock; SQLite: the
    write lock) and read it afresh, so a racing request sees this one's use of a code."""
    db.session.execute(db.update(User).where(User.id == user.id)
                       .values(totp_last_step=User.totp_last_step)
                       .execution_options(synchronize_session=False))
    db.session.refresh(user)


def verify(user: User, code: str) -> str | None:
    """"totp" or "recovery" when `code` lets `user` in (and uses it up), else None. The
    caller commits (which releases the lock)."""
    if not user.has_totp:
        return None
    _lock(user)
    if not user.has_totp:
        return None
    step = _matching_step(user.totp_secret, code, user.totp_last_step)
    if step is not None:
        user.totp_last_step = step
        return "totp"
    digest = _hash(code)
    remaining = list(user.recovery_hashes or [])
    for stored in remaining:
        if hmac.compare_digest(stored, digest):
            remaining.remove(stored)
            user.recovery_hashes = remaining  # a new list, so the JSON column is written
            return "recovery"
    return None


def recovery_left(user: User) -> int:
    return len(user.recovery_hashes or [])
