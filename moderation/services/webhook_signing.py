"""The signature on every webhook: `X-Moderation-Signature: t=<unix seconds>,v1=<hex>`, where
v1 is HMAC-SHA256(secret, f"{t}.{raw body}"). Receivers check it as docs/webhooks.md shows
(the same rules as `verify` here)."""

from __future__ import annotations

import hashlib
import hmac
import time

TOLERANCE_SECONDS = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def verify(secret: str, body: bytes, signed: str, *, now: float | None = None,
           tolerance: int = TOLERANCE_SECONDS) -> bool:
    """True when `signed` (the header's value) signs `body` with `secret` and is recent."""
    fields = dict(part.split("=", 1) for part in signed.split(",") if "=" in part)
    try:
        timestamp = int(fields.get("t", ""))
    except ValueError:
        return False
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(fields.get("v1", ""), signature(secret, timestamp, body))
