"""Score existing comments again, e.g. after changing the model, so models can be compared."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from moderation.extensions import db
from moderation.models import OPEN_STATES, Article, Comment
from moderation.scoring import Scorer
from moderation.services import policy as policies
from moderation.services.lifecycle import StateConflict, change_state
from moderation.services.pipeline import store_score


@dataclass(frozen=True)
class RescoreFilter:
    article_slug: str | None = None
    states: tuple[str, ...] = ()
    since: datetime | None = None
    unscored_only: bool = False
    limit: int | None = None


@dataclass
class RescoreOutcome:
    scored: int = 0
    rebanded: int = 0


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


def chunks(ids: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def rescore_batch(ids: list[int], scorer: Scorer, *, reband: bool, now: datetime) -> RescoreOutcome:
    """Score `ids` with `scorer`, make that score current, and (optionally) band comments that
    nobody has decided yet under the active policy. Decided comments keep their decision."""
    outcome = RescoreOutcome()
    comments = list(db.session.execute(
        db.select(Comment).where(Comment.id.in_(ids)).order_by(Comment.id)
    ).scalars())
    results = scorer.score([comment.body for comment in comments])
    policy = policies.active_policy()
    identity = scorer.identity
    for comment, scored in zip(comments, results, strict=True):
        store_score(comment.id, identity, scored, now)
        comment.scorer_name, comment.scorer_version = identity.name, identity.version
        comment.scored_at = now
        comment.score_error = None
        comment.next_score_at = None
        comment.risk = policies.risk(scored.labels, policy)
        comment.band = policies.band(scored.labels, policy)
        comment.policy_id = policy.id
        outcome.scored += 1
        if not reband or comment.state not in OPEN_STATES:
            continue
        target = policies.state_for(comment.band, policy, premoderate=comment.article.premoderate)
        if target is not comment.state:
            try:
                change_state(comment, target, allowed_from=OPEN_STATES, policy=policy,
                             reason=f"rescore:{comment.band.value}")
                outcome.rebanded += 1
            except StateConflict:
                pass
    db.session.flush()
    return outcome


def rescore(ids: list[int], scorer: Scorer, *, batch_size: int, reband: bool, now: datetime,
            on_batch: Callable[[int], None] | None = None, commit: bool = True) -> RescoreOutcome:
    total = RescoreOutcome()
    for chunk in chunks(ids, batch_size):
        outcome = rescore_batch(chunk, scorer, reband=reband, now=now)
        if commit:
            db.session.commit()
        total.scored += outcome.scored
        total.rebanded += outcome.rebanded
        if on_batch:
            on_batch(len(chunk))
    return total
