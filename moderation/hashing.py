"""Password hash checks with a cap on how many run at once.

Each scrypt check at N=2^16, r=8 holds 64 MiB while it runs, so a burst of wrong passwords
(300 in parallel) would be a memory weapon. At most MODERATION_PASSWORD_CHECKS run at once per
process; a check that cannot start within MODERATION_PASSWORD_CHECK_WAIT_SECONDS raises Busy,
which sign-in answers with 429 and Retry-After instead of queueing without end."""

from __future__ import annotations

import threading

from flask import current_app, has_app_context
from werkzeug.security import check_password_hash

DEFAULT_SLOTS = 4
_lock = threading.Lock()
_slots: dict[int, threading.BoundedSemaphore] = {}


class Busy(RuntimeError):
    """Too many password checks are running: try again in a moment."""


def _semaphore() -> tuple[threading.BoundedSemaphore, float]:
    size, wait = DEFAULT_SLOTS, 5.0
    if has_app_context():
        size = int(current_app.config.get("MODERATION_PASSWORD_CHECKS", DEFAULT_SLOTS))
        wait = float(current_app.config.get("MODERATION_PASSWORD_CHECK_WAIT_SECONDS", wait))
    with _lock:
        if size not in _slots:
            _slots[size] = threading.BoundedSemaphore(max(1, size))
        return _slots[size], wait


def check(password_hash: str, password: str) -> bool:
    semaphore, wait = _semaphore()
    if not semaphore.acquire(timeout=wait):
        raise Busy("Too many sign-ins are being checked at once: try again in a few seconds.")
    try:
        return check_password_hash(password_hash, password)
    finally:
        semaphore.release()
