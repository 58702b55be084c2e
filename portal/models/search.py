"""Full-text search objects on the names of active services: FTS5 on SQLite, GIN indexes on PostgreSQL.

Only active services are indexed, so a search without filters is counted from the index alone.

On SQLite the FTS5 table indexes two columns, the folded name and the lower-case name with its
diacritics, so that each ranking tier (exact diacritics, whole phrase, every word) is an FTS query of
its own. Its rowid is `length(name) << 32 | id`: FTS5 returns matches in rowid order, which is the
"shorter names first" order, so a page of a tier is read from the index without sorting every match.

On PostgreSQL a search with filters uses a partial GIN index on the services' folded names.

A search without filters, on both databases, uses `service_names`: one row per distinct name with how
many active services bear it, kept by triggers on `services`, and indexed by FTS5 (SQLite) or a GIN
index on its folded name's tsvector (PostgreSQL). The same procedure is offered by hundreds of agencies under the
same name, so the distinct names are far fewer than the services (7,200 for 200,000 synthetic ones):
the total is a sum over matching names, and the page's services are read from an index on (name, id).
"""

from __future__ import annotations

from sqlalchemy import event, text
from sqlalchemy.engine import Connection

FTS_TABLE = "service_search"
FTS_SOURCE = "service_search_source"
PG_INDEX = "ix_services_name_folded_tsv"
NAMES = "service_names"
NAMES_FTS = "service_name_search"
NAMES_INDEXES = ("ix_service_names_name_folded_tsv", "ix_services_active_name")
_PG_NAMES_FUNCTIONS = ("service_names_count", "service_names_move", "service_names_clear")
_NAMES_TRIGGERS = ("service_names_ai", "service_names_ad", "service_names_au")
_PG_NAMES_TRIGGERS = (*_NAMES_TRIGGERS, "service_names_truncate")
_SQLITE_NAMES_FTS_TRIGGERS = ("service_name_search_ai", "service_name_search_ad", "service_name_search_au")
ID_BITS = 32
ID_MASK = (1 << ID_BITS) - 1

_ROWID = f"(length({{row}}.name) << {ID_BITS}) + {{row}}.id"
_SQLITE_TRIGGERS = ("services_search_ai", "services_search_ad", "services_search_au")

