"""Moderators approve or reject; each decision is recorded and can only win once."""

from __future__ import annotations

from moderation.extensions import db
from moderation.models import OPEN_STATES, Comment, CommentState, Decision, User
from moderation.services.lifecycle import StateConflict, change_state

REASONS = {
    "spam": "Spam",
    "harassment": "Harassment",
    "hate": "Hate speech",
    "threat": "Threat",
    "sexual": "Sexual content",
    "profanity": "Profanity",
    "off-topic": "Off-topic",
    "misinformation": "Misinformation",
    "other": "Other",
}
ACTIONS = {"approve": CommentState.APPROVED, "reject": CommentState.REJECTED}

__all__ = ["ACTIONS", "REASONS", "DecisionError", "StateConflict", "decide"]


class DecisionError(ValueError):
    """The decision itself is malformed (unknown action or reason)."""


def decide(
    comment: Comment,
    moderator: User,
    action: str,
    reason: str | None = None,
    note: str | None = None,
) -> Decision:
    if action not in ACTIONS:
        raise DecisionError(f"Unknown action {action!r}: use approve or reject.")
    if reason is not None and reason not in REASONS:
        raise DecisionError(f"Unknown reason {reason!r}.")
    if action == "reject" and reason is None:
        reason = "other"
    return change_state(
        comment,
        ACTIONS[action],
        allowed_from=OPEN_STATES,
        actor=moderator,
        reason=reason,
        note=(note or "").strip() or None,
    )


def comment_for_decision(comment_id: int) -> Comment | None:
    return db.session.get(Comment, comment_id)
