"""The queue's band counts, kept by database triggers on `comments` (migration a4c6e8f0b2d1).

Triggers append each change to `queue_count_changes`; services/queue_counts folds them into
`queue_counts`. Neither table is written by the ORM."""

import sqlalchemy as sa

from moderation.extensions import db

queue_counts = sa.Table(
    "queue_counts", db.metadata,
    sa.Column("band", sa.String(16), primary_key=True),
    sa.Column("total", sa.BigInteger, nullable=False),
)

queue_count_changes = sa.Table(
    "queue_count_changes", db.metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True,
              autoincrement=True),
    sa.Column("band", sa.String(16), nullable=False),
    sa.Column("delta", sa.Integer, nullable=False),
)
