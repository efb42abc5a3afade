"""The one place a comment changes state. Every change is a compare-and-swap on the state
column plus a Decision row, so two deciders racing on one comment cannot both win."""

from __future__ import annotations

from collections.abc import Iterable

from moderation.extensions import db
from moderation.models import Comment, CommentState, Decision, Policy, User, utcnow
from moderation.services import webhooks


class StateConflict(Exception):
    """The comment was not in a state this change may start from (someone got there first)."""

    def __init__(self, comment: Comment, state: CommentState, last: Decision | None):
        self.comment = comment
        self.state = state
        self.last = last
        super().__init__(self.describe())

    def describe(self) -> str:
        if self.last is None:
            return f"This comment is already {self.state.value}."
        when = self.last.created_at.strftime("%Y-%m-%d %H:%M:%S UTC")
        return f"This comment was already {self.state.value} by {self.last.by} at {when}."


def current_state(comment_id: int) -> CommentState:
    return db.session.execute(
        db.select(Comment.state).where(Comment.id == comment_id)
    ).scalar_one()


def last_decision(comment_id: int) -> Decision | None:
    return db.session.execute(
        db.select(Decision).where(Decision.comment_id == comment_id).order_by(Decision.id.desc())
    ).scalars().first()


def change_state(
    comment: Comment,
    to: CommentState,
    *,
    allowed_from: Iterable[CommentState],
    actor: User | None = None,
    policy: Policy | None = None,
    reason: str | None = None,
    note: str | None = None,
    reverts: Decision | None = None,
) -> Decision | None:
    """Move `comment` to `to` if it is in one of `allowed_from`; None when it is already
    there (nothing to record); StateConflict when it is in any other state."""
    allowed = tuple(allowed_from)
    seen = current_state(comment.id)
    if seen not in allowed:
        raise StateConflict(comment, seen, last_decision(comment.id))
    if seen is to:
        return None
    # The WHERE on the state we just read makes the write conditional: if another
    # transaction changed it in between, this matches no row and we report a conflict.
    values: dict = {"state": to}
    if actor is not None:
        # A person's call is what the policy is measured against; an undo clears it.
        values["verdict"] = to.value if to.is_final else None
    result = db.session.execute(
        db.update(Comment)
        .where(Comment.id == comment.id, Comment.state == seen)
        .values(**values)
        .execution_options(synchronize_session="fetch")
    )
    if result.rowcount != 1:
        now_state = current_state(comment.id)
        raise StateConflict(comment, now_state, last_decision(comment.id))
    decision = Decision(
        comment_id=comment.id,
        actor_id=actor.id if actor else None,
        policy_id=policy.id if policy else None,
        from_state=seen,
        to_state=to,
        reason=reason,
        note=note,
        reverts_id=reverts.id if reverts else None,
        created_at=utcnow(),
    )
    db.session.add(decision)
    db.session.flush()
    webhooks.after_change(comment, decision)  # its event, in this same transaction
    return decision
