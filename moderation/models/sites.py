"""Where comments are embedded: news sites (their allowed origins, their sign-in secret) and
the durable outbox of events that webhooks deliver."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from moderation.extensions import db
from moderation.models.base import utcnow


class Site(db.Model):
    """A news site that embeds comments. Its pages may frame /embed/… and call the public
    API only from `origins` ("https://news.example", "https://*.news.example")."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    origins: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Readers without a signed-in account may post (False: the CMS's SSO token is required).
    allow_anonymous: Mapped[bool] = mapped_column(Boolean, default=True)
    # The first embed load with an unknown article key creates the article from the page.
    auto_register: Mapped[bool] = mapped_column(Boolean, default=False)
    # HS256 secret the CMS signs its readers' tokens with (services/sso); None: no SSO.
    sso_secret: Mapped[str | None] = mapped_column(String(200))
    theme: Mapped[str] = mapped_column(String(8), default="auto")  # auto | light | dark
    font: Mapped[str | None] = mapped_column(String(200))  # a CSS font-family list
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class OutboxEvent(db.Model):
    """Something webhooks tell subscribers about, written in the same transaction as the change
    itself (so an event exists exactly when its change committed). The worker fans each event
    out to the endpoints that subscribe to its kind, then marks it dispatched."""

    __tablename__ = "outbox_events"
    __table_args__ = (
        Index("ix_outbox_events_undispatched", "id",
              sqlite_where=db.text("dispatched_at IS NULL"),
              postgresql_where=db.text("dispatched_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))  # comment.created, article.created, …
    payload: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime)
    error: Mapped[str | None] = mapped_column(Text)
