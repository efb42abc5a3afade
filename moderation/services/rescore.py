"""Which comments a rescore covers. The job itself (claim, score, store, commit) is
moderation/rescoring.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from moderation.extensions import db
from moderation.models import Article, Comment


@dataclass(frozen=True)
class RescoreFilter:
    article_slug: str | None = None
    states: tuple[str, ...] = ()
    since: datetime | None = None
    unscored_only: bool = False
    limit: int | None = None


def matching_ids(rescore_filter: RescoreFilter) -> list[int]:
    query = db.select(Comment.id).order_by(Comment.id)
    if rescore_filter.article_slug:
        query = query.join(Article).where(Article.slug == rescore_filter.article_slug)
    if rescore_filter.states:
        query = query.where(Comment.state.in_(rescore_filter.states))
    if rescore_filter.since:
        query = query.where(Comment.created_at >= rescore_filter.since)
    if rescore_filter.unscored_only:
        query = query.where(Comment.scored_at.is_(None))
    if rescore_filter.limit:
        query = query.limit(rescore_filter.limit)
    return list(db.session.execute(query).scalars())
