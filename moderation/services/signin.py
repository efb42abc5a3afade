"""Signing staff in: the password check behind per-account throttling, with every attempt in
the security log.

Per-IP limits (MODERATION_LOGIN_LIMIT) stop one machine guessing; many machines guessing one
account are stopped here. After MODERATION_LOGIN_FREE_FAILURES failures in 15 minutes (since
the last success) each further attempt on that username must wait 1, 2, 4 … seconds after the
previous failure, capped at MODERATION_LOGIN_BACKOFF_MAX_SECONDS (5 minutes): a guesser gets a
handful of tries an hour. A throttled attempt checks no password and does not extend the wait.

Attempts from a browser that signed in to the account before (services/devices) count on their
own: guessing from elsewhere never locks the real person out of their usual computer.

An attempt is written down as a failure *before* the password is checked (and turned into a
success after): parallel guesses see each other at once, not a scrypt check later."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from flask import current_app

from moderation import hashing
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
    return users.normalise_username(username)[:80]


def wait_seconds(username: str, now: datetime | None = None, device: str | None = None) -> int:
    now = now or utcnow()
    failures = security_log.recent_failures(username, WINDOW, now, device)
    free = int(current_app.config["MODERATION_LOGIN_FREE_FAILURES"])
    if len(failures) < free:
        return 0
    cap = float(current_app.config["MODERATION_LOGIN_BACKOFF_MAX_SECONDS"])
    first = float(current_app.config["MODERATION_LOGIN_BACKOFF_FIRST_SECONDS"])
    wait = min(first * 2.0 ** (len(failures) - free), cap)
    remaining = wait - (now - failures[-1]).total_seconds()
    return max(0, math.ceil(remaining))


def check_wait(username: str, user: User | None = None, device: str | None = None) -> None:
    """Raise Throttled (and log it) when `username` must wait before another attempt."""
    wait = wait_seconds(username, device=device)
    if wait:
        security_log.record("login.throttled", user, username=username, wait=wait,
                            device=device)
        db.session.commit()
        raise Throttled(wait)


def sign_in(username: str, password: str, *, device: str | None = None) -> User | None:
    """The user for these credentials, or None; raises Throttled or hashing.Busy. The log
    entry is committed before the password is checked, so it counts even under a burst."""
    name = normalise(username)
    check_wait(name, device=device)
    known = users.find_user(name)
    attempt = security_log.record("login.failure", known, username=name, device=device,
                                  why="inactive" if known is not None and not known.active
                                  else None)
    db.session.commit()
    try:
        user = users.authenticate(name, password)
    except hashing.Busy:  # not an attempt after all: nothing was checked
        db.session.delete(attempt)
        db.session.commit()
        raise
    if user is None:
        return None
    # Two-step accounts are not signed in yet: the code completes it (services/two_step).
    attempt.kind = "login.password" if user.has_totp else "login.success"
    attempt.detail = None
    return user


def code_failed(user: User, device: str | None, tries: int) -> None:
    security_log.record("totp.failure", user, tries=tries, device=device)
    security_log.record("login.failure", user, why="wrong two-step code", device=device)
    db.session.commit()
