"""What the offline scorer compares comments with (semantic examples) and what the site
learned from its own decisions (site models)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from moderation.extensions import db
from moderation.models.base import utcnow
from moderation.models.users import User


class SemanticExample(db.Model):
    """An admin's change to the example sentences: an added example, or a shipped one taken
    out (origin "shipped", removed). An added one starts as a proposal: the worker embeds it,
    the admin sees its replay, then puts it in use. Removing keeps the row, so the list's
    history stays."""

    __tablename__ = "semantic_examples"

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    harmful: Mapped[bool] = mapped_column(Boolean)
    origin: Mapped[str] = mapped_column(String(16), default="admin")  # admin | shipped
    status: Mapped[str] = mapped_column(String(16), default="proposed")  # proposed | active
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    removed_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    removed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    removed_by: Mapped[User | None] = relationship(foreign_keys=[removed_by_id])


class ExampleVector(db.Model):
    """An example sentence's embedding, written by a worker that has the encoder loaded, so
    the admin pages can replay example changes without loading a model."""

    __tablename__ = "example_vectors"

    text_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    encoder: Mapped[str] = mapped_column(String(80), primary_key=True)
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class SiteModel(db.Model):
    """A logistic head trained on the site's decisions over one base scorer's outputs (its
    labels and, where it has one, its sentence embedding). Coefficients are plain numbers:
    nothing is unpickled. At most one is active."""

    __tablename__ = "site_models"
    __table_args__ = (
        Index("uq_site_models_one_active", "active", unique=True,
              sqlite_where=db.text("active"), postgresql_where=db.text("active")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    base_scorer: Mapped[str] = mapped_column(String(80))
    # SiteHead.to_json(): the labels and embedding it reads, their mean and scale, the
    # coefficients and the intercept.
    head: Mapped[dict] = mapped_column(JSON)
    # Held-out comparison with the base scorer; see services/site_models.py.
    evidence: Mapped[dict] = mapped_column(JSON)
    beats_base: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(Text)
    trained_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    trained_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: worker
    decisions_seen: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    activated_at: Mapped[datetime | None] = mapped_column(DateTime)
    activated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The model that was active before this one was activated: what rollback returns to.
    replaced_id: Mapped[int | None] = mapped_column(ForeignKey("site_models.id"))
    # Set when rolled back: rollback never returns to it (activating it again clears it).
    retired_at: Mapped[datetime | None] = mapped_column(DateTime)

    trained_by: Mapped[User | None] = relationship(foreign_keys=[trained_by_id])
    activated_by: Mapped[User | None] = relationship(foreign_keys=[activated_by_id])

    @property
    def label(self) -> str:
        return f"site model v{self.version}"
