"""Staff sign-in sessions kept on the server, so that a copied cookie dies with the session.

Each sign-in is a row. The browser's (signed) Flask session holds a random session id whose
hash is the row's key; every request checks that the row exists, belongs to the user, is not
ended, not idle past the limit and not past its absolute lifetime. Signing out, changing or
resetting the password, and deactivation end rows, and an ended row never comes back.

"Remember me" is a second random secret, stored hashed on the same row, sent as the
`remember_token` cookie `<row id>.<secret>`. Using it starts a fresh session id and rotates the
secret, so each value works once (a thief who uses a copy first locks the owner's own copy out,
which the owner notices, and signing out anywhere ends it); it expires after
MODERATION_REMEMBER_DAYS (14 at most) and ends with the session row."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from flask import current_app, g, request, session

from moderation.extensions import db
from moderation.models import StaffSession, User, utcnow

SID_KEY = "sid"
REMEMBER_COOKIE = "remember_token"
MAX_REMEMBER_DAYS = 14
TOUCH_EVERY = timedelta(seconds=60)  # last_seen_at is written at most this often
# After a rotation the previous remember secret still works this long: two tabs reopened at
# once present the same cookie, and the second must not sign the browser out.
ROTATION_GRACE = timedelta(seconds=10)


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def cookie_name() -> str:
    """`__Host-remember_token` over HTTPS: the browser then refuses it from any subdomain."""
    secure = current_app.config.get("MODERATION_SECURE_COOKIES")
    return ("__Host-" if secure else "") + REMEMBER_COOKIE


def may_be_signed_in() -> bool:
    """False when the request carries no trace of a sign-in: no user in the (signed) Flask
    session and no remember cookie. Flask-Login could then only conclude "anonymous", after
    its session-protection bookkeeping (which rewrites a reader's session cookie on every
    post), so the hooks that run on every request ask this first."""
    return "_user_id" in session or bool(request.cookies.get(cookie_name()))


def secure() -> bool:
    config = current_app.config
    return bool(config.get("MODERATION_SECURE_COOKIES") or config.get("SESSION_COOKIE_SECURE")
                or config.get("REMEMBER_COOKIE_SECURE"))


def idle_limit(user: User) -> timedelta:
    key = "MODERATION_IDLE_MINUTES_ADMIN" if user.is_admin else "MODERATION_IDLE_MINUTES"
    return timedelta(minutes=float(current_app.config[key]))


def lifetime() -> timedelta:
    return timedelta(hours=float(current_app.config["MODERATION_SESSION_HOURS"]))


def remember_for() -> timedelta:
    days = min(float(current_app.config["MODERATION_REMEMBER_DAYS"]), MAX_REMEMBER_DAYS)
    return timedelta(days=days)


def _client() -> tuple[str | None, str]:
    from moderation.services.security_log import client_ip_hash

    return client_ip_hash(), (request.headers.get("User-Agent") or "")[:200]


def start(user: User, *, remember: bool = False) -> StaffSession:
    """A new session for `user` in this browser (call after clearing the old Flask session)."""
    now = utcnow()
    raw = secrets.token_urlsafe(32)
    ip_hash, agent = _client()
    row = StaffSession(user_id=user.id, token_hash=_hash(raw), created_at=now, last_seen_at=now,
                       expires_at=now + lifetime(), ip_hash=ip_hash, user_agent=agent)
    if remember:
        secret = secrets.token_urlsafe(32)
        row.remember_hash = _hash(secret)
        row.remember_expires_at = now + remember_for()
    db.session.add(row)
    db.session.flush()
    session[SID_KEY] = raw
    if remember:
        g.remember_cookie = (f"{row.id}.{secret}", row.remember_expires_at)
    return row


def _end(row: StaffSession, reason: str, now: datetime | None = None) -> None:
    if row.revoked_at is None:
        row.revoked_at = now or utcnow()
        row.revoked_reason = reason


def current(user: User) -> StaffSession | None:
    """This browser's live session for `user`, or None (ended, idle, expired or foreign)."""
    raw = session.get(SID_KEY)
    if not isinstance(raw, str) or not raw:
        return None
    row = db.session.execute(
        db.select(StaffSession).where(StaffSession.token_hash == _hash(raw))
    ).scalar_one_or_none()
    if row is None or row.user_id != user.id or row.revoked_at is not None:
        return None
    now = utcnow()
    if row.expires_at <= now or now - row.last_seen_at > idle_limit(user):
        if _remembered(row, now):
            return None  # this session id is over; the remember cookie starts a fresh one
        _end(row, "expired" if row.expires_at <= now else "idle", now)
        db.session.commit()
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
        db.session.commit()
    return row


