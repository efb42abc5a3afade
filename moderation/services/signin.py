"""Signing staff in: the password check behind per-account throttling, with every attempt in
the security log.

Per-IP limits (MODERATION_LOGIN_LIMIT) stop one machine guessing; many machines guessing one
account are stopped here. After MODERATION_LOGIN_FREE_FAILURES failures in 15 minutes (since
the last success) each further attempt on that username must wait 1, 2, 4 … seconds after the
previous failure, capped at MODERATION_LOGIN_BACKOFF_MAX_SECONDS (5 minutes): a guesser gets a
handful of tries an hour, and the real person is never locked out for longer than the cap. A
throttled attempt checks no password and does not extend the wait."""

from __future__ import annotations

import math
import unicodedata
from datetime import datetime, timedelta

from flask import current_app

from moderation.extensions import db
from moderation.models import User, utcnow
from moderation.services import security_log, users

WINDOW = timedelta(minutes=15)


class Throttled(Exception):
    def __init__(self, seconds: int):
        super().__init__(seconds)
        self.seconds = seconds

    def message(self) -> str:
        return ("Too many failed sign-ins for this account. Try again in "
                f"{self.seconds} second{'s' if self.seconds != 1 else ''}.")


def normalise(username: str) -> str:
    return unicodedata.normalize("NFKC", (username or "").strip())[:80]


def wait_seconds(username: str, now: datetime | None = None) -> int:
    now = now or utcnow()
    failures = security_log.recent_failures(username, WINDOW, now)
    free = int(current_app.config["MODERATION_LOGIN_FREE_FAILURES"])
    if len(failures) < free:
        return 0
    cap = float(current_app.config["MODERATION_LOGIN_BACKOFF_MAX_SECONDS"])
    wait = min(2.0 ** (len(failures) - free), cap)
    remaining = wait - (now - failures[-1]).total_seconds()
    return max(0, math.ceil(remaining))


def sign_in(username: str, password: str) -> User | None:
    """The user for these credentials, or None; raises Throttled or hashing.Busy. Commits the
    log entry for a failure itself (so it counts even if the caller rolls back)."""
    name = normalise(username)
    wait = wait_seconds(name)
    if wait:
        security_log.record("login.throttled", username=name, wait=wait)
        db.session.commit()
        raise Throttled(wait)
    user = users.authenticate(name, password)
    if user is None:
        known = users.find_user(name)
        security_log.record("login.failure", known, username=name,
                            why="inactive" if known is not None and not known.active else None)
        db.session.commit()
        return None
    if not user.has_totp:  # otherwise the two-step code completes the sign-in
        security_log.record("login.success", user)
    return user
