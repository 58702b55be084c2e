"""rankings: per-agency daily roll-up totals kept by triggers, covering indexes for per-agency service counts

Revision ID: 0003
Revises: 0002

"""
from alembic import op
import sqlalchemy as sa

from portal.models.agency_rollup import BACKFILL, create_rollup_triggers, drop_rollup_triggers


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('agency_daily_rollups',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('checks', sa.Integer(), nullable=False),
    sa.Column('working', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_agency_daily_rollups_agency_id_agencies')),
    sa.PrimaryKeyConstraint('day', 'agency_id', name=op.f('pk_agency_daily_rollups'))
    )
    op.create_index('ix_services_rankings', 'services', ['status', 'agency_id', 'level', 'health'], unique=False)
    op.create_index('ix_services_rankings_since', 'services', ['status', 'created_at', 'agency_id', 'level'],
                    unique=False)
    op.execute(BACKFILL)
    create_rollup_triggers(op.get_bind())


def downgrade():
    drop_rollup_triggers(op.get_bind())
    op.drop_index('ix_services_rankings_since', table_name='services')
    op.drop_index('ix_services_rankings', table_name='services')
    op.drop_table('agency_daily_rollups')
