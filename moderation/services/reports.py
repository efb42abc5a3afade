"""Readers report published comments; reports weigh by who made them and by what the model
thought of the comment; enough of them hide it until a moderator looks.

A report's weight is its reporter's track record (reports upheld by moderators count fully,
mostly dismissed ones count for less: (upheld + 1) / (settled + 2)), and a comment's weight
is the sum over its open reports times (1 + its risk): a reported comment the model also
scored risky comes first in the Reported band."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

from flask import current_app
from sqlalchemy.exc import IntegrityError

from moderation.extensions import db
from moderation.models import Comment, CommentState, Decision, Report, User, utcnow
from moderation.services.lifecycle import StateConflict, change_state

REASONS = {
    "spam": "Spam",
    "harassment": "Harassment or bullying",
    "hate": "Hate against a group",
    "threat": "A threat of violence",
    "sexual": "Sexual content",
    "misinformation": "Misinformation",
    "other": "Something else",
}
MAX_NOTE = 500
HIDDEN = "reported"  # the reason on the decision that hides a comment after reports
DISMISSED = "reports dismissed"


class ReportError(ValueError):
    """The report cannot be taken; the message says why, for the reader, and `field` which
    of the reader's fields it is about (None: the comment itself)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class AlreadyReported(ReportError):
    pass


def reporter_key(identity: str, secret: str) -> str:
    """A keyed hash of what identifies the reader: reports never store it raw."""
    return hmac.new(secret.encode(), f"reporter:{identity}".encode(), hashlib.sha256).hexdigest()


def reader_key(remote_addr: str | None) -> str:
    """One report per reader, known by their address (a cookie would be cleared to report
    again), whether they use the article page's form or the JSON API; behind a proxy set
    MODERATION_TRUSTED_PROXIES so the address is the reader's."""
    from moderation.services.submit import hash_ip

    secret = current_app.config["SECRET_KEY"]
    return reporter_key("ip:" + hash_ip(remote_addr, secret), secret)


def rate_limit() -> str:
    return current_app.config["MODERATION_REPORT_LIMIT"]


def hide_at() -> int:
    return int(current_app.config["MODERATION_REPORTS_TO_HIDE"])


def check(reason: str | None, note: str | None) -> tuple[str, str | None]:
    if reason not in REASONS:
        raise ReportError("Choose why you are reporting this comment.", "reason")
    note = " ".join((note or "").split()) or None
    if note and len(note) > MAX_NOTE:
        raise ReportError(f"A note can be at most {MAX_NOTE} characters; yours has {len(note)}.",
                          "note")
    if reason == "other" and note is None:
        raise ReportError("Say in a few words what is wrong with it.", "note")
    return reason, note


def trust(keys: Iterable[str]) -> dict[str, float]:
    """Each reporter's weight from their settled reports: new reporters count 0.5."""
    keys = list(set(keys))
    rows = db.session.execute(
        db.select(Report.reporter_key, db.func.count(Report.id),
                  db.func.sum(db.case((Report.resolution == "upheld", 1), else_=0)))
        .where(Report.reporter_key.in_(keys), Report.resolution.is_not(None))
        .group_by(Report.reporter_key)
    ).all()
    settled = {key: (int(total), int(upheld or 0)) for key, total, upheld in rows}
    return {key: (settled.get(key, (0, 0))[1] + 1) / (settled.get(key, (0, 0))[0] + 2)
            for key in keys}


def open_reports(comment_id: int) -> list[Report]:
    return list(db.session.execute(
        db.select(Report).where(Report.comment_id == comment_id, Report.resolution.is_(None))
        .order_by(Report.id)).scalars())


def all_reports(comment_id: int) -> list[Report]:
    return list(db.session.execute(
        db.select(Report).where(Report.comment_id == comment_id).order_by(Report.id)).scalars())


def reweigh(comment: Comment) -> int:
    """Recount the comment's open reports and their weight; returns the count."""
    found = open_reports(comment.id)
    weights = trust(report.reporter_key for report in found)
    weight = sum(weights[report.reporter_key] for report in found) * (1 + (comment.risk or 0))
    db.session.execute(
        db.update(Comment).where(Comment.id == comment.id)
        .values(report_count=len(found), report_weight=round(weight, 6))
        .execution_options(synchronize_session="fetch"))
    return len(found)


