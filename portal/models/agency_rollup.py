"""Per agency and day: the checks of its services and how many found them working, for rankings.

The rows are the sums of the daily roll-ups (`daily_rollups`) of each agency's services, kept equal to
`SELECT services.agency_id, day, sum(checks), sum(<working outcomes>) … GROUP BY agency_id, day` by database
triggers: on insert, update and delete of a roll-up, and when a service moves to another agency. A 30-day
availability ranking then reads a few thousand rows instead of a row per service and day.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import ForeignKey, MetaData, event, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base
from portal.vocabulary import working_sum

TABLE = "agency_daily_rollups"


class AgencyDailyRollup(Base):
    __tablename__ = TABLE

    day: Mapped[date] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), primary_key=True)
    checks: Mapped[int] = mapped_column(default=0)
    working: Mapped[int] = mapped_column(default=0)


_ADD_NEW = (
    "INSERT INTO agency_daily_rollups (day, agency_id, checks, working) "
    f"SELECT NEW.day, agency_id, NEW.checks, {working_sum('NEW')} FROM services WHERE id = NEW.service_id "
    "ON CONFLICT (day, agency_id) DO UPDATE SET checks = agency_daily_rollups.checks + excluded.checks, "
    "working = agency_daily_rollups.working + excluded.working"
)
_REMOVE_OLD = (
    f"UPDATE agency_daily_rollups SET checks = checks - OLD.checks, working = working - ({working_sum('OLD')}) "
    "WHERE day = OLD.day AND agency_id = (SELECT agency_id FROM services WHERE id = OLD.service_id)"
)
_MOVE_OUT = (
    "UPDATE agency_daily_rollups SET "
    "checks = checks - (SELECT sum(r.checks) FROM daily_rollups r "
    "WHERE r.service_id = NEW.id AND r.day = agency_daily_rollups.day), "
    f"working = working - (SELECT sum({working_sum('r')}) FROM daily_rollups r "
    "WHERE r.service_id = NEW.id AND r.day = agency_daily_rollups.day) "
    "WHERE agency_id = OLD.agency_id AND day IN (SELECT day FROM daily_rollups WHERE service_id = NEW.id)"
)
_MOVE_IN = (
    "INSERT INTO agency_daily_rollups (day, agency_id, checks, working) "
    f"SELECT day, NEW.agency_id, sum(checks), sum({working_sum()}) FROM daily_rollups WHERE service_id = NEW.id "
    "GROUP BY day ON CONFLICT (day, agency_id) DO UPDATE SET checks = agency_daily_rollups.checks + excluded.checks, "
    "working = agency_daily_rollups.working + excluded.working"
)

_SQLITE_CREATE = [
    "CREATE TRIGGER IF NOT EXISTS agency_rollups_ai AFTER INSERT ON daily_rollups BEGIN " + _ADD_NEW + "; END",
    "CREATE TRIGGER IF NOT EXISTS agency_rollups_ad AFTER DELETE ON daily_rollups BEGIN " + _REMOVE_OLD + "; END",
    "CREATE TRIGGER IF NOT EXISTS agency_rollups_au AFTER UPDATE OF service_id, day, checks, up, degraded "
    "ON daily_rollups BEGIN " + _REMOVE_OLD + "; " + _ADD_NEW + "; END",
    "CREATE TRIGGER IF NOT EXISTS agency_rollups_move AFTER UPDATE OF agency_id ON services "
    "WHEN NEW.agency_id IS NOT OLD.agency_id BEGIN " + _MOVE_OUT + "; " + _MOVE_IN + "; END",
]
_SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS agency_rollups_ai",
    "DROP TRIGGER IF EXISTS agency_rollups_ad",
    "DROP TRIGGER IF EXISTS agency_rollups_au",
    "DROP TRIGGER IF EXISTS agency_rollups_move",
]
_PG_CREATE = [
    "CREATE OR REPLACE FUNCTION agency_rollups_apply() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF TG_OP IN ('DELETE', 'UPDATE') THEN " + _REMOVE_OLD + "; END IF; "
    "IF TG_OP IN ('INSERT', 'UPDATE') THEN " + _ADD_NEW + "; END IF; "
    "RETURN NULL; END $$",
    "CREATE OR REPLACE FUNCTION agency_rollups_move() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF NEW.agency_id IS DISTINCT FROM OLD.agency_id THEN " + _MOVE_OUT + "; " + _MOVE_IN + "; END IF; "
    "RETURN NULL; END $$",
    "CREATE OR REPLACE TRIGGER agency_rollups_apply AFTER INSERT OR DELETE OR UPDATE OF service_id, day, checks, "
    "up, degraded ON daily_rollups FOR EACH ROW EXECUTE FUNCTION agency_rollups_apply()",
    "CREATE OR REPLACE TRIGGER agency_rollups_move AFTER UPDATE OF agency_id ON services FOR EACH ROW "
    "EXECUTE FUNCTION agency_rollups_move()",
]
_PG_DROP = [
    "DROP TRIGGER IF EXISTS agency_rollups_apply ON daily_rollups",
    "DROP TRIGGER IF EXISTS agency_rollups_move ON services",
    "DROP FUNCTION IF EXISTS agency_rollups_apply()",
    "DROP FUNCTION IF EXISTS agency_rollups_move()",
]

BACKFILL = (
    "INSERT INTO agency_daily_rollups (day, agency_id, checks, working) "
    f"SELECT r.day, s.agency_id, sum(r.checks), sum({working_sum('r')}) "
    "FROM daily_rollups r JOIN services s ON s.id = r.service_id GROUP BY r.day, s.agency_id"
)


def create_rollup_triggers(connection: Connection) -> None:
    """Create the dialect's triggers that keep agency_daily_rollups in step (create_all and the migration)."""
    for statement in _PG_CREATE if connection.dialect.name == "postgresql" else _SQLITE_CREATE:
        connection.execute(text(statement))


def drop_rollup_triggers(connection: Connection) -> None:
    for statement in _PG_DROP if connection.dialect.name == "postgresql" else _SQLITE_DROP:
        connection.execute(text(statement))


def install_rollup_triggers(metadata: MetaData) -> None:
    """Attach create/drop hooks so metadata.create_all builds the triggers once every table exists."""
    event.listen(metadata, "after_create", lambda target, conn, **kw: create_rollup_triggers(conn))
    event.listen(metadata, "before_drop", lambda target, conn, **kw: drop_rollup_triggers(conn))