def _remembered(row: StaffSession, now: datetime) -> bool:
    return (row.remember_hash is not None and row.revoked_at is None
            and row.remember_expires_at is not None and row.remember_expires_at > now)


def _secret_matches(row: StaffSession, secret: str, now: datetime) -> bool:
    digest = _hash(secret)
    if hmac.compare_digest(row.remember_hash, digest):
        return True
    return (row.previous_remember_hash is not None and row.remember_rotated_at is not None
            and now - row.remember_rotated_at <= ROTATION_GRACE
            and hmac.compare_digest(row.previous_remember_hash, digest))


def restore(raw_cookie: str | None) -> tuple[User, StaffSession] | None:
    """Sign a remembered browser back in: a new session id and a rotated remember secret."""
    if not raw_cookie or len(raw_cookie) > 200 or "." not in raw_cookie:
        return None
    row_id, _, secret = raw_cookie.partition(".")
    if not row_id.isascii() or not row_id.isdigit() or len(row_id) > 10:
        return None
    row = db.session.get(StaffSession, int(row_id))
    now = utcnow()
    if row is None or not _remembered(row, now) or not _secret_matches(row, secret, now):
        return None
    user = db.session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    raw = secrets.token_urlsafe(32)
    fresh_secret = secrets.token_urlsafe(32)
    row.token_hash = _hash(raw)
    if hmac.compare_digest(row.remember_hash, _hash(secret)):
        row.previous_remember_hash = row.remember_hash
    row.remember_rotated_at = now
    row.remember_hash = _hash(fresh_secret)
    row.last_seen_at = now
    row.expires_at = min(now + lifetime(), row.remember_expires_at)
    row.ip_hash, row.user_agent = _client()
    session[SID_KEY] = raw
    g.remember_cookie = (f"{row.id}.{fresh_secret}", row.remember_expires_at)
    return user, row


def end_current(reason: str = "signed out") -> StaffSession | None:
    raw = session.get(SID_KEY)
    row = None
    if isinstance(raw, str) and raw:
        row = db.session.execute(
            db.select(StaffSession).where(StaffSession.token_hash == _hash(raw))
        ).scalar_one_or_none()
        if row is not None:
            _end(row, reason)
    session.pop(SID_KEY, None)
    g.remember_cookie = None  # deleted by the response
    return row


def end_all(user: User, reason: str, *, keep: StaffSession | None = None) -> int:
    """End every live session of `user` (all devices), except `keep`. Returns how many."""
    query = db.update(StaffSession).where(
        StaffSession.user_id == user.id, StaffSession.revoked_at.is_(None))
    if keep is not None:
        query = query.where(StaffSession.id != keep.id)
    return db.session.execute(
        query.values(revoked_at=utcnow(), revoked_reason=reason)
        .execution_options(synchronize_session="fetch")).rowcount


def end_one(user: User, session_id: int, reason: str = "signed out from another device") -> bool:
    row = db.session.get(StaffSession, session_id)
    if row is None or row.user_id != user.id or row.revoked_at is not None:
        return False
    _end(row, reason)
    return True


def live(user: User) -> list[StaffSession]:
    """The user's sessions that could still be used: the "Signed-in devices" list."""
    now = utcnow()
    rows = db.session.execute(
        db.select(StaffSession).where(StaffSession.user_id == user.id,
                                      StaffSession.revoked_at.is_(None))
        .order_by(StaffSession.last_seen_at.desc())).scalars()
    idle = idle_limit(user)
    return [row for row in rows
            if (row.expires_at > now and now - row.last_seen_at <= idle)
            or (row.remember_expires_at is not None and row.remember_expires_at > now)]


def set_cookie(response):
    """After each request: write or delete the remember cookie as the request decided."""
    if "remember_cookie" not in g:
        return response
    name = cookie_name()
    if g.remember_cookie is None:
        response.delete_cookie(name, path="/", secure=secure(), httponly=True, samesite="Lax")
    else:
        value, expires = g.remember_cookie
        response.set_cookie(name, value, expires=expires, path="/", secure=secure(),
                            httponly=True, samesite="Lax")
    return response


def describe_agent(agent: str | None) -> str:
    """"Chrome on Linux" from a User-Agent header, for the devices list."""
    agent = agent or ""
    browser = next((name for token, name in (
        ("Edg/", "Edge"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"),
        ("Safari/", "Safari"), ("curl/", "curl"), ("python", "a script"))
        if token.lower() in agent.lower()), "a browser")
    system = next((name for token, name in (
        ("Windows", "Windows"), ("Android", "Android"), ("iPhone", "iPhone"),
        ("Mac OS", "macOS"), ("Linux", "Linux")) if token in agent), "")
    return f"{browser} on {system}" if system else browser
