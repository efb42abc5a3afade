"""Moderators approve or reject, one comment or many, and can undo for a while. Every
decision is recorded and can only win once (the compare-and-swap in lifecycle.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from moderation.extensions import db
from moderation.models import OPEN_STATES, Comment, CommentState, Decision, User, utcnow
from moderation.services import reports
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
ACTIONS = {"approve": CommentState.APPROVED, "reject": CommentState.REJECTED,
           "remove": CommentState.REJECTED}
# Approve and reject decide what waits; remove takes down what was published.
STARTS_FROM = {"approve": OPEN_STATES, "reject": OPEN_STATES,
               "remove": (CommentState.APPROVED,)}
REMOVE = "remove"
UNDO = "undo"
DEFAULT_UNDO_SECONDS = 600

__all__ = ["ACTIONS", "REASONS", "REMOVE", "UNDO", "BulkResult", "DecisionError",
           "StateConflict", "bulk_decide", "decide", "is_take_down", "may_undo", "undo"]


class DecisionError(ValueError):
    """The decision itself is malformed (unknown action or reason) or not allowed. `field`
    names the form field to fix ("reason" or "note"), so the message can sit beside it."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def check(action: str, reason: str | None, note: str | None) -> tuple[str | None, str | None]:
    if action not in ACTIONS:
        raise DecisionError(f"Unknown action {action!r}: use approve, reject, remove or undo.")
    if reason is not None and reason not in REASONS:
        raise DecisionError(f"Unknown reason {reason!r}: use one of {', '.join(REASONS)}.",
                            field="reason")
    note = (note or "").strip() or None
    verb = "removing" if action == REMOVE else "rejecting"
    if action != "approve" and reason is None:
        raise DecisionError(f"Choose a reason for {verb}.", field="reason")
    if reason == "other" and action != "approve" and note is None:
        raise DecisionError(f"{verb.capitalize()} for “other” needs a note saying why.",
                            field="note")
    return reason, note


class NotPublished(StateConflict):
    """Remove is for published comments; this one is not (anymore)."""

    def describe(self) -> str:
        if self.state.awaits_moderator or self.state is CommentState.PENDING:
            return (f"This comment is {self.state.value}, not published: approve or reject "
                    "it instead of removing it.")
        return super().describe()


def _change(comment: Comment, moderator: User, action: str, reason, note) -> Decision:
    try:
        decision = change_state(comment, ACTIONS[action], allowed_from=STARTS_FROM[action],
                                actor=moderator, reason=reason, note=note)
    except StateConflict as conflict:
        if action == REMOVE:
            raise NotPublished(conflict.comment, conflict.state, conflict.last) from None
        raise
    if decision is not None:
        reports.after_decision(comment, decision, moderator)
    return decision


def is_take_down(decision: Decision) -> bool:
    """A moderator took a published comment down (and nobody undid it yet)."""
    return (decision.from_state is CommentState.APPROVED
            and decision.to_state is CommentState.REJECTED and decision.actor_id is not None)


def decide(comment: Comment, moderator: User, action: str, reason: str | None = None,
           note: str | None = None) -> Decision:
    reason, note = check(action, reason, note)
    return _change(comment, moderator, action, reason, note)


IMPORTED = "imported"  # the reason on decisions brought over by services/importer.py


def undoable(comment: Comment, window_seconds: float) -> Decision | None:
    """The moderator decision on `comment` that an undo would revert, if any is recent."""
    last = db.session.execute(
        db.select(Decision).where(Decision.comment_id == comment.id)
        .order_by(Decision.id.desc()).limit(1)
    ).scalar_one_or_none()
    if last is None or last.actor_id is None or last.reverts_id is not None:
        return None
    if last.reason == IMPORTED:
        return None  # history brought from another tool: undoing would make it live here
    if last.created_at < utcnow() - timedelta(seconds=window_seconds):
        return None
    return last


def may_undo(decision: Decision, user: User) -> bool:
    return decision.actor_id == user.id or user.is_admin


def undo(comment: Comment, moderator: User, *, window_seconds: float = DEFAULT_UNDO_SECONDS
         ) -> Decision:
    """Put the comment back where the last moderator decision found it; audited like any
    decision. Only that moderator or an admin may, and only for `window_seconds`."""
    last = undoable(comment, window_seconds)
    if last is None:
        raise DecisionError("There is no recent moderator decision on this comment to undo "
                            f"(undo works for {window_seconds / 60:g} minutes).")
    if not may_undo(last, moderator):
        raise DecisionError("Only the moderator who decided (or an admin) can undo it.")
    return change_state(comment, last.from_state, allowed_from=[last.to_state], actor=moderator,
                        reason=UNDO, reverts=last)


@dataclass
class BulkResult:
    decided: list[int]
    conflicts: dict[int, str]  # comment id -> who got there first
    missing: list[int]


def bulk_decide(comment_ids: list[int], moderator: User, action: str,
                reason: str | None = None, note: str | None = None) -> BulkResult:
    """One decision, and one audit record, per comment; a comment someone else already
    decided is reported and left alone, the rest go through."""
    reason, note = check(action, reason, note)
    unique_ids = list(dict.fromkeys(comment_ids))
    found = {comment.id: comment for comment in db.session.execute(
        db.select(Comment).where(Comment.id.in_(unique_ids))).scalars()}
    result = BulkResult(decided=[], conflicts={}, missing=[])
    for comment_id in unique_ids:
        comment = found.get(comment_id)
        if comment is None:
            result.missing.append(comment_id)
            continue
        try:
            _change(comment, moderator, action, reason, note)
            result.decided.append(comment_id)
        except StateConflict as conflict:
            result.conflicts[comment_id] = conflict.describe()
    return result


def comment_for_decision(comment_id: int) -> Comment | None:
    return db.session.get(Comment, comment_id)
