"""search: the index on active services' names also holds what the results page shows (no table lookups)

Revision ID: 0012
Revises: 0011

"""
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

_DROP = 'DROP INDEX IF EXISTS ix_services_active_name'
_PG = ("CREATE INDEX ix_services_active_name ON services (name, id) "
       "INCLUDE (level, health, is_sample, agency_id) WHERE status = 'active'")
_SQLITE = ("CREATE INDEX ix_services_active_name ON services (name, id, level, health, is_sample, agency_id) "
           "WHERE status = 'active'")
_BEFORE = "CREATE INDEX ix_services_active_name ON services (name, id) WHERE status = 'active'"


def upgrade():
    op.execute(_DROP)
    op.execute(_PG if op.get_bind().dialect.name == "postgresql" else _SQLITE)


def downgrade():
    op.execute(_DROP)
    op.execute(_BEFORE)
