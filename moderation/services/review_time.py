"""How long a held comment usually waits for a moderator, from recent decisions: what a
reader is told after posting."""

from __future__ import annotations

import statistics
from datetime import datetime, timedelta

from moderation.extensions import db
from moderation.models import Comment, Decision, utcnow

WINDOW = timedelta(days=7)
MIN_DECISIONS = 5  # below this the median says little: the reader gets the plain promise
RECENT_LIMIT = 2000  # the newest decisions are plenty for a median
FALLBACK = "usually within minutes"


def recent_waits(now: datetime | None = None) -> list[float]:
    """Seconds from post to a moderator's first decision, for comments decided in the last
    WINDOW (newest first, at most RECENT_LIMIT)."""
    since = (now or utcnow()) - WINDOW
    first = db.func.min(Decision.created_at)
    rows = db.session.execute(
        db.select(Comment.created_at, first)
        .join(Decision, Decision.comment_id == Comment.id)
        .where(Decision.actor_id.is_not(None), Decision.created_at >= since)
        .group_by(Comment.id, Comment.created_at)
        .order_by(first.desc()).limit(RECENT_LIMIT)
    ).all()
    return [max(0.0, (decided - posted).total_seconds()) for posted, decided in rows]


def typical_wait(now: datetime | None = None) -> str:
    """'usually within 40 minutes' (the median, rounded up), or FALLBACK on little data."""
    waits = recent_waits(now)
    if len(waits) < MIN_DECISIONS:
        return FALLBACK
    return "usually within " + _duration(statistics.median(waits))


def _duration(seconds: float) -> str:
    minutes = -(-seconds // 60)
    if minutes <= 5:
        return "minutes"
    if minutes < 60:
        return f"{int(-(-minutes // 5) * 5)} minutes"
    hours = -(-minutes // 60)
    if hours < 48:
        return f"{int(hours)} hour{'s' if hours != 1 else ''}"
    return f"{int(-(-hours // 24))} days"
