"""seed the default policy (version 1)

Workers started on a fresh database would otherwise race to create it.

Revision ID: b7c1d2e3f4a5
Revises: da40ac505a42
Create Date: 2026-11-26 02:00:00

"""
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = 'b7c1d2e3f4a5'
down_revision = 'da40ac505a42'
branch_labels = None
depends_on = None

# Frozen copy of the defaults at the time of this migration (approve below, reject at/above).
THRESHOLDS = {
    "toxicity": (0.30, 0.90),
    "severe_toxicity": (0.10, 0.50),
    "obscene": (0.30, 0.90),
    "threat": (0.10, 0.60),
    "insult": (0.30, 0.90),
    "identity_attack": (0.15, 0.70),
    "sexual_explicit": (0.30, 0.90),
}


def upgrade():
    policies = sa.table(
        'policies',
        sa.column('version', sa.Integer), sa.column('thresholds', sa.JSON),
        sa.column('reject_action', sa.String), sa.column('note', sa.Text),
        sa.column('active', sa.Boolean), sa.column('created_at', sa.DateTime),
    )
    connection = op.get_bind()
    if connection.execute(sa.text("SELECT count(*) FROM policies")).scalar():
        return
    op.bulk_insert(policies, [{
        'version': 1,
        'thresholds': {label: {"enabled": True, "approve": approve, "reject": reject}
                       for label, (approve, reject) in THRESHOLDS.items()},
        'reject_action': 'hold',
        'note': 'Default policy',
        'active': True,
        'created_at': datetime.now(timezone.utc).replace(tzinfo=None),
    }])


def downgrade():
    op.execute("DELETE FROM policies WHERE version = 1 AND note = 'Default policy'")
