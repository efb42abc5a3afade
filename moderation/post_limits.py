"""The posting limit as HTTP: a refused post is a 429 with Retry-After, and every counted post
carries the X-RateLimit-* headers clients know from Flask-Limiter (services/rate_limits)."""

from __future__ import annotations

from flask import request
from werkzeug.exceptions import TooManyRequests

from moderation.services import rate_limits


class PostingTooOften(TooManyRequests):
    description = ("You have posted too often in a short time. Please wait a minute and try "
                   "again.")

    def __init__(self, verdict: rate_limits.Verdict):
        super().__init__()
        self.verdict = verdict
        self.extra_headers = verdict.headers()


def count_or_refuse() -> rate_limits.Verdict | None:
    """Count this post against the poster's address; over the limit, PostingTooOften (and the
    count is not kept: the request's transaction rolls back)."""
    verdict = rate_limits.count_post(request.remote_addr)
    if verdict is not None and not verdict.allowed:
        raise PostingTooOften(verdict)
    return verdict


def with_headers(response, verdict: rate_limits.Verdict | None):
    if verdict is not None:
        response.headers.update(verdict.headers())
    return response
