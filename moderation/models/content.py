"""What readers write and what the model says about it."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    and_,
)
from sqlalchemy.orm import Mapped, foreign, mapped_column, relationship

from moderation.extensions import db
from moderation.models.base import Band, CommentState, enum_column, utcnow
from moderation.scoring.base import LABELS

if TYPE_CHECKING:
    from moderation.models.decisions import Decision, Policy
    from moderation.models.learning import SiteModel


class Article(db.Model):
    __tablename__ = "articles"
    __table_args__ = (Index("ix_articles_external_key", "external_key", unique=True),)

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
    # From a CMS: its own key for the article, the page readers see it on, and the site.
    external_key: Mapped[str | None] = mapped_column(String(200))
    canonical_url: Mapped[str | None] = mapped_column(String(500))
    # A site's id, checked by services/articles (no constraint: see migration e2b4c6d8f0a1).
    site_id: Mapped[int | None] = mapped_column(Integer, index=True)

    comments: Mapped[list[Comment]] = relationship(back_populates="article")

    @property
    def paragraphs(self) -> list[str]:
        return [part.strip() for part in self.body.split("\n\n") if part.strip()]


class Comment(db.Model):
    __tablename__ = "comments"
    __table_args__ = (
        # The queue's orders, walked by keyset: (state, risk, id) and (state, id).
        Index("ix_comments_state_risk_id", "state", "risk", "id"),
        Index("ix_comments_state_id", "state", "id"),
        Index("ix_comments_article_state_created", "article_id", "state", "created_at"),
        # What the scoring worker claims, in its order: only unscored rows are in it, so a
        # claim reads its batch and stops however long the backlog (it was a bitmap scan of
        # every unscored row, dead versions too, and a sort: 22 ms a claim at 20k waiting).
        Index("ix_comments_unscored_id", "id", sqlite_where=db.text("scored_at IS NULL"),
              postgresql_where=db.text("scored_at IS NULL")),
        # Replay and suggestions read scored comments by age.
        Index("ix_comments_scored_created", "scored_at", "created_at"),
        # The Reported band, heaviest reports first.
        Index("ix_comments_reported", "report_weight", "id"),
        # The replay check of a new post: one indexed lookup (services/submit).
        Index("ix_comments_post_digest_created", "post_digest", "created_at"),
        # An author's comments in order (queue cards' latest per author, the author page):
        # PostgreSQL sorted each author's rows before; SQLite's rowid gave the order already.
        Index("ix_comments_author_key_id", "author_key", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"))
    author_name: Mapped[str] = mapped_column(String(80))
    author_email: Mapped[str | None] = mapped_column(String(254))  # moderators only
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    ip_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    # Article, address, name and text in one hash: a resent form is found without a scan.
    post_digest: Mapped[str | None] = mapped_column(String(32))
    # Groups one author's comments (their email, else their name and address): see authors.py.
    author_key: Mapped[str | None] = mapped_column(String(64))
    public_token: Mapped[str] = mapped_column(String(64), unique=True)
    state: Mapped[CommentState] = mapped_column(
        enum_column(CommentState, "comment_state"), default=CommentState.PENDING
    )
    # Banding, from the current score under policy_id.
    risk: Mapped[float | None] = mapped_column(Float)
    band: Mapped[Band | None] = mapped_column(enum_column(Band, "band"))
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
    # A moderator's final call ("approved" / "rejected"), kept in step by lifecycle.change_state:
    # what replay and suggestions compare the policy with. Policy decisions leave it empty.
    verdict: Mapped[str | None] = mapped_column(String(16))
    # Readers' reports not settled yet: how many readers, and their weight (see reports.py).
    report_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    report_weight: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    # A moderator kept it up after reports: later reports queue it without hiding it.
    reports_cleared_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Set on comments brought over from another tool's history (decided, never shown as new).
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"), index=True)
    # A reader signed in through the site's CMS (SSO): "<site id>:<the CMS's reader id>".
    # None for anonymous readers. Holds and bans bind to it (services/authors.author_key).
    reader_id: Mapped[str | None] = mapped_column(String(240), index=True)

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
    # From the site model, when one was active: how likely the site's moderators reject it.
    site_reject: Mapped[float | None] = mapped_column(Float)
    site_model_id: Mapped[int | None] = mapped_column(ForeignKey("site_models.id"))
    # Scorers that embed text: the riskiest window's embedding (float16 bytes), and per label
    # the example sentence it came closest to {"threat": {"text": ..., "similarity": ...}}.
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    matches: Mapped[dict | None] = mapped_column(JSON)
    windows: Mapped[int] = mapped_column(Integer, default=1)
    top_window_start: Mapped[int | None] = mapped_column(Integer)
    top_window_end: Mapped[int | None] = mapped_column(Integer)

    comment: Mapped[Comment] = relationship(back_populates="scores")
    site_model: Mapped[SiteModel | None] = relationship()

    @property
    def labels(self) -> dict[str, float]:
        """The labels this model produced; absent ones are left out, not invented."""
        values = {label: getattr(self, label) for label in LABELS}
        return {label: value for label, value in values.items() if value is not None}

    def set_labels(self, labels: dict[str, float]) -> None:
        for label in LABELS:
            setattr(self, label, labels.get(label))
