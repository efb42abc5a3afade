"""the worker's claim walks a partial index of unscored comments in id order

Revision ID: 655509c5d2de
Revises: 9a3b5c7d2e10
Create Date: 2026-12-01 07:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '655509c5d2de'
down_revision = '9a3b5c7d2e10'
branch_labels = None
depends_on = None


def upgrade():
    # (scored_at, next_score_at) held every comment; scored_at lookups have
    # ix_comments_scored_created, and the claim wants unscored ids in order.
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index('ix_comments_unscored')
        batch_op.create_index('ix_comments_unscored_id', ['id'], unique=False,
                              sqlite_where=sa.text('scored_at IS NULL'),
                              postgresql_where=sa.text('scored_at IS NULL'))


def downgrade():
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index('ix_comments_unscored_id', sqlite_where=sa.text('scored_at IS NULL'),
                            postgresql_where=sa.text('scored_at IS NULL'))
        batch_op.create_index('ix_comments_unscored', ['scored_at', 'next_score_at'],
                              unique=False)
