"""sites, articles from a CMS, signed-in readers, token scopes and the webhook outbox

Revision ID: e2b4c6d8f0a1
Revises: a4c6e8f0b2d1
Create Date: 2026-12-01 10:40:00

`comments` gains its column with a plain ALTER TABLE … ADD COLUMN, never SQLite's batch
mode: a batch recreates the table without the queue-count triggers (see a4c6e8f0b2d1).
"""
from alembic import op
import sqlalchemy as sa


revision = 'e2b4c6d8f0a1'
down_revision = 'a4c6e8f0b2d1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'sites',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('origins', sa.JSON(), nullable=False),
        sa.Column('allow_anonymous', sa.Boolean(), nullable=False),
        sa.Column('auto_register', sa.Boolean(), nullable=False),
        sa.Column('sso_secret', sa.String(length=200), nullable=True),
        sa.Column('theme', sa.String(length=8), nullable=False),
        sa.Column('font', sa.String(length=200), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sites')),
        sa.UniqueConstraint('name', name=op.f('uq_sites_name')),
    )
    op.create_table(
        'outbox_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('dispatched_at', sa.DateTime(), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_events')),
    )
    op.create_index('ix_outbox_events_undispatched', 'outbox_events', ['id'],
                    sqlite_where=sa.text('dispatched_at IS NULL'),
                    postgresql_where=sa.text('dispatched_at IS NULL'))
    # Plain ADD COLUMN on both databases: a SQLite batch would drop and recreate `articles`,
    # which comments reference (refused with foreign keys on). site_id is checked by the
    # service (sites are edited, never deleted), not by a constraint, for the same reason.
    op.add_column('articles', sa.Column('external_key', sa.String(length=200), nullable=True))
    op.add_column('articles', sa.Column('canonical_url', sa.String(length=500), nullable=True))
    op.add_column('articles', sa.Column('site_id', sa.Integer(), nullable=True))
    op.create_index('ix_articles_external_key', 'articles', ['external_key'], unique=True)
    op.create_index(op.f('ix_articles_site_id'), 'articles', ['site_id'])
    op.add_column('api_tokens', sa.Column('scope', sa.String(length=16), nullable=False,
                                          server_default='full'))
    op.add_column('comments', sa.Column('reader_id', sa.String(length=240), nullable=True))
    op.create_index(op.f('ix_comments_reader_id'), 'comments', ['reader_id'])


def downgrade():
    op.drop_index(op.f('ix_comments_reader_id'), table_name='comments')
    op.drop_column('comments', 'reader_id')
    op.drop_column('api_tokens', 'scope')
    op.drop_index(op.f('ix_articles_site_id'), table_name='articles')
    op.drop_index('ix_articles_external_key', table_name='articles')
    for column in ('site_id', 'canonical_url', 'external_key'):
        op.drop_column('articles', column)
    op.drop_index('ix_outbox_events_undispatched', table_name='outbox_events')
    op.drop_table('outbox_events')
    op.drop_table('sites')
