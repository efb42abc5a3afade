"""Scoring workers reporting in."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from moderation.extensions import db
from moderation.models.base import utcnow


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
