"""Full-text search objects on the names of active services: FTS5 on SQLite, a partial GIN index on PostgreSQL.

Only active services are indexed, so a search without filters is counted from the index alone.

On SQLite the FTS5 table indexes two columns, the folded name and the lower-case name with its
diacritics, so that each ranking tier (exact diacritics, whole phrase, every word) is an FTS query of
its own. Its rowid is `length(name) << 32 | id`: FTS5 returns matches in rowid order, which is the
"shorter names first" order, so a page of a tier is read from the index without sorting every match.
"""

from __future__ import annotations

from sqlalchemy import event, text
from sqlalchemy.engine import Connection

FTS_TABLE = "service_search"
FTS_SOURCE = "service_search_source"
PG_INDEX = "ix_services_name_folded_tsv"
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


def create_search_objects(connection: Connection) -> None:
    """Create the dialect's text-search objects (used by create_all and by the migrations)."""
    statements = _PG_CREATE if connection.dialect.name == "postgresql" else _SQLITE_CREATE
    for statement in statements:
        connection.execute(text(statement))


def drop_search_objects(connection: Connection) -> None:
    if connection.dialect.name == "sqlite":
        for trigger in _SQLITE_TRIGGERS:
            connection.execute(text(f"DROP TRIGGER IF EXISTS {trigger}"))
        connection.execute(text(f"DROP TABLE IF EXISTS {FTS_TABLE}"))
        connection.execute(text(f"DROP VIEW IF EXISTS {FTS_SOURCE}"))
    else:
        connection.execute(text(f"DROP INDEX IF EXISTS {PG_INDEX}"))


def is_search_object(name: str | None) -> bool:
    """True for objects Alembic autogenerate must leave alone."""
    return bool(name) and (name.startswith(FTS_TABLE) or name == PG_INDEX)


def install_search(services_table) -> None:
    """Attach create/drop hooks so metadata.create_all builds the search objects too."""
    event.listen(services_table, "after_create", lambda target, conn, **kw: create_search_objects(conn))
    event.listen(services_table, "before_drop", lambda target, conn, **kw: drop_search_objects(conn))
