"""sanctions

Revision ID: 58fa0e44a1d0
Revises: 344e714e71d1
Create Date: 2026-11-30 23:26:03.583706

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '58fa0e44a1d0'
down_revision = '344e714e71d1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sanctions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('author_name', sa.String(length=80), nullable=False),
    sa.Column('name_key', sa.String(length=64), nullable=True),
    sa.Column('email_hash', sa.String(length=64), nullable=True),
    sa.Column('ip_hash', sa.String(length=64), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('comment_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('expires_at', sa.DateTime(), nullable=True),
    sa.Column('lifted_at', sa.DateTime(), nullable=True),
    sa.Column('lifted_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], name=op.f('fk_sanctions_comment_id_comments')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_sanctions_created_by_id_users')),
    sa.ForeignKeyConstraint(['lifted_by_id'], ['users.id'], name=op.f('fk_sanctions_lifted_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sanctions'))
    )
    with op.batch_alter_table('sanctions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sanctions_email_hash'), ['email_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_sanctions_ip_hash'), ['ip_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_sanctions_lifted_at'), ['lifted_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_sanctions_name_key'), ['name_key'], unique=False)



def downgrade():
    with op.batch_alter_table('sanctions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sanctions_name_key'))
        batch_op.drop_index(batch_op.f('ix_sanctions_lifted_at'))
        batch_op.drop_index(batch_op.f('ix_sanctions_ip_hash'))
        batch_op.drop_index(batch_op.f('ix_sanctions_email_hash'))

    op.drop_table('sanctions')
