"""semantic examples, site models, scores keep embeddings and the closest examples

Revision ID: c8ce1210ceb3
Revises: 6348e383f8c8
Create Date: 2026-11-30 21:09:38.750546

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c8ce1210ceb3'
down_revision = '6348e383f8c8'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('semantic_examples',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=32), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('harmful', sa.Boolean(), nullable=False),
    sa.Column('origin', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('removed_at', sa.DateTime(), nullable=True),
    sa.Column('removed_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_semantic_examples_created_by_id_users')),
    sa.ForeignKeyConstraint(['removed_by_id'], ['users.id'], name=op.f('fk_semantic_examples_removed_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_semantic_examples'))
    )
    with op.batch_alter_table('semantic_examples', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_semantic_examples_removed_at'), ['removed_at'], unique=False)

    op.create_table('example_vectors',
    sa.Column('text_sha256', sa.String(length=64), nullable=False),
    sa.Column('encoder', sa.String(length=80), nullable=False),
    sa.Column('vector', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('text_sha256', 'encoder', name=op.f('pk_example_vectors'))
    )
    op.create_table('site_models',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('base_scorer', sa.String(length=80), nullable=False),
    sa.Column('head', sa.JSON(), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('beats_base', sa.Boolean(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('trained_at', sa.DateTime(), nullable=False),
    sa.Column('trained_by_id', sa.Integer(), nullable=True),
    sa.Column('decisions_seen', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('activated_at', sa.DateTime(), nullable=True),
    sa.Column('activated_by_id', sa.Integer(), nullable=True),
    sa.Column('replaced_id', sa.Integer(), nullable=True),
    sa.Column('retired_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['activated_by_id'], ['users.id'], name=op.f('fk_site_models_activated_by_id_users')),
    sa.ForeignKeyConstraint(['replaced_id'], ['site_models.id'], name=op.f('fk_site_models_replaced_id_site_models')),
    sa.ForeignKeyConstraint(['trained_by_id'], ['users.id'], name=op.f('fk_site_models_trained_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_site_models')),
    sa.UniqueConstraint('version', name=op.f('uq_site_models_version'))
    )
    with op.batch_alter_table('site_models', schema=None) as batch_op:
        batch_op.create_index('uq_site_models_one_active', ['active'], unique=True, sqlite_where=sa.text('active'), postgresql_where=sa.text('active'))

    with op.batch_alter_table('scores', schema=None) as batch_op:
        batch_op.add_column(sa.Column('site_reject', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('site_model_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('embedding', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('matches', sa.JSON(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_scores_site_model_id_site_models'), 'site_models', ['site_model_id'], ['id'])



def downgrade():
    with op.batch_alter_table('scores', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_scores_site_model_id_site_models'), type_='foreignkey')
        batch_op.drop_column('matches')
        batch_op.drop_column('embedding')
        batch_op.drop_column('site_model_id')
        batch_op.drop_column('site_reject')

    with op.batch_alter_table('site_models', schema=None) as batch_op:
        batch_op.drop_index('uq_site_models_one_active', sqlite_where=sa.text('active'), postgresql_where=sa.text('active'))

    op.drop_table('site_models')
    op.drop_table('example_vectors')
    with op.batch_alter_table('semantic_examples', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_semantic_examples_removed_at'))

    op.drop_table('semantic_examples')
