"""The posting limit as HTTP: a refused post is a 429 with Retry-After, and every counted post
carries the X-RateLimit-* headers clients know from Flask-Limiter (services/rate_limits)."""

from __future__ import annotations

from flask import abort, current_app, request
from werkzeug.exceptions import TooManyRequests

from moderation.extensions import db
from moderation.services import rate_limits


class PostingTooOften(TooManyRequests):
    description = ("You have posted too often in a short time. Please wait a minute and try "
                   "again.")

    def __init__(self, verdict: rate_limits.Verdict):
        super().__init__()
        self.verdict = verdict
        self.extra_headers = verdict.headers() if _headers_enabled() else {
            "Retry-After": str(verdict.retry_after)}


def count_or_refuse() -> rate_limits.Verdict | None:
    """Count this post against the poster's address; over the limit, PostingTooOften (and the
    count is not kept: the request's transaction rolls back)."""
    verdict = rate_limits.count_post(request.remote_addr)
    if verdict is not None and not verdict.allowed:
        # Nothing else is written before the count: end the transaction now, so the write
        # lock (SQLite) or the address's row lock (PostgreSQL) is not held while the
        # refusal's page renders.
        db.session.rollback()
        raise PostingTooOften(verdict)
    return verdict


def count_refused_form() -> rate_limits.Verdict | None:
    """A form that failed its checks counts too (a flood of bad forms is still a flood), in
    a transaction of its own: nothing else is stored."""
    verdict = count_or_refuse()
    db.session.commit()
    return verdict


def refuse(status: int, message: str):
    """A post refused after it was counted (a banned author; an article closed meanwhile):
    the count is kept (so refused attempts still use up the allowance) before the answer."""
    db.session.commit()
    abort(status, message)


def with_headers(response, verdict: rate_limits.Verdict | None):
    if verdict is not None and _headers_enabled():
        response.headers.update(verdict.headers())
    return response


def _headers_enabled() -> bool:
    return bool(current_app.config.get("RATELIMIT_HEADERS_ENABLED", True))
