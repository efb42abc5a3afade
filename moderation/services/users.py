"""Accounts: creation, login checks, access rules."""

from __future__ import annotations

import re
import secrets
from functools import wraps
from urllib.parse import urlsplit

from flask import abort
from flask_login import current_user, login_required

from moderation import hashing, names
from moderation.extensions import db
from moderation.models import Role, User, utcnow
from moderation.services import admin_log, passwords, security_log

MIN_PASSWORD_LENGTH = passwords.MIN_LENGTH
# Checked when the user does not exist, so a wrong username costs as long as a wrong password
# and response times do not reveal which usernames exist.
_DUMMY_HASH = None


class UserError(ValueError):
    pass


def normalise_username(username: str) -> str:
    """NFKC, trimmed: "ａｄｍｉｎ" and "admin" are one name."""
    return names.normalise(username)


def find_user(username: str) -> User | None:
    return db.session.execute(
        db.select(User).where(User.username == normalise_username(username))
    ).scalar_one_or_none()


def create_user(username: str, password: str, role: Role = Role.MODERATOR) -> User:
    username = normalise_username(username)
    if not username or len(username) > 80:
        raise UserError("A username is 1 to 80 characters.")
    hidden = names.hidden_characters(username)
    if hidden:
        raise UserError(f"A username cannot contain {hidden}.")
    weak = passwords.problem(password, username=username)
    if weak:
        raise UserError(weak)
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
        hashing.check(_dummy_hash(), password)
        return None
    if not user.check_password(password) or not user.active:
        return None
    return user


def mark_signed_in(user: User) -> None:
    user.last_login_at = utcnow()


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


# -- Admin: managing accounts ------------------------------------------------------------

class LastAdminError(UserError):
    """The change would leave no active admin: nobody could manage users any more."""


LAST_ADMIN_MESSAGE = ("{name} is the last active admin: make another user an admin first, "
                      "or nobody could manage users any more. Nothing was changed.")


def generate_password() -> str:
    """A temporary password for an admin to pass on: 20 URL-safe characters (120 bits)."""
    return secrets.token_urlsafe(15)


def list_users() -> list[User]:
    return list(db.session.execute(
        db.select(User).order_by(User.role, db.func.lower(User.username))
    ).scalars())


def get_user(user_id: int) -> User | None:
    return db.session.get(User, user_id)


def create_account(actor: User, username: str, role: Role,
                   password: str | None = None, email: str | None = None
                   ) -> tuple[User, str | None]:
    """A new account and, when no password was given, the generated one (to show once).
    Either way the admin knows the password, so the user must choose their own first."""
    email = clean_email(email)
    generated = generate_password() if not password else None
    user = create_user(username, password or generated, role)
    user.must_change_password = True
    user.email = email
    db.session.flush()
    admin_log.record(actor, "user.create", f"user {user.username}", role=role.value,
                     password="generated" if generated else "chosen by admin",
                     **({"email": email} if email else {}))
    return user, generated


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
MAX_EMAIL = 254


def clean_email(email: str | None) -> str | None:
    """None for no email; UserError for one that cannot be an address."""
    email = (email or "").strip()
    if not email:
        return None
    if len(email) > MAX_EMAIL or not _EMAIL.fullmatch(email):
        raise UserError(f"{email[:80]!r} is not an email address (name@example.org).")
    return email


def set_email(actor: User, user: User, email: str | None) -> bool:
    """False when the email stays as it was."""
    email = clean_email(email)
    if email == user.email:
        return False
    before, user.email = user.email, email
    db.session.flush()
    admin_log.record(actor, "user.update", f"user {user.username}", before={"email": before},
                     after={"email": email})
    return True


def _active_admin_ids() -> list[int]:
    # FOR UPDATE (PostgreSQL; SQLite ignores it and serialises writers instead): a second
    # admin change waits here until the first commits, then sees the admin it removed gone.
    return list(db.session.execute(
        db.select(User.id).where(User.role == Role.ADMIN, User.active.is_(True))
        .order_by(User.id).with_for_update()
    ).scalars())


def _keep_an_admin(user: User) -> None:
    """Before taking `user` out of the active admins."""
    admins = _active_admin_ids()
    if admins == [user.id]:
        raise LastAdminError(LAST_ADMIN_MESSAGE.format(name=user.username))


def _still_an_admin(user: User) -> None:
    """After the update, in the same transaction: on SQLite the check above may have read
    before a concurrent change committed; by now this transaction holds the write lock.
    The caller rolls back on LastAdminError."""
    db.session.flush()
    count = db.session.execute(
        db.select(db.func.count()).select_from(User)
        .where(User.role == Role.ADMIN, User.active.is_(True))
    ).scalar_one()
    if count == 0:
        raise LastAdminError(LAST_ADMIN_MESSAGE.format(name=user.username))


def change_role(actor: User, user: User, role: Role) -> bool:
    """False when the user already has that role."""
    if user.role is role:
        return False
    before = user.role
    demoting_admin = before is Role.ADMIN and user.active
    if demoting_admin:
        _keep_an_admin(user)
    user.role = role
    if demoting_admin:
        _still_an_admin(user)
    db.session.flush()
    admin_log.record(actor, "user.role", f"user {user.username}", before=before.value,
                     after=role.value)
    return True


def set_active(actor: User, user: User, active: bool) -> bool:
    """Deactivate (no sign-in, no API tokens) or reactivate; False when nothing changes."""
    if user.active is active:
        return False
    if not active and user.id == actor.id:
        raise UserError("You cannot deactivate your own account. Nothing was changed.")
    removing_admin = not active and user.role is Role.ADMIN
    if removing_admin:
        _keep_an_admin(user)
    user.active = active
    if removing_admin:
        _still_an_admin(user)
    if not active:
        # Ended for good: reactivating the account later brings none of them back.
        _end_access(user, "account deactivated")
        security_log.record("user.deactivated", user, actor=actor)
    db.session.flush()
    admin_log.record(actor, "user.activate" if active else "user.deactivate",
                     f"user {user.username}")
    return True


def _end_access(user: User, reason: str) -> None:
    """Every signed-in browser and every API token of `user` stops working now."""
    from moderation.services import sessions, tokens

    ended = sessions.end_all(user, reason)
    revoked = tokens.revoke_all(user)
    if ended:
        security_log.record("session.revoked", user, reason=reason, sessions=ended)
    for token in revoked:
        security_log.record("token.revoked", user, token=token.prefix, reason=reason)


def reset_password(actor: User, user: User) -> str:
    """A new temporary password (to show once); the user must replace it at next sign-in."""
    password = generate_password()
    user.set_password(password)
    user.must_change_password = True
    _end_access(user, "password reset by an admin")
    security_log.record("password.reset", user, actor=actor)
    db.session.flush()
    admin_log.record(actor, "user.reset_password", f"user {user.username}")
    return password


def change_own_password(user: User, current: str, new: str, *, keep=None) -> int:
    """A signed-in user's own change; clears a pending forced change and signs out every
    other browser (`keep` is this one's session). Returns how many were signed out."""
    if not user.check_password(current):
        raise UserError("Your current password is not right. Nothing was changed.")
    weak = passwords.problem(new, username=user.username)
    if weak:
        raise UserError(weak + " Nothing was changed.")
    if new == current:
        raise UserError("Choose a password different from your current one.")
    from moderation.services import sessions

    user.set_password(new)
    user.must_change_password = False
    ended = sessions.end_all(user, "password changed", keep=keep)
    security_log.record("password.changed", user, other_sessions_ended=ended)
    db.session.flush()
    return ended
