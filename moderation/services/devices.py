"""Device cookies (OWASP's answer to lock-out by guessing): a browser that has signed in to an
account gets a signed cookie naming the account and a random device id. Its later sign-in
attempts are throttled on their own count of failures, so a botnet guessing the password
slows down everyone else but never the real person on their usual computer."""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app, g, request
from itsdangerous import BadSignature, URLSafeSerializer

COOKIE = "device"
LIFETIME = timedelta(days=365)


def cookie_name() -> str:
    return ("__Host-" if current_app.config.get("MODERATION_SECURE_COOKIES") else "") + COOKIE


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="moderation.device")


def read(username: str) -> str | None:
    """This browser's device id for `username`, when its cookie is genuine and for them."""
    raw = request.cookies.get(cookie_name())
    if not raw or len(raw) > 300:
        return None
    try:
        value = _serializer().loads(raw)
    except BadSignature:
        return None
    if not isinstance(value, dict) or value.get("u") != username:
        return None
    device = value.get("d")
    return device if isinstance(device, str) and len(device) == 16 else None


def remember(username: str) -> None:
    """After a successful sign-in: this browser is one of `username`'s devices."""
    device = read(username) or secrets.token_hex(8)
    g.device_cookie = _serializer().dumps({"u": username, "d": device})


def set_cookie(response):
    value = g.get("device_cookie")
    if value:
        from moderation.services.sessions import secure

        response.set_cookie(cookie_name(), value, max_age=int(LIFETIME.total_seconds()),
                            path="/", secure=secure(), httponly=True, samesite="Lax")
    return response
