"""rankings: per-agency daily roll-up totals kept by triggers, covering indexes for per-agency service counts

Revision ID: 0003
Revises: 0002

"""
from alembic import op
import sqlalchemy as sa


# Triggers that keep agency_daily_rollups equal to the per-agency sums of daily_rollups, frozen here.
_SQLITE_CREATE = [
    'CREATE TRIGGER IF NOT EXISTS agency_rollups_ai AFTER INSERT ON daily_rollups BEGIN INSERT INTO '
    'agency_daily_rollups (day, agency_id, checks, working) SELECT NEW.day, agency_id, NEW.checks, NEW.up + '
    'NEW.degraded FROM services WHERE id = NEW.service_id ON CONFLICT (day, agency_id) DO UPDATE SET checks = '
    'agency_daily_rollups.checks + excluded.checks, working = agency_daily_rollups.working + excluded.working; '
    'END',
    'CREATE TRIGGER IF NOT EXISTS agency_rollups_ad AFTER DELETE ON daily_rollups BEGIN UPDATE '
    'agency_daily_rollups SET checks = checks - OLD.checks, working = working - (OLD.up + OLD.degraded) WHERE '
    'day = OLD.day AND agency_id = (SELECT agency_id FROM services WHERE id = OLD.service_id); END',
    'CREATE TRIGGER IF NOT EXISTS agency_rollups_au AFTER UPDATE OF service_id, day, checks, up, degraded ON '
    'daily_rollups BEGIN UPDATE agency_daily_rollups SET checks = checks - OLD.checks, working = working - '
    '(OLD.up + OLD.degraded) WHERE day = OLD.day AND agency_id = (SELECT agency_id FROM services WHERE id = '
    'OLD.service_id); INSERT INTO agency_daily_rollups (day, agency_id, checks, working) SELECT NEW.day, '
    'agency_id, NEW.checks, NEW.up + NEW.degraded FROM services WHERE id = NEW.service_id ON CONFLICT (day, '
    'agency_id) DO UPDATE SET checks = agency_daily_rollups.checks + excluded.checks, working = '
    'agency_daily_rollups.working + excluded.working; END',
    'CREATE TRIGGER IF NOT EXISTS agency_rollups_move AFTER UPDATE OF agency_id ON services WHEN NEW.agency_id '
    'IS NOT OLD.agency_id BEGIN UPDATE agency_daily_rollups SET checks = checks - (SELECT sum(r.checks) FROM '
    'daily_rollups r WHERE r.service_id = NEW.id AND r.day = agency_daily_rollups.day), working = working - '
    '(SELECT sum(r.up + r.degraded) FROM daily_rollups r WHERE r.service_id = NEW.id AND r.day = '
    'agency_daily_rollups.day) WHERE agency_id = OLD.agency_id AND day IN (SELECT day FROM daily_rollups WHERE '
    'service_id = NEW.id); INSERT INTO agency_daily_rollups (day, agency_id, checks, working) SELECT day, '
    'NEW.agency_id, sum(checks), sum(up + degraded) FROM daily_rollups WHERE service_id = NEW.id GROUP BY day '
    'ON CONFLICT (day, agency_id) DO UPDATE SET checks = agency_daily_rollups.checks + excluded.checks, '
    'working = agency_daily_rollups.working + excluded.working; END']
_SQLITE_DROP = [
    'DROP TRIGGER IF EXISTS agency_rollups_ai',
    'DROP TRIGGER IF EXISTS agency_rollups_ad',
    'DROP TRIGGER IF EXISTS agency_rollups_au',
    'DROP TRIGGER IF EXISTS agency_rollups_move']
