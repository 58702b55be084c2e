"""search: distinct active names with their service counts and a text index, kept by triggers

Revision ID: 0005
Revises: 0004

"""
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


# The names table, its text index and triggers, filled from services; frozen here.
_PG_CREATE = [
    'CREATE TABLE IF NOT EXISTS service_names (name varchar(500) PRIMARY KEY, name_lower varchar(500) NOT '
    'NULL, name_folded varchar(500) NOT NULL, active integer NOT NULL DEFAULT 0) WITH (fillfactor = 80)',
    'CREATE INDEX IF NOT EXISTS ix_service_names_name_folded_tsv ON service_names USING gin '
    "(to_tsvector('simple', name_folded))",
    "CREATE INDEX IF NOT EXISTS ix_services_active_name ON services (name, id) WHERE status = 'active'",
    'CREATE OR REPLACE FUNCTION service_names_count() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF TG_OP = '
    "'INSERT' THEN INSERT INTO service_names AS n (name, name_lower, name_folded, active) SELECT name, "
    "max(name_lower), max(name_folded), count(*) FROM new_rows WHERE status = 'active' GROUP BY name ORDER BY "
    'name ON CONFLICT (name) DO UPDATE SET active = n.active + excluded.active, name_lower = '
    'excluded.name_lower, name_folded = excluded.name_folded; ELSE UPDATE service_names AS n SET active = '
    "n.active - gone.services FROM (SELECT name, count(*) AS services FROM old_rows WHERE status = 'active' "
    'GROUP BY name) gone WHERE n.name = gone.name; END IF; RETURN NULL; END $$',
    'CREATE OR REPLACE FUNCTION service_names_move() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF '
    "old.status = 'active' THEN UPDATE service_names SET active = active - 1 WHERE name = old.name; END IF; IF "
    "new.status = 'active' THEN INSERT INTO service_names AS n (name, name_lower, name_folded, active) VALUES "
    '(new.name, new.name_lower, new.name_folded, 1) ON CONFLICT (name) DO UPDATE SET active = n.active + '
    'excluded.active, name_lower = excluded.name_lower, name_folded = excluded.name_folded; END IF; RETURN '
    'NULL; END $$',
    'CREATE OR REPLACE FUNCTION service_names_clear() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN DELETE FROM '
    'service_names; RETURN NULL; END $$',
    'DROP TRIGGER IF EXISTS service_names_ai ON services',
    'CREATE TRIGGER service_names_ai AFTER INSERT ON services REFERENCING NEW TABLE AS new_rows FOR EACH '
    'STATEMENT EXECUTE FUNCTION service_names_count()',
    'DROP TRIGGER IF EXISTS service_names_ad ON services',
    'CREATE TRIGGER service_names_ad AFTER DELETE ON services REFERENCING OLD TABLE AS old_rows FOR EACH '
    'STATEMENT EXECUTE FUNCTION service_names_count()',
    'DROP TRIGGER IF EXISTS service_names_au ON services',
    'CREATE TRIGGER service_names_au AFTER UPDATE OF name, name_lower, name_folded, status ON services FOR '
    'EACH ROW WHEN (old.name IS DISTINCT FROM new.name OR old.status IS DISTINCT FROM new.status OR '
    'old.name_folded IS DISTINCT FROM new.name_folded OR old.name_lower IS DISTINCT FROM new.name_lower) '
    'EXECUTE FUNCTION service_names_move()',
    'DROP TRIGGER IF EXISTS service_names_truncate ON services',
    'CREATE TRIGGER service_names_truncate AFTER TRUNCATE ON services FOR EACH STATEMENT EXECUTE FUNCTION '
    'service_names_clear()',
    'DELETE FROM service_names',
    'INSERT INTO service_names (name, name_lower, name_folded, active) SELECT name, max(name_lower), '
    "max(name_folded), count(*) FROM services WHERE status = 'active' GROUP BY name"]
