"""reader reports

Revision ID: 344e714e71d1
Revises: c8ce1210ceb3
Create Date: 2026-11-30 22:28:17.336980

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '344e714e71d1'
down_revision = 'c8ce1210ceb3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('comment_id', sa.Integer(), nullable=False),
    sa.Column('reporter_key', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.String(length=20), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('resolution', sa.String(length=16), nullable=True),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], name=op.f('fk_reports_comment_id_comments')),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['users.id'], name=op.f('fk_reports_resolved_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reports')),
    sa.UniqueConstraint('comment_id', 'reporter_key', name=op.f('uq_reports_comment_id'))
    )
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reports_comment_id'), ['comment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reports_reporter_key'), ['reporter_key'], unique=False)

    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('report_count', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('report_weight', sa.Float(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('reports_cleared_at', sa.DateTime(), nullable=True))
        batch_op.create_index('ix_comments_reported', ['report_weight', 'id'], unique=False)



def downgrade():
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index('ix_comments_reported')
        batch_op.drop_column('reports_cleared_at')
        batch_op.drop_column('report_weight')
        batch_op.drop_column('report_count')

    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reports_reporter_key'))
        batch_op.drop_index(batch_op.f('ix_reports_comment_id'))

    op.drop_table('reports')