_SQLITE_CREATE = [
    f"CREATE VIEW IF NOT EXISTS {FTS_SOURCE} AS SELECT {_ROWID.format(row='services')} AS search_rowid, "
    "name_folded, name_lower FROM services WHERE status = 'active'",
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(name_folded, name_lower, content='{FTS_SOURCE}', "
    "content_rowid='search_rowid', tokenize='unicode61 remove_diacritics 0', prefix='2 3')",
    "CREATE TRIGGER IF NOT EXISTS services_search_ai AFTER INSERT ON services WHEN new.status = 'active' BEGIN "
    f"INSERT INTO {FTS_TABLE}(rowid, name_folded, name_lower) "
    f"VALUES ({_ROWID.format(row='new')}, new.name_folded, new.name_lower); END",
    "CREATE TRIGGER IF NOT EXISTS services_search_ad AFTER DELETE ON services WHEN old.status = 'active' BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, name_folded, name_lower) "
    f"VALUES ('delete', {_ROWID.format(row='old')}, old.name_folded, old.name_lower); END",
    "CREATE TRIGGER IF NOT EXISTS services_search_au AFTER UPDATE OF name, name_folded, name_lower, status "
    "ON services BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, name_folded, name_lower) "
    f"SELECT 'delete', {_ROWID.format(row='old')}, old.name_folded, old.name_lower WHERE old.status = 'active'; "
    f"INSERT INTO {FTS_TABLE}(rowid, name_folded, name_lower) "
    f"SELECT {_ROWID.format(row='new')}, new.name_folded, new.name_lower WHERE new.status = 'active'; END",
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')",
]
_PG_CREATE = [
    f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON services USING gin (to_tsvector('simple', name_folded)) "
    "WHERE status = 'active'",
]

# The results page reads every column it shows from this index alone (no lookup in the table per service);
# SQLite has no INCLUDE, so there the shown columns are keys.
_SHOWN = "level, health, is_sample, agency_id"
_PG_ACTIVE_NAME_INDEX = (f"CREATE INDEX IF NOT EXISTS {NAMES_INDEXES[1]} ON services (name, id) INCLUDE ({_SHOWN}) "
                         "WHERE status = 'active'")
_SQLITE_ACTIVE_NAME_INDEX = (f"CREATE INDEX IF NOT EXISTS {NAMES_INDEXES[1]} ON services (name, id, {_SHOWN}) "
                             "WHERE status = 'active'")
_NAME_CHANGED = " OR ".join(f"old.{c} {{differs}} new.{c}" for c in ("name", "status", "name_folded", "name_lower"))
_NAME_ROW = "name, name_lower, name_folded, active"
_UPSERT = ("ON CONFLICT (name) DO UPDATE SET active = {names}.active + excluded.active, "
           "name_lower = excluded.name_lower, name_folded = excluded.name_folded")
_PG_UPSERT = _UPSERT.format(names="n")
_SQLITE_UPSERT = _UPSERT.format(names=NAMES)


def _count_names(source: str) -> str:
    """The active services of `source` counted per name, as rows of the names table."""
    return (f"SELECT name, max(name_lower), max(name_folded), count(*) FROM {source} "
            "WHERE status = 'active' GROUP BY name")


_NAMES_REFILL = [f"DELETE FROM {NAMES}", f"INSERT INTO {NAMES} ({_NAME_ROW}) {_count_names('services')}"]

_PG_NAMES_CREATE = [
    f"CREATE TABLE IF NOT EXISTS {NAMES} (name varchar(500) PRIMARY KEY, name_lower varchar(500) NOT NULL, "
    "name_folded varchar(500) NOT NULL, active integer NOT NULL DEFAULT 0) WITH (fillfactor = 80)",
    f"CREATE INDEX IF NOT EXISTS {NAMES_INDEXES[0]} ON {NAMES} USING gin (to_tsvector('simple', name_folded))",
    _PG_ACTIVE_NAME_INDEX,
    # Inserts and deletes are counted once per statement (bulk loads add thousands of rows at a time);
    # new names are locked in name order, so concurrent imports do not deadlock on them.
    "CREATE OR REPLACE FUNCTION service_names_count() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF TG_OP = 'INSERT' THEN "
    f"INSERT INTO {NAMES} AS n ({_NAME_ROW}) {_count_names('new_rows')} ORDER BY name {_PG_UPSERT}; "
    f"ELSE UPDATE {NAMES} AS n SET active = n.active - gone.services FROM ("
    "SELECT name, count(*) AS services FROM old_rows WHERE status = 'active' GROUP BY name) gone "
    "WHERE n.name = gone.name; "
    "END IF; RETURN NULL; END $$",
    "CREATE OR REPLACE FUNCTION service_names_move() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    f"IF old.status = 'active' THEN UPDATE {NAMES} SET active = active - 1 WHERE name = old.name; END IF; "
    f"IF new.status = 'active' THEN INSERT INTO {NAMES} AS n ({_NAME_ROW}) "
    f"VALUES (new.name, new.name_lower, new.name_folded, 1) {_PG_UPSERT}; END IF; "
    "RETURN NULL; END $$",
    "CREATE OR REPLACE FUNCTION service_names_clear() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    f"DELETE FROM {NAMES}; RETURN NULL; END $$",
    "DROP TRIGGER IF EXISTS service_names_ai ON services",
    "CREATE TRIGGER service_names_ai AFTER INSERT ON services REFERENCING NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION service_names_count()",
    "DROP TRIGGER IF EXISTS service_names_ad ON services",
    "CREATE TRIGGER service_names_ad AFTER DELETE ON services REFERENCING OLD TABLE AS old_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION service_names_count()",
    "DROP TRIGGER IF EXISTS service_names_au ON services",
    "CREATE TRIGGER service_names_au AFTER UPDATE OF name, name_lower, name_folded, status ON services "
    f"FOR EACH ROW WHEN ({_NAME_CHANGED.format(differs='IS DISTINCT FROM')}) EXECUTE FUNCTION service_names_move()",
    "DROP TRIGGER IF EXISTS service_names_truncate ON services",
    "CREATE TRIGGER service_names_truncate AFTER TRUNCATE ON services "
    "FOR EACH STATEMENT EXECUTE FUNCTION service_names_clear()",
]

_SQLITE_NAMES_CREATE = [
    f"CREATE TABLE IF NOT EXISTS {NAMES} (id INTEGER PRIMARY KEY, name VARCHAR(500) NOT NULL UNIQUE, "
    "name_lower VARCHAR(500) NOT NULL, name_folded VARCHAR(500) NOT NULL, active INTEGER NOT NULL DEFAULT 0)",
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {NAMES_FTS} USING fts5(name_folded, name_lower, content='{NAMES}', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 0', prefix='2 3')",
    _SQLITE_ACTIVE_NAME_INDEX,
    f"CREATE TRIGGER IF NOT EXISTS service_names_ai AFTER INSERT ON services WHEN new.status = 'active' BEGIN "
    f"INSERT INTO {NAMES} ({_NAME_ROW}) VALUES (new.name, new.name_lower, new.name_folded, 1) {_SQLITE_UPSERT}; END",
    f"CREATE TRIGGER IF NOT EXISTS service_names_ad AFTER DELETE ON services WHEN old.status = 'active' BEGIN "
    f"UPDATE {NAMES} SET active = active - 1 WHERE name = old.name; END",
    "CREATE TRIGGER IF NOT EXISTS service_names_au AFTER UPDATE OF name, name_lower, name_folded, status "
    f"ON services WHEN {_NAME_CHANGED.format(differs='IS NOT')} BEGIN "
    f"UPDATE {NAMES} SET active = active - 1 WHERE name = old.name AND old.status = 'active'; "
    f"INSERT INTO {NAMES} ({_NAME_ROW}) SELECT new.name, new.name_lower, new.name_folded, 1 "
    f"WHERE new.status = 'active' {_SQLITE_UPSERT}; END",
    f"CREATE TRIGGER IF NOT EXISTS service_name_search_ai AFTER INSERT ON {NAMES} BEGIN "
    f"INSERT INTO {NAMES_FTS}(rowid, name_folded, name_lower) VALUES (new.id, new.name_folded, new.name_lower); END",
    f"CREATE TRIGGER IF NOT EXISTS service_name_search_ad AFTER DELETE ON {NAMES} BEGIN "
    f"INSERT INTO {NAMES_FTS}({NAMES_FTS}, rowid, name_folded, name_lower) "
    "VALUES ('delete', old.id, old.name_folded, old.name_lower); END",
    f"CREATE TRIGGER IF NOT EXISTS service_name_search_au AFTER UPDATE OF name_folded, name_lower ON {NAMES} "
    "WHEN old.name_folded IS NOT new.name_folded OR old.name_lower IS NOT new.name_lower BEGIN "
    f"INSERT INTO {NAMES_FTS}({NAMES_FTS}, rowid, name_folded, name_lower) "
    "VALUES ('delete', old.id, old.name_folded, old.name_lower); "
    f"INSERT INTO {NAMES_FTS}(rowid, name_folded, name_lower) VALUES (new.id, new.name_folded, new.name_lower); END",
]
# The FTS5 'rebuild' after the refill rereads the names, whatever the deletes did to an index out of step.
_SQLITE_NAMES_REBUILD = [*_NAMES_REFILL, f"INSERT INTO {NAMES_FTS}({NAMES_FTS}) VALUES ('rebuild')"]


def _run(connection: Connection, statements: list[str]) -> None:
    for statement in statements:
        connection.execute(text(statement))


def _postgresql(connection: Connection) -> bool:
    return connection.dialect.name == "postgresql"


def create_search_objects(connection: Connection) -> None:
    """Create the dialect's text-search objects (used by create_all and by the migrations)."""
    _run(connection, _PG_CREATE if _postgresql(connection) else _SQLITE_CREATE)
    create_name_objects(connection)


def create_name_objects(connection: Connection) -> None:
    """The table of distinct active names, its text index and its triggers, filled from `services`."""
    if _postgresql(connection):
        _run(connection, _PG_NAMES_CREATE + _NAMES_REFILL)
    else:
        _run(connection, _SQLITE_NAMES_CREATE + _SQLITE_NAMES_REBUILD)


def drop_name_objects(connection: Connection) -> None:
    if _postgresql(connection):
        _run(connection, [f"DROP TRIGGER IF EXISTS {t} ON services" for t in _PG_NAMES_TRIGGERS]
             + [f"DROP FUNCTION IF EXISTS {f}()" for f in _PG_NAMES_FUNCTIONS])
    else:
        _run(connection, [f"DROP TRIGGER IF EXISTS {t}" for t in (*_NAMES_TRIGGERS, *_SQLITE_NAMES_FTS_TRIGGERS)]
             + [f"DROP TABLE IF EXISTS {NAMES_FTS}"])
    _run(connection, [f"DROP INDEX IF EXISTS {NAMES_INDEXES[1]}", f"DROP TABLE IF EXISTS {NAMES}"])


def rebuild_search_objects(connection: Connection) -> None:
    """Recompute the search objects' contents from `services` (after a bulk change made without triggers)."""
    if _postgresql(connection):
        _run(connection, _NAMES_REFILL)
    else:
        _run(connection, [f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')", *_SQLITE_NAMES_REBUILD])


def drop_search_objects(connection: Connection) -> None:
    drop_name_objects(connection)
    if _postgresql(connection):
        _run(connection, [f"DROP INDEX IF EXISTS {PG_INDEX}"])
    else:
        _run(connection, [f"DROP TRIGGER IF EXISTS {t}" for t in _SQLITE_TRIGGERS]
             + [f"DROP TABLE IF EXISTS {FTS_TABLE}", f"DROP VIEW IF EXISTS {FTS_SOURCE}"])


def is_search_object(name: str | None) -> bool:
    """True for objects Alembic autogenerate must leave alone."""
    return bool(name) and (name.startswith((FTS_TABLE, NAMES_FTS)) or name in (PG_INDEX, NAMES, *NAMES_INDEXES))


def install_search(services_table) -> None:
    """Attach create/drop hooks so metadata.create_all builds the search objects too."""
    event.listen(services_table, "after_create", lambda target, conn, **kw: create_search_objects(conn))
    event.listen(services_table, "before_drop", lambda target, conn, **kw: drop_search_objects(conn))
