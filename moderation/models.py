"""ORM classes. State lives in enums; the rules that change it live in services/."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
)
from sqlalchemy.orm import Mapped, foreign, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from moderation.extensions import db
from moderation.scoring.base import LABELS

# OWASP ASVS 2.4 asks for scrypt with N >= 2^16; Werkzeug's default is 2^15.
PASSWORD_METHOD = "scrypt:65536:8:1"


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _enum(enum_class: type[enum.Enum], name: str) -> Enum:
    # Store the value, as a plain string column with a CHECK: easy to read in SQL and to migrate.
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=16,
        values_callable=lambda members: [member.value for member in members],
    )


class Role(enum.Enum):
    MODERATOR = "moderator"
    ADMIN = "admin"


class CommentState(enum.Enum):
    PENDING = "pending"  # received, not yet banded
    QUEUED = "queued"  # waiting for a moderator
    HELD = "held"  # reject band, held for review: top of the queue
    APPROVED = "approved"  # published
    REJECTED = "rejected"

    @property
    def awaits_moderator(self) -> bool:
        return self in (CommentState.QUEUED, CommentState.HELD)

    @property
    def is_final(self) -> bool:
        return self in (CommentState.APPROVED, CommentState.REJECTED)


OPEN_STATES = (CommentState.PENDING, CommentState.QUEUED, CommentState.HELD)


class Band(enum.Enum):
    APPROVE = "approve"
    QUEUE = "queue"
    REJECT = "reject"


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(_enum(Role, "role"), default=Role.MODERATOR)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method=PASSWORD_METHOD)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role.value}>"


class Article(db.Model):
    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    section: Mapped[str] = mapped_column(String(80))
    headline: Mapped[str] = mapped_column(String(300))
    byline: Mapped[str] = mapped_column(String(200))
    published_at: Mapped[datetime] = mapped_column(DateTime)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    body: Mapped[str] = mapped_column(Text)
    source_url: Mapped[str | None] = mapped_column(String(500))
    source_name: Mapped[str | None] = mapped_column(String(200))
    comments_open: Mapped[bool] = mapped_column(Boolean, default=True)
    premoderate: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    comments: Mapped[list[Comment]] = relationship(back_populates="article")

    @property
    def paragraphs(self) -> list[str]:
        return [part.strip() for part in self.body.split("\n\n") if part.strip()]


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


class Comment(db.Model):
    __tablename__ = "comments"
    __table_args__ = (
        Index("ix_comments_state_risk", "state", "risk"),
        Index("ix_comments_article_state_created", "article_id", "state", "created_at"),
        # What the scoring worker scans for.
        Index("ix_comments_unscored", "scored_at", "next_score_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"))
    author_name: Mapped[str] = mapped_column(String(80))
    author_email: Mapped[str | None] = mapped_column(String(254))  # moderators only
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    ip_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    public_token: Mapped[str] = mapped_column(String(64), unique=True)
    state: Mapped[CommentState] = mapped_column(
        _enum(CommentState, "comment_state"), default=CommentState.PENDING
    )
    # Banding, from the current score under policy_id.
    risk: Mapped[float | None] = mapped_column(Float)
    band: Mapped[Band | None] = mapped_column(_enum(Band, "band"))
    policy_id: Mapped[int | None] = mapped_column(ForeignKey("policies.id"))
    # Which score row is current: (id, scorer_name, scorer_version) in scores.
    scorer_name: Mapped[str | None] = mapped_column(String(80))
    scorer_version: Mapped[str | None] = mapped_column(String(80))
    scored_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Scoring attempts: a failed one leaves the comment unscored and retried later.
    score_attempts: Mapped[int] = mapped_column(Integer, default=0)
    score_error: Mapped[str | None] = mapped_column(Text)
    next_score_at: Mapped[datetime | None] = mapped_column(DateTime)
    claim_token: Mapped[str | None] = mapped_column(String(64), index=True)
    claim_expires_at: Mapped[datetime | None] = mapped_column(DateTime)

    article: Mapped[Article] = relationship(back_populates="comments")
    policy: Mapped[Policy | None] = relationship()
    scores: Mapped[list[Score]] = relationship(
        back_populates="comment", order_by="Score.scored_at", cascade="all, delete-orphan"
    )
    current_score: Mapped[Score | None] = relationship(
        primaryjoin=lambda: and_(
            foreign(Score.comment_id) == Comment.id,
            Score.scorer_name == Comment.scorer_name,
            Score.scorer_version == Comment.scorer_version,
        ),
        viewonly=True,
        uselist=False,
    )
    decisions: Mapped[list[Decision]] = relationship(
        back_populates="comment", order_by="Decision.id", cascade="all, delete-orphan"
    )

    @property
    def is_scored(self) -> bool:
        return self.scored_at is not None

    @property
    def is_published(self) -> bool:
        return self.state is CommentState.APPROVED


class Score(db.Model):
    """One model's scores for one comment: one row per (comment, model, version)."""

    __tablename__ = "scores"
    __table_args__ = (UniqueConstraint("comment_id", "scorer_name", "scorer_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id"), index=True)
    scorer_name: Mapped[str] = mapped_column(String(80))
    scorer_version: Mapped[str] = mapped_column(String(80))
    scored_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    toxicity: Mapped[float | None] = mapped_column(Float)
    severe_toxicity: Mapped[float | None] = mapped_column(Float)
    obscene: Mapped[float | None] = mapped_column(Float)
    threat: Mapped[float | None] = mapped_column(Float)
    insult: Mapped[float | None] = mapped_column(Float)
    identity_attack: Mapped[float | None] = mapped_column(Float)
    sexual_explicit: Mapped[float | None] = mapped_column(Float)
    windows: Mapped[int] = mapped_column(Integer, default=1)
    top_window_start: Mapped[int | None] = mapped_column(Integer)
    top_window_end: Mapped[int | None] = mapped_column(Integer)

    comment: Mapped[Comment] = relationship(back_populates="scores")

    @property
    def labels(self) -> dict[str, float]:
        """The labels this model produced; absent ones are left out, not invented."""
        values = {label: getattr(self, label) for label in LABELS}
        return {label: value for label, value in values.items() if value is not None}

    def set_labels(self, labels: dict[str, float]) -> None:
        for label in LABELS:
            setattr(self, label, labels.get(label))


class Decision(db.Model):
    """Every state change of a comment: by a policy version or by a moderator."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    policy_id: Mapped[int | None] = mapped_column(ForeignKey("policies.id"))
    from_state: Mapped[CommentState] = mapped_column(_enum(CommentState, "decision_from_state"))
    to_state: Mapped[CommentState] = mapped_column(_enum(CommentState, "decision_to_state"))
    reason: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)

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


class WorkerHeartbeat(db.Model):
    """What each scoring worker last said about itself, so /healthz can tell from any process
    whether a scorer is loaded somewhere."""

    __tablename__ = "worker_heartbeats"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    hostname: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    scorer_name: Mapped[str] = mapped_column(String(80))
    scorer_version: Mapped[str] = mapped_column(String(80))
    scorer_loaded: Mapped[bool] = mapped_column(Boolean, default=False)
    scorer_reason: Mapped[str] = mapped_column(Text, default="")
    last_error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    seen_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    scored_total: Mapped[int] = mapped_column(Integer, default=0)
