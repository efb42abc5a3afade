"""Events for webhooks, written to the outbox in the same transaction as the change they
describe: an event exists exactly when its change committed, and delivery (by the worker,
services/webhooks) never happens inside a request."""

from __future__ import annotations

from moderation.extensions import db
from moderation.models import Article, Comment, OutboxEvent, utcnow

KINDS = ("comment.created", "comment.published", "comment.held", "comment.rejected",
         "comment.removed", "article.created")


def iso(moment) -> str | None:
    return None if moment is None else moment.isoformat() + "Z"  # naive UTC in the database


def emit(kind: str, data: dict) -> OutboxEvent:
    if kind not in KINDS:
        raise ValueError(f"unknown event kind {kind!r}")
    event = OutboxEvent(kind=kind, payload=data, created_at=utcnow())
    db.session.add(event)
    return event


def article_data(article: Article) -> dict:
    return {"id": article.id, "key": article.external_key, "slug": article.slug,
            "headline": article.headline, "url": article.canonical_url,
            "section": article.section, "site_id": article.site_id,
            "comments_open": article.comments_open, "premoderate": article.premoderate,
            "published_at": iso(article.published_at)}


def comment_data(comment: Comment, article: Article | None = None) -> dict:
    """What a subscriber learns about a comment: never the author's email or address.
    `article` spares a lookup where the caller has it (a post not yet loaded as an object)."""
    article = article or comment.article
    return {"id": comment.id, "state": comment.state.value,
            "article": {"id": article.id, "key": article.external_key, "slug": article.slug,
                        "url": article.canonical_url},
            "author_name": comment.author_name, "reader_id": comment.reader_id,
            "body": comment.body, "created_at": iso(comment.created_at),
            "risk": comment.risk, "band": comment.band.value if comment.band else None}