def report(comment: Comment, key: str, reason: str | None, note: str | None = None, *,
           hide_at: int = 3) -> Report:
    """Take a reader's report. At `hide_at` distinct readers the comment is hidden (held for
    review), unless a moderator kept it up after earlier reports."""
    reason, note = check(reason, note)
    if comment.state is not CommentState.APPROVED or comment.import_id is not None:
        raise ReportError("Only published comments can be reported, and this one is not "
                          "published (any more).")
    row = Report(comment_id=comment.id, reporter_key=key, reason=reason, note=note,
                 created_at=utcnow())
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError:
        raise AlreadyReported("You have reported this comment already; a moderator will look "
                              "at it.") from None
    count = reweigh(comment)
    if count >= hide_at and comment.reports_cleared_at is None:
        try:
            change_state(comment, CommentState.HELD, allowed_from=[CommentState.APPROVED],
                         reason=HIDDEN, note=f"hidden after {count} readers reported it")
        except StateConflict:
            pass  # a moderator removed it meanwhile: nothing left to hide
    return row


def settle(comment: Comment, moderator: User, resolution: str) -> int:
    """Close the comment's open reports as dismissed or upheld; returns how many."""
    now = utcnow()
    closed = db.session.execute(
        db.update(Report).where(Report.comment_id == comment.id, Report.resolution.is_(None))
        .values(resolution=resolution, resolved_at=now, resolved_by_id=moderator.id)
        .execution_options(synchronize_session=False)).rowcount
    reweigh(comment)
    return closed


def after_decision(comment: Comment, decision: Decision, moderator: User) -> None:
    """A moderator's call settles the reports: kept up (approved) dismisses them and later
    reports no longer hide it; taken down or rejected upholds them."""
    if decision.to_state is CommentState.APPROVED:
        if settle(comment, moderator, "dismissed"):
            _mark_cleared(comment)
    elif decision.to_state is CommentState.REJECTED:
        settle(comment, moderator, "upheld")


def dismiss(comment: Comment, moderator: User) -> Decision:
    """The comment stays (or goes back) up; its reports are dismissed, on record."""
    if not open_reports(comment.id):
        raise ReportError("This comment has no open reports to dismiss.")
    if comment.state in (CommentState.HELD, CommentState.QUEUED):
        decision = change_state(comment, CommentState.APPROVED,
                                allowed_from=[comment.state], actor=moderator,
                                reason=DISMISSED)
    elif comment.state is CommentState.APPROVED:
        # No state change, but the dismissal is a decision like any other in the log.
        decision = Decision(comment_id=comment.id, actor_id=moderator.id,
                            from_state=comment.state, to_state=comment.state,
                            reason=DISMISSED, created_at=utcnow())
        db.session.add(decision)
        db.session.flush()
    else:
        raise StateConflict(comment, comment.state, None)
    settle(comment, moderator, "dismissed")
    _mark_cleared(comment)
    return decision


def _mark_cleared(comment: Comment) -> None:
    db.session.execute(
        db.update(Comment).where(Comment.id == comment.id)
        .values(reports_cleared_at=utcnow()).execution_options(synchronize_session="fetch"))


def summaries(comment_ids: list[int]) -> dict[int, dict]:
    """For cards: per comment, open reports' count, reasons (most frequent first), latest."""
    if not comment_ids:
        return {}
    rows = db.session.execute(
        db.select(Report.comment_id, Report.reason, db.func.count(Report.id),
                  db.func.max(Report.created_at))
        .where(Report.comment_id.in_(comment_ids), Report.resolution.is_(None))
        .group_by(Report.comment_id, Report.reason)
    ).all()
    found: dict[int, dict] = {}
    for comment_id, reason, count, latest in rows:
        entry = found.setdefault(comment_id, {"count": 0, "reasons": {}, "latest": latest})
        entry["count"] += count
        entry["reasons"][reason] = count
        entry["latest"] = max(entry["latest"], latest)
    for entry in found.values():
        entry["reasons"] = dict(sorted(entry["reasons"].items(), key=lambda kv: -kv[1]))
    return found
