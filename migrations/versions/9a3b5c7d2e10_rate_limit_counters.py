"""rate-limit counters shared by all web processes

Revision ID: 9a3b5c7d2e10
Revises: 8e2f4a6c1b57
Create Date: 2026-12-01 05:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = '9a3b5c7d2e10'
down_revision = '8e2f4a6c1b57'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('rate_limits',
                    sa.Column('key', sa.String(length=255), nullable=False),
                    sa.Column('count', sa.Integer(), nullable=False),
                    sa.Column('expires_at', sa.Float(), nullable=False),
                    sa.PrimaryKeyConstraint('key', name=op.f('pk_rate_limits')))


def downgrade():
    op.drop_table('rate_limits')
