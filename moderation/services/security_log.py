"""The security log: sign-ins (good and bad), sign-outs, password changes and resets, sessions
and API tokens made or revoked, with who, a hash of the address, and when. Admins read it at
/admin/security; it also drives per-account throttling of failed sign-ins."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app, has_request_context, request

from moderation.extensions import db
from moderation.models import SecurityEvent, User, utcnow

KINDS = {
    "login.success": "Signed in",
    "login.failure": "Failed sign-in",
    "login.password": "Password accepted; two-step code asked",
    "login.throttled": "Sign-in refused: too many failures",
    "logout": "Signed out",
    "session.revoked": "Session ended",
    "session.expired": "Session expired",
    "remember.used": "Signed in again from a remembered device",
    "password.changed": "Changed their password",
    "password.reset": "Password reset by an admin",
    "user.deactivated": "Account deactivated",
    "token.created": "API token made",
    "token.revoked": "API token revoked",
    "totp.enabled": "Two-step sign-in turned on",
    "totp.disabled": "Two-step sign-in turned off",
    "totp.failure": "Wrong two-step code",
    "recovery.used": "Recovery code used",
}
PAGE = 200


def client_ip_hash() -> str | None:
    """The keyed hash of this request's address (None outside a request)."""
    if not has_request_context():
        return None
    from moderation.services.submit import hash_ip

    return hash_ip(request.remote_addr, current_app.config["SECRET_KEY"])


def record(kind: str, user: User | None = None, *, username: str | None = None,
           actor: User | None = None, device: str | None = None, **detail) -> SecurityEvent:
    """Add an event to the session's transaction; the caller commits (or rolls back with it,
    except for failures, which callers commit on their own so they count)."""
    assert kind in KINDS, kind
    event = SecurityEvent(
        kind=kind, user_id=user.id if user else None,
        username=(username if username is not None else user.username if user else "")[:80],
        actor_id=actor.id if actor else None, ip_hash=client_ip_hash(), created_at=utcnow(),
        device=device,
        detail={key: value for key, value in detail.items() if value is not None} or None)
    db.session.add(event)
    return event


def recent_failures(username: str, window: timedelta, now: datetime,
                    device: str | None = None) -> list[datetime]:
    """The times of failed sign-ins for `username` in the window, since the last success of
    the same kind: from this known device when one is given, else from browsers the account
    never used (so the owner signing in on their usual computer does not hand a guesser
    elsewhere a fresh allowance)."""
    since = now - window
    same_kind = (SecurityEvent.device.is_(None) if device is None
                 else SecurityEvent.device == device)
    last_success = db.session.execute(
        db.select(db.func.max(SecurityEvent.created_at)).where(
            SecurityEvent.username == username, SecurityEvent.kind == "login.success",
            same_kind, SecurityEvent.created_at >= since)).scalar_one()
    if last_success is not None:
        since = last_success
    return list(db.session.execute(
        db.select(SecurityEvent.created_at).where(
            SecurityEvent.username == username, SecurityEvent.kind == "login.failure",
            same_kind, SecurityEvent.created_at > since)
        .order_by(SecurityEvent.created_at)).scalars())


def page(kind: str | None = None, username: str | None = None, before: int | None = None,
         *, user_id: int | None = None, limit: int = PAGE) -> list[SecurityEvent]:
    query = db.select(SecurityEvent).order_by(SecurityEvent.id.desc()).limit(limit)
    if user_id is not None:
        query = query.where(SecurityEvent.user_id == user_id)
    if kind:
        query = query.where(SecurityEvent.kind == kind)
    if username:
        query = query.where(SecurityEvent.username == username)
    if before:
        query = query.where(SecurityEvent.id < before)
    return list(db.session.execute(query).scalars())
