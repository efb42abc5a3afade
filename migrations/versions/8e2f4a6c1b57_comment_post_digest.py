"""comment post digest for the replay check

Revision ID: 8e2f4a6c1b57
Revises: 7d1c2b9e4f30
Create Date: 2026-12-01 05:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '8e2f4a6c1b57'
down_revision = '7d1c2b9e4f30'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('post_digest', sa.String(length=32), nullable=True))
        batch_op.create_index('ix_comments_post_digest_created', ['post_digest', 'created_at'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index('ix_comments_post_digest_created')
        batch_op.drop_column('post_digest')
