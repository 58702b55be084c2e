"""search: distinct active names with their service counts, kept by triggers (PostgreSQL)

Revision ID: 0005
Revises: 0004

"""
from alembic import op

from portal.models.search import create_name_objects, drop_name_objects

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        create_name_objects(bind)


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        drop_name_objects(bind)
