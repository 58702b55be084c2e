"""search: distinct active names with their service counts and a text index, kept by triggers

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
    create_name_objects(op.get_bind())


def downgrade():
    drop_name_objects(op.get_bind())
