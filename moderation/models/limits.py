"""Rate-limit counters shared by every web process (moderation/ratelimit_store)."""

import sqlalchemy as sa

from moderation.extensions import db

rate_limits = sa.Table(
    "rate_limits", db.metadata,
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("count", sa.Integer, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),  # seconds since the epoch
)
