"""What moderators see: comments waiting for a decision, riskiest first."""

from __future__ import annotations

from sqlalchemy.orm import selectinload

from moderation.extensions import db
from moderation.models import Comment, CommentState, Score

AWAITING = (CommentState.QUEUED, CommentState.HELD)


def queue_order():
    # Held comments (reject band) first, then by risk; unscored ones (no risk yet) after them.
    return (
        db.case((Comment.state == CommentState.HELD, 0), else_=1),
        Comment.risk.desc().nulls_last(),
        Comment.id,
    )


def queue_page(limit: int = 50) -> list[Comment]:
    query = (
        db.select(Comment)
        .where(Comment.state.in_(AWAITING))
        .options(selectinload(Comment.article), selectinload(Comment.current_score))
        .order_by(*queue_order())
        .limit(limit)
    )
    return list(db.session.execute(query).scalars())


def state_counts() -> dict[str, int]:
    rows = db.session.execute(
        db.select(Comment.state, db.func.count()).group_by(Comment.state)
    ).all()
    counts = {state.value: 0 for state in CommentState}
    counts.update({state.value: count for state, count in rows})
    counts["unscored"] = db.session.execute(
        db.select(db.func.count()).select_from(Comment).where(
            Comment.state.in_(AWAITING), Comment.scored_at.is_(None)
        )
    ).scalar_one()
    return counts


def label_scores(score: Score | None) -> list[tuple[str, float]]:
    """A card's bars: the labels the model produced, highest first."""
    if score is None:
        return []
    return sorted(score.labels.items(), key=lambda item: item[1], reverse=True)
