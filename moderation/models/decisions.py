"""Policies and the decisions made under them or by moderators."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from moderation.extensions import db
from moderation.models.base import CommentState, enum_column, utcnow
from moderation.models.users import User

if TYPE_CHECKING:
    from moderation.models.content import Comment


class Policy(db.Model):
    """A versioned set of thresholds. Exactly one is active; old versions are kept."""

    __tablename__ = "policies"
    __table_args__ = (
        # At most one active row, enforced by the database itself.
        Index(
            "uq_policies_one_active",
            "active",
            unique=True,
            sqlite_where=db.text("active"),
            postgresql_where=db.text("active"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    # {label: {"enabled": bool, "approve": float, "reject": float}}
    thresholds: Mapped[dict] = mapped_column(JSON)
    reject_action: Mapped[str] = mapped_column(String(16), default="hold")  # hold | reject
    note: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Set when this version re-activates an older one: the version it copies.
    based_on_version: Mapped[int | None] = mapped_column(Integer)

    created_by: Mapped[User | None] = relationship()


class Decision(db.Model):
    """Every state change of a comment: by a policy version or by a moderator."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    policy_id: Mapped[int | None] = mapped_column(ForeignKey("policies.id"))
    from_state: Mapped[CommentState] = mapped_column(
        enum_column(CommentState, "decision_from_state")
    )
    to_state: Mapped[CommentState] = mapped_column(enum_column(CommentState, "decision_to_state"))
    reason: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    # Set on an undo: the decision this one reverted.
    reverts_id: Mapped[int | None] = mapped_column(ForeignKey("decisions.id"), index=True)

    comment: Mapped[Comment] = relationship(back_populates="decisions")
    actor: Mapped[User | None] = relationship()
    policy: Mapped[Policy | None] = relationship()

    @property
    def by(self) -> str:
        if self.actor is not None:
            return self.actor.username
        if self.policy is not None:
            return f"policy v{self.policy.version}"
        return "system"


class AuthorHold(db.Model):
    """While active, every new comment by this author waits for a moderator whatever its score.
    Lifting keeps the row, so the history of holds stays."""

    __tablename__ = "author_holds"

    id: Mapped[int] = mapped_column(primary_key=True)
    author_key: Mapped[str] = mapped_column(String(64), index=True)
    author_name: Mapped[str] = mapped_column(String(80))  # as shown when the hold was placed
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    lifted_at: Mapped[datetime | None] = mapped_column(DateTime)
    lifted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    lifted_by: Mapped[User | None] = relationship(foreign_keys=[lifted_by_id])

    @property
    def active(self) -> bool:
        return self.lifted_at is None


class WordRule(db.Model):
    """A banned word (reject band whatever the score) or a suspect word (queued whatever the
    score). Removing one keeps the row, so the list's history stays."""

    __tablename__ = "word_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    word: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(16))  # banned | suspect
    # Also match the word's plurals and endings ("idiot": "idiots", "idiotic" is not one).
    inflect: Mapped[bool] = mapped_column(Boolean, default=False, server_default=db.false())
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    removed_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    removed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    removed_by: Mapped[User | None] = relationship(foreign_keys=[removed_by_id])

    @property
    def active(self) -> bool:
        return self.removed_at is None


class ImportBatch(db.Model):
    """One CSV of past decisions brought over from another tool. Its comments point here,
    which is what marks them as imported history."""

    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    rows: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    created_by: Mapped[User | None] = relationship()


class AdminEvent(db.Model):
    """What an admin changed outside policies and decisions: users, articles, word lists,
    imports. Append-only."""

    __tablename__ = "admin_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(40))  # e.g. user.deactivate, article.close
    target: Mapped[str] = mapped_column(String(200))  # e.g. "user maria", "article story-1"
    detail: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)

    actor: Mapped[User | None] = relationship()


class Report(db.Model):
    """A reader's flag on a published comment. One per reader per comment; settled when a
    moderator dismisses the reports (comment stays up) or takes the comment down (upheld)."""

    __tablename__ = "reports"
    __table_args__ = (UniqueConstraint("comment_id", "reporter_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id"), index=True)
    # A keyed hash of the reader (their report cookie, else their address): never the raw value.
    reporter_key: Mapped[str] = mapped_column(String(64), index=True)
    reason: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    resolution: Mapped[str | None] = mapped_column(String(16))  # dismissed | upheld
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    resolved_by: Mapped[User | None] = relationship()


class Sanction(db.Model):
    """A hold, suspension or ban on an author, matched on the keys the moderator chose: their
    display-name key, their email (hashed) and/or their address (hashed). Lifting keeps it."""

    __tablename__ = "sanctions"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # hold | suspend | ban
    author_name: Mapped[str] = mapped_column(String(80))  # who it was made against, shown
    name_key: Mapped[str | None] = mapped_column(String(64), index=True)
    email_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    ip_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    lifted_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    lifted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    lifted_by: Mapped[User | None] = relationship(foreign_keys=[lifted_by_id])
