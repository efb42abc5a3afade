"""How often one address may post comments (MODERATION_POST_LIMIT, e.g. "5 per minute;50 per
day"), on the article page's form and the embed's alike: one count for both.

With the default store (RATELIMIT_STORAGE_URI = "database://") every window is counted by one
statement in the post's own transaction: no second connection, no second commit, and a post
that fails to store is not counted. Other stores ("redis://…", "memory://") are counted through
Flask-Limiter's limiter, as before.

Flask-Limiter's decorator did this before, at about a quarter of a post's web CPU: it
evaluated the limits twice per request and counted each window in its own transaction."""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache

from flask import current_app
from limits import RateLimitItem, parse_many

from moderation import ratelimit_store
from moderation.extensions import db, limiter

SCOPE = "comment-post"


@dataclass(frozen=True)
class Verdict:
    """The window closest to its limit after this post was counted."""
    allowed: bool
    limit: int
    remaining: int
    reset_at: float  # seconds since the epoch

    @property
    def retry_after(self) -> int:
        return max(1, int(self.reset_at - time.time() + 0.999))

    def headers(self) -> dict[str, str]:
        """What Flask-Limiter sent, so clients that read them keep working."""
        answer = {"X-RateLimit-Limit": str(self.limit),
                  "X-RateLimit-Remaining": str(self.remaining),
                  "X-RateLimit-Reset": str(int(self.reset_at))}
        if not self.allowed:
            answer["Retry-After"] = str(self.retry_after)
        return answer


@lru_cache(maxsize=16)
def _windows(limits: str) -> tuple[RateLimitItem, ...]:
    return tuple(parse_many(limits))


def count_post(address: str | None) -> Verdict | None:
    """Count one post from `address`; None when rate limiting is off (RATELIMIT_ENABLED).
    Counted in the session's transaction on the database store: the caller commits it with
    the comment, or commits it alone when the post is refused for another reason."""
    config = current_app.config
    if not config.get("RATELIMIT_ENABLED", True):
        return None
    items = _windows(config["MODERATION_POST_LIMIT"])
    identity = address or "unknown"
    if config.get("RATELIMIT_STORAGE_URI") == "database://":
        keys = {item.key_for(SCOPE, identity): item for item in items}
        counted = ratelimit_store.hit_many(
            db.session.connection(), {key: item.get_expiry() for key, item in keys.items()})
        return _closest([
            Verdict(count <= item.amount, item.amount, max(0, item.amount - count), reset_at)
            for key, item in keys.items() for count, reset_at in [counted[key]]])
    # As Flask-Limiter does: the shortest window first, and none counted after one refuses
    # (a reader retrying on 429 must not use up the day); its key prefix kept.
    strategy = limiter.limiter
    names = [config.get("RATELIMIT_KEY_PREFIX") or "", SCOPE, identity]
    verdicts = []
    for item in sorted(items, key=lambda item: item.get_expiry()):
        allowed = strategy.hit(item, *names)
        reset_at, remaining = strategy.get_window_stats(item, *names)
        verdicts.append(Verdict(allowed, item.amount, remaining, reset_at))
        if not allowed:
            break
    return _closest(verdicts)


def _closest(verdicts: list[Verdict]) -> Verdict:
    """Refused when any window is over, reporting the one over that ends last (when posting
    works again); otherwise the window with the fewest posts left."""
    refused = [verdict for verdict in verdicts if not verdict.allowed]
    if refused:
        return max(refused, key=lambda verdict: verdict.reset_at)
    return min(verdicts, key=lambda verdict: verdict.remaining)
