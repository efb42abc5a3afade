"""Accounts: creation, login checks, access rules."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import abort
from flask_login import current_user, login_required
from werkzeug.security import check_password_hash

from moderation.extensions import db
from moderation.models import Role, User, utcnow

MIN_PASSWORD_LENGTH = 10
# Checked when the user does not exist, so a wrong username costs as long as a wrong password
# and response times do not reveal which usernames exist.
_DUMMY_HASH = None


class UserError(ValueError):
    pass


def find_user(username: str) -> User | None:
    return db.session.execute(
        db.select(User).where(User.username == username.strip())
    ).scalar_one_or_none()


def create_user(username: str, password: str, role: Role = Role.MODERATOR) -> User:
    username = username.strip()
    if not username or len(username) > 80:
        raise UserError("A username is 1 to 80 characters.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.")
    if find_user(username) is not None:
        raise UserError(f"There is already a user called {username!r}.")
    user = User(username=username, role=role, active=True)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def _dummy_hash() -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        probe = User(username="", role=Role.MODERATOR)
        probe.set_password("not a real password")
        _DUMMY_HASH = probe.password_hash
    return _DUMMY_HASH


def authenticate(username: str, password: str) -> User | None:
    user = find_user(username)
    if user is None:
        check_password_hash(_dummy_hash(), password)
        return None
    if not user.check_password(password) or not user.active:
        return None
    user.last_login_at = utcnow()
    return user


def safe_next(target: str | None) -> str | None:
    """Only local paths: '/queue' yes; 'https://evil', '//evil', '/\\evil' no."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def moderator_required(view):
    """Any active signed-in moderator or admin."""
    return login_required(view)


def admin_required(view):
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_admin:
            abort(403, "This page is for admins.")
        return view(*args, **kwargs)

    return wrapped
