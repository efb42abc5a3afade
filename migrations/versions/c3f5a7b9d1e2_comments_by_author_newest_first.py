"""an author's comments newest first from one index

Revision ID: c3f5a7b9d1e2
Revises: b8e4f0a2d6c7
Create Date: 2026-12-08 02:00:00

The queue cards ask for each author's latest few comments (a window per author, ordered by
id). The index on author_key alone left PostgreSQL to sort each author's rows; (author_key,
id) has them in order. It replaces the single-column index (its leading column serves the
same lookups).
"""
from alembic import op


revision = 'c3f5a7b9d1e2'
down_revision = 'b8e4f0a2d6c7'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_comments_author_key_id', 'comments', ['author_key', 'id'])
    op.drop_index('ix_comments_author_key', table_name='comments')


def downgrade():
    op.create_index('ix_comments_author_key', 'comments', ['author_key'])
    op.drop_index('ix_comments_author_key_id', table_name='comments')
