"""search: FTS5 on folded and diacritic names, rowids in name-length order (SQLite)

Revision ID: 0002
Revises: 0001

"""
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

# The search objects of revision 0001, replaced here and restored by the downgrade.
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
_OLD_SQLITE_DROP = [
    'DROP TRIGGER IF EXISTS services_search_ai',
    'DROP TRIGGER IF EXISTS services_search_ad',
    'DROP TRIGGER IF EXISTS services_search_au',
    'DROP TABLE IF EXISTS service_search',
]

# This revision's: FTS5 over the folded and the lower-case name, rowids in name-length order.
_NEW_SQLITE = [
    'CREATE VIEW IF NOT EXISTS service_search_source AS SELECT (length(services.name) << 32) + services.id AS '
    "search_rowid, name_folded, name_lower FROM services WHERE status = 'active'",
    'CREATE VIRTUAL TABLE IF NOT EXISTS service_search USING fts5(name_folded, name_lower, '
    "content='service_search_source', content_rowid='search_rowid', tokenize='unicode61 remove_diacritics 0', "
    "prefix='2 3')",
    "CREATE TRIGGER IF NOT EXISTS services_search_ai AFTER INSERT ON services WHEN new.status = 'active' BEGIN "
    'INSERT INTO service_search(rowid, name_folded, name_lower) VALUES ((length(new.name) << 32) + new.id, '
    'new.name_folded, new.name_lower); END',
    "CREATE TRIGGER IF NOT EXISTS services_search_ad AFTER DELETE ON services WHEN old.status = 'active' BEGIN "
    "INSERT INTO service_search(service_search, rowid, name_folded, name_lower) VALUES ('delete', "
    '(length(old.name) << 32) + old.id, old.name_folded, old.name_lower); END',
    'CREATE TRIGGER IF NOT EXISTS services_search_au AFTER UPDATE OF name, name_folded, name_lower, status ON '
    'services BEGIN INSERT INTO service_search(service_search, rowid, name_folded, name_lower) SELECT '
    "'delete', (length(old.name) << 32) + old.id, old.name_folded, old.name_lower WHERE old.status = 'active'; "
    'INSERT INTO service_search(rowid, name_folded, name_lower) SELECT (length(new.name) << 32) + new.id, '
    "new.name_folded, new.name_lower WHERE new.status = 'active'; END",
    "INSERT INTO service_search(service_search) VALUES ('rebuild')"]
_NEW_SQLITE_DROP = [
    'DROP TRIGGER IF EXISTS services_search_ai',
    'DROP TRIGGER IF EXISTS services_search_ad',
    'DROP TRIGGER IF EXISTS services_search_au',
    'DROP TABLE IF EXISTS service_search',
    'DROP VIEW IF EXISTS service_search_source',
]


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        for statement in _OLD_SQLITE_DROP + _NEW_SQLITE:
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        for statement in _NEW_SQLITE_DROP + _OLD_SQLITE:
            op.execute(statement)
