"""catalogue entries name the agency responsible for them (Decision 846 lists ministries' procedures per ministry)

Revision ID: 0004
Revises: 0003

"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('catalogue_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('agency_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_catalogue_entries_agency_id'), ['agency_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_catalogue_entries_agency_id_agencies'), 'agencies', ['agency_id'], ['id'])


def downgrade():
    with op.batch_alter_table('catalogue_entries', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_catalogue_entries_agency_id_agencies'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_catalogue_entries_agency_id'))
        batch_op.drop_column('agency_id')
