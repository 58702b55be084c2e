"""Full-text search objects on the folded names of active services: FTS5 on SQLite, a partial GIN index on PostgreSQL.

Only active services are indexed, so a search without filters is counted from the index alone."""

from __future__ import annotations

from sqlalchemy import event, text
from sqlalchemy.engine import Connection

FTS_TABLE = "service_search"
PG_INDEX = "ix_services_name_folded_tsv"

_SQLITE_CREATE = [
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
    "name_folded, content='services', content_rowid='id', tokenize='unicode61 remove_diacritics 0')",
    "CREATE TRIGGER IF NOT EXISTS services_search_ai AFTER INSERT ON services WHEN new.status = 'active' BEGIN "
    f"INSERT INTO {FTS_TABLE}(rowid, name_folded) VALUES (new.id, new.name_folded); END",
    "CREATE TRIGGER IF NOT EXISTS services_search_ad AFTER DELETE ON services WHEN old.status = 'active' BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, name_folded) VALUES ('delete', old.id, old.name_folded); END",
    "CREATE TRIGGER IF NOT EXISTS services_search_au AFTER UPDATE OF name_folded, status ON services BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, name_folded) "
    "SELECT 'delete', old.id, old.name_folded WHERE old.status = 'active'; "
    f"INSERT INTO {FTS_TABLE}(rowid, name_folded) SELECT new.id, new.name_folded WHERE new.status = 'active'; END",
    f"INSERT INTO {FTS_TABLE}(rowid, name_folded) SELECT id, name_folded FROM services WHERE status = 'active'",
]
_PG_CREATE = [
    f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON services USING gin (to_tsvector('simple', name_folded)) "
    "WHERE status = 'active'",
]


def create_search_objects(connection: Connection) -> None:
    """Create the dialect's text-search objects (used by create_all and by the migration)."""
    statements = _PG_CREATE if connection.dialect.name == "postgresql" else _SQLITE_CREATE
    for statement in statements:
        connection.execute(text(statement))


def drop_search_objects(connection: Connection) -> None:
    if connection.dialect.name == "sqlite":
        connection.execute(text(f"DROP TABLE IF EXISTS {FTS_TABLE}"))
    else:
        connection.execute(text(f"DROP INDEX IF EXISTS {PG_INDEX}"))


def is_search_object(name: str | None) -> bool:
    """True for objects Alembic autogenerate must leave alone."""
    return bool(name) and (name.startswith(FTS_TABLE) or name == PG_INDEX)


def install_search(services_table) -> None:
    """Attach create/drop hooks so metadata.create_all builds the search objects too."""
    event.listen(services_table, "after_create", lambda target, conn, **kw: create_search_objects(conn))
    event.listen(services_table, "before_drop", lambda target, conn, **kw: drop_search_objects(conn))
