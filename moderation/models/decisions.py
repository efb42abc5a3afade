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
