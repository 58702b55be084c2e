"""figures: where each crawled figure was read (evidence), and the period a stat source reads

Revision ID: 0010
Revises: 0009

"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('stat_sources', schema=None) as batch_op:
        batch_op.add_column(sa.Column('period', sa.String(length=40), nullable=True))
    with op.batch_alter_table('application_stats', schema=None) as batch_op:
        batch_op.add_column(sa.Column('evidence', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('application_stats', schema=None) as batch_op:
        batch_op.drop_column('evidence')
    with op.batch_alter_table('stat_sources', schema=None) as batch_op:
        batch_op.drop_column('period')
