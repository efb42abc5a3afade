"""One author's page: every comment they wrote, the decisions and reports on them, the sanctions
that touch them, and the other names seen with the same email or from the same address (the
"Skeptic" who came back as "Skeptic2")."""

from __future__ import annotations

from dataclasses import dataclass

from moderation.extensions import db
from moderation.models import AuthorHold, Comment, Decision, Report, Sanction
from moderation.services import sanctions

COMMENT_LIMIT = 200
DECISION_LIMIT = 200


@dataclass(frozen=True)
class OtherName:
    key: str
    name: str
    comments: int
    shared: str  # "email" | "address"


@dataclass(frozen=True)
class Profile:
    key: str
    name: str
    comments: list[Comment]
    total: int
    states: dict[str, int]
    decisions: list[Decision]
    reports: list[Report]
    sanctions: list[Sanction]
    holds: list[AuthorHold]
    others: list[OtherName]
    active: sanctions.Match | None

    @property
    def name_held(self) -> bool:
        """Held by the older, name-only "Hold author" (lifted from the queue's card)."""
        return any(hold.lifted_at is None for hold in self.holds)


def profile(key: str) -> Profile | None:
    comments = list(db.session.execute(
        db.select(Comment).where(Comment.author_key == key).order_by(Comment.id.desc())
        .limit(COMMENT_LIMIT)).scalars())
    if not comments:
        return None
    counts = dict(db.session.execute(
        db.select(Comment.state, db.func.count()).where(Comment.author_key == key)
        .group_by(Comment.state)).all())
    ids = {comment.id for comment in comments}
    emails = {c.author_email.strip().lower() for c in comments if c.author_email}
    addresses = {c.ip_hash for c in comments if c.ip_hash}
    decisions = list(db.session.execute(
        db.select(Decision).where(Decision.comment_id.in_(ids))
        .order_by(Decision.id.desc()).limit(DECISION_LIMIT)).scalars())
    reports = list(db.session.execute(
        db.select(Report).where(Report.comment_id.in_(ids))
        .order_by(Report.id.desc()).limit(DECISION_LIMIT)).scalars())
    touching = sanctions.touching({key}, {sanctions.email_hash(e) for e in emails}, addresses,
                                  ids)
    holds = list(db.session.execute(
        db.select(AuthorHold).where(AuthorHold.author_key == key)
        .order_by(AuthorHold.id.desc())).scalars())
    return Profile(
        key=key, name=comments[0].author_name, comments=comments, total=sum(counts.values()),
        states={state.value: count for state, count in counts.items()},
        decisions=decisions, reports=reports, sanctions=touching, holds=holds,
        others=_other_names(key, emails, addresses),
        active=sanctions.for_comments([comments[0]]).get(comments[0].id))


def _other_names(key: str, emails: set[str], addresses: set[str]) -> list[OtherName]:
    """Other author keys that share an email or an address with this author."""
    out: dict[str, OtherName] = {}
    for shared, condition in (
            ("email", db.func.lower(Comment.author_email).in_(emails) if emails else None),
            ("address", Comment.ip_hash.in_(addresses) if addresses else None)):
        if condition is None:
            continue
        rows = db.session.execute(
            db.select(Comment.author_key, db.func.max(Comment.author_name), db.func.count())
            .where(condition, Comment.author_key != key, Comment.author_key.is_not(None))
            .group_by(Comment.author_key).limit(50)).all()
        for other_key, name, count in rows:
            out.setdefault(other_key, OtherName(other_key, name, count, shared))
    return sorted(out.values(), key=lambda other: -other.comments)
