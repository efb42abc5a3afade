"""word rules may also match their plurals and endings

Revision ID: b8e4f0a2d6c7
Revises: a7d3e9b1c5f4
Create Date: 2026-12-08 12:30:00

A plain add_column on `word_rules` (with a server default for the rows already there).
"""
from alembic import op
import sqlalchemy as sa


revision = 'b8e4f0a2d6c7'
down_revision = 'a7d3e9b1c5f4'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('word_rules', sa.Column('inflect', sa.Boolean(), nullable=False,
                                          server_default=sa.false()))


def downgrade():
    op.drop_column('word_rules', 'inflect')
