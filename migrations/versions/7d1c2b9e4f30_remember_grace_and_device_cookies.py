"""remember-me grace after rotation, device id on sign-in attempts

Revision ID: 7d1c2b9e4f30
Revises: 5c8e00af7b78
Create Date: 2026-12-01 04:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '7d1c2b9e4f30'
down_revision = '5c8e00af7b78'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('staff_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('previous_remember_hash', sa.String(length=64),
                                      nullable=True))
        batch_op.add_column(sa.Column('remember_rotated_at', sa.DateTime(), nullable=True))
    with op.batch_alter_table('security_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('device', sa.String(length=32), nullable=True))


def downgrade():
    with op.batch_alter_table('security_events', schema=None) as batch_op:
        batch_op.drop_column('device')
    with op.batch_alter_table('staff_sessions', schema=None) as batch_op:
        batch_op.drop_column('remember_rotated_at')
        batch_op.drop_column('previous_remember_hash')