_SQLITE_CREATE = [
    'CREATE TABLE IF NOT EXISTS service_names (id INTEGER PRIMARY KEY, name VARCHAR(500) NOT NULL UNIQUE, '
    'name_lower VARCHAR(500) NOT NULL, name_folded VARCHAR(500) NOT NULL, active INTEGER NOT NULL DEFAULT 0)',
    'CREATE VIRTUAL TABLE IF NOT EXISTS service_name_search USING fts5(name_folded, name_lower, '
    "content='service_names', content_rowid='id', tokenize='unicode61 remove_diacritics 0', prefix='2 3')",
    "CREATE INDEX IF NOT EXISTS ix_services_active_name ON services (name, id) WHERE status = 'active'",
    "CREATE TRIGGER IF NOT EXISTS service_names_ai AFTER INSERT ON services WHEN new.status = 'active' BEGIN "
    'INSERT INTO service_names (name, name_lower, name_folded, active) VALUES (new.name, new.name_lower, '
    'new.name_folded, 1) ON CONFLICT (name) DO UPDATE SET active = service_names.active + excluded.active, '
    'name_lower = excluded.name_lower, name_folded = excluded.name_folded; END',
    "CREATE TRIGGER IF NOT EXISTS service_names_ad AFTER DELETE ON services WHEN old.status = 'active' BEGIN "
    'UPDATE service_names SET active = active - 1 WHERE name = old.name; END',
    'CREATE TRIGGER IF NOT EXISTS service_names_au AFTER UPDATE OF name, name_lower, name_folded, status ON '
    'services WHEN old.name IS NOT new.name OR old.status IS NOT new.status OR old.name_folded IS NOT '
    'new.name_folded OR old.name_lower IS NOT new.name_lower BEGIN UPDATE service_names SET active = active - '
    "1 WHERE name = old.name AND old.status = 'active'; INSERT INTO service_names (name, name_lower, "
    "name_folded, active) SELECT new.name, new.name_lower, new.name_folded, 1 WHERE new.status = 'active' ON "
    'CONFLICT (name) DO UPDATE SET active = service_names.active + excluded.active, name_lower = '
    'excluded.name_lower, name_folded = excluded.name_folded; END',
    'CREATE TRIGGER IF NOT EXISTS service_name_search_ai AFTER INSERT ON service_names BEGIN INSERT INTO '
    'service_name_search(rowid, name_folded, name_lower) VALUES (new.id, new.name_folded, new.name_lower); END',
    'CREATE TRIGGER IF NOT EXISTS service_name_search_ad AFTER DELETE ON service_names BEGIN INSERT INTO '
    "service_name_search(service_name_search, rowid, name_folded, name_lower) VALUES ('delete', old.id, "
    'old.name_folded, old.name_lower); END',
    'CREATE TRIGGER IF NOT EXISTS service_name_search_au AFTER UPDATE OF name_folded, name_lower ON '
    'service_names WHEN old.name_folded IS NOT new.name_folded OR old.name_lower IS NOT new.name_lower BEGIN '
    "INSERT INTO service_name_search(service_name_search, rowid, name_folded, name_lower) VALUES ('delete', "
    'old.id, old.name_folded, old.name_lower); INSERT INTO service_name_search(rowid, name_folded, name_lower) '
    'VALUES (new.id, new.name_folded, new.name_lower); END',
    'DELETE FROM service_names',
    'INSERT INTO service_names (name, name_lower, name_folded, active) SELECT name, max(name_lower), '
    "max(name_folded), count(*) FROM services WHERE status = 'active' GROUP BY name",
    "INSERT INTO service_name_search(service_name_search) VALUES ('rebuild')"]
_PG_DROP = [
    'DROP TRIGGER IF EXISTS service_names_ai ON services',
    'DROP TRIGGER IF EXISTS service_names_ad ON services',
    'DROP TRIGGER IF EXISTS service_names_au ON services',
    'DROP TRIGGER IF EXISTS service_names_truncate ON services',
    'DROP FUNCTION IF EXISTS service_names_count()',
    'DROP FUNCTION IF EXISTS service_names_move()',
    'DROP FUNCTION IF EXISTS service_names_clear()',
    'DROP INDEX IF EXISTS ix_services_active_name',
    'DROP TABLE IF EXISTS service_names']
_SQLITE_DROP = [
    'DROP TRIGGER IF EXISTS service_names_ai',
    'DROP TRIGGER IF EXISTS service_names_ad',
    'DROP TRIGGER IF EXISTS service_names_au',
    'DROP TRIGGER IF EXISTS service_name_search_ai',
    'DROP TRIGGER IF EXISTS service_name_search_ad',
    'DROP TRIGGER IF EXISTS service_name_search_au',
    'DROP TABLE IF EXISTS service_name_search',
    'DROP INDEX IF EXISTS ix_services_active_name',
    'DROP TABLE IF EXISTS service_names']


def _run(pg, sqlite):
    for statement in pg if op.get_bind().dialect.name == "postgresql" else sqlite:
        op.execute(statement)


def upgrade():
    _run(_PG_CREATE, _SQLITE_CREATE)


def downgrade():
    _run(_PG_DROP, _SQLITE_DROP)