_PG_CREATE = [
    'CREATE OR REPLACE FUNCTION agency_rollups_apply() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF TG_OP '
    "IN ('DELETE', 'UPDATE') THEN UPDATE agency_daily_rollups SET checks = checks - OLD.checks, working = "
    'working - (OLD.up + OLD.degraded) WHERE day = OLD.day AND agency_id = (SELECT agency_id FROM services '
    "WHERE id = OLD.service_id); END IF; IF TG_OP IN ('INSERT', 'UPDATE') THEN INSERT INTO "
    'agency_daily_rollups (day, agency_id, checks, working) SELECT NEW.day, agency_id, NEW.checks, NEW.up + '
    'NEW.degraded FROM services WHERE id = NEW.service_id ON CONFLICT (day, agency_id) DO UPDATE SET checks = '
    'agency_daily_rollups.checks + excluded.checks, working = agency_daily_rollups.working + excluded.working; '
    'END IF; RETURN NULL; END $$',
    'CREATE OR REPLACE FUNCTION agency_rollups_move() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF '
    'NEW.agency_id IS DISTINCT FROM OLD.agency_id THEN UPDATE agency_daily_rollups SET checks = checks - '
    '(SELECT sum(r.checks) FROM daily_rollups r WHERE r.service_id = NEW.id AND r.day = '
    'agency_daily_rollups.day), working = working - (SELECT sum(r.up + r.degraded) FROM daily_rollups r WHERE '
    'r.service_id = NEW.id AND r.day = agency_daily_rollups.day) WHERE agency_id = OLD.agency_id AND day IN '
    '(SELECT day FROM daily_rollups WHERE service_id = NEW.id); INSERT INTO agency_daily_rollups (day, '
    'agency_id, checks, working) SELECT day, NEW.agency_id, sum(checks), sum(up + degraded) FROM daily_rollups '
    'WHERE service_id = NEW.id GROUP BY day ON CONFLICT (day, agency_id) DO UPDATE SET checks = '
    'agency_daily_rollups.checks + excluded.checks, working = agency_daily_rollups.working + excluded.working; '
    'END IF; RETURN NULL; END $$',
    'CREATE OR REPLACE TRIGGER agency_rollups_apply AFTER INSERT OR DELETE OR UPDATE OF service_id, day, '
    'checks, up, degraded ON daily_rollups FOR EACH ROW EXECUTE FUNCTION agency_rollups_apply()',
    'CREATE OR REPLACE TRIGGER agency_rollups_move AFTER UPDATE OF agency_id ON services FOR EACH ROW EXECUTE '
    'FUNCTION agency_rollups_move()']
_PG_DROP = [
    'DROP TRIGGER IF EXISTS agency_rollups_apply ON daily_rollups',
    'DROP TRIGGER IF EXISTS agency_rollups_move ON services',
    'DROP FUNCTION IF EXISTS agency_rollups_apply()',
    'DROP FUNCTION IF EXISTS agency_rollups_move()']
BACKFILL = (
    'INSERT INTO agency_daily_rollups (day, agency_id, checks, working) SELECT r.day, s.agency_id, '
    'sum(r.checks), sum(r.up + r.degraded) FROM daily_rollups r JOIN services s ON s.id = r.service_id '
    'GROUP BY r.day, s.agency_id'
)


def _run(create_or_drop):
    postgresql = op.get_bind().dialect.name == 'postgresql'
    for statement in (_PG_CREATE if postgresql else _SQLITE_CREATE) if create_or_drop == 'create' else (
            _PG_DROP if postgresql else _SQLITE_DROP):
        op.execute(statement)


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('agency_daily_rollups',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('checks', sa.Integer(), nullable=False),
    sa.Column('working', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_agency_daily_rollups_agency_id_agencies')),
    sa.PrimaryKeyConstraint('day', 'agency_id', name=op.f('pk_agency_daily_rollups'))
    )
    op.create_index('ix_services_rankings', 'services', ['status', 'agency_id', 'level', 'health'], unique=False)
    op.create_index('ix_services_rankings_since', 'services', ['status', 'created_at', 'agency_id', 'level'],
                    unique=False)
    op.execute(BACKFILL)
    _run('create')


def downgrade():
    _run('drop')
    op.drop_index('ix_services_rankings_since', table_name='services')
    op.drop_index('ix_services_rankings', table_name='services')
    op.drop_table('agency_daily_rollups')
