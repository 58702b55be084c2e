"""search: FTS5 on folded and diacritic names, rowids in name-length order (SQLite)

Revision ID: 0002
Revises: 0001

"""
from alembic import op

from portal.models.search import create_search_objects, drop_search_objects

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

# The search objects of revision 0001, for the downgrade.
_OLD_SQLITE = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS service_search USING fts5("
    "name_folded, content='services', content_rowid='id', tokenize='unicode61 remove_diacritics 0')",
    "CREATE TRIGGER IF NOT EXISTS services_search_ai AFTER INSERT ON services WHEN new.status = 'active' BEGIN "
    "INSERT INTO service_search(rowid, name_folded) VALUES (new.id, new.name_folded); END",
    "CREATE TRIGGER IF NOT EXISTS services_search_ad AFTER DELETE ON services WHEN old.status = 'active' BEGIN "
    "INSERT INTO service_search(service_search, rowid, name_folded) VALUES ('delete', old.id, old.name_folded); END",
    "CREATE TRIGGER IF NOT EXISTS services_search_au AFTER UPDATE OF name_folded, status ON services BEGIN "
    "INSERT INTO service_search(service_search, rowid, name_folded) "
    "SELECT 'delete', old.id, old.name_folded WHERE old.status = 'active'; "
    "INSERT INTO service_search(rowid, name_folded) SELECT new.id, new.name_folded WHERE new.status = 'active'; END",
    "INSERT INTO service_search(rowid, name_folded) SELECT id, name_folded FROM services WHERE status = 'active'",
]


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        drop_search_objects(bind)
        create_search_objects(bind)


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        drop_search_objects(bind)
        for statement in _OLD_SQLITE:
            op.execute(statement)
