"""an optional email on staff accounts

Revision ID: a7d3e9b1c5f4
Revises: f1a3c5e7b9d2
Create Date: 2026-12-08 12:00:00

A plain add_column on `users` (nullable, no default): no batch mode, no table rebuild.
"""
from alembic import op
import sqlalchemy as sa


revision = 'a7d3e9b1c5f4'
down_revision = 'f1a3c5e7b9d2'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('users', sa.Column('email', sa.String(length=254), nullable=True))


def downgrade():
    op.drop_column('users', 'email')
