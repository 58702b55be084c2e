"""sweeps: checks inferred from a failing host, monitor faults, per-sweep counters

Revision ID: 0008
Revises: 0007

"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'monitor_faults',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('reason', sa.String(length=20), nullable=False),
        sa.Column('detail', sa.String(length=500), nullable=True),
        sa.Column('hosts', sa.Integer(), nullable=False),
        sa.Column('failed_hosts', sa.Integer(), nullable=False),
        sa.Column('alerted_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('alert_attempts', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_monitor_faults')),
    )
    op.create_index(op.f('ix_monitor_faults_started_at'), 'monitor_faults', ['started_at'])
    op.create_index(op.f('ix_monitor_faults_ended_at'), 'monitor_faults', ['ended_at'])
    op.create_table(
        'sweep_runs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('checked', sa.Integer(), nullable=False),
        sa.Column('inferred', sa.Integer(), nullable=False),
        sa.Column('retried', sa.Integer(), nullable=False),
        sa.Column('throttled_hosts', sa.Integer(), nullable=False),
        sa.Column('failed_hosts', sa.Integer(), nullable=False),
        sa.Column('monitor_fault_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['monitor_fault_id'], ['monitor_faults.id'],
                                name=op.f('fk_sweep_runs_monitor_fault_id_monitor_faults')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sweep_runs')),
    )
    op.create_index(op.f('ix_sweep_runs_started_at'), 'sweep_runs', ['started_at'])
    with op.batch_alter_table('checks') as batch:
        batch.add_column(sa.Column('inferred', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch.add_column(sa.Column('monitor_fault_id', sa.Integer(), nullable=True))
        batch.create_index(batch.f('ix_checks_monitor_fault_id'), ['monitor_fault_id'])
        batch.create_foreign_key(batch.f('fk_checks_monitor_fault_id_monitor_faults'), 'monitor_faults',
                                 ['monitor_fault_id'], ['id'])


def downgrade():
    with op.batch_alter_table('checks') as batch:
        batch.drop_constraint(batch.f('fk_checks_monitor_fault_id_monitor_faults'), type_='foreignkey')
        batch.drop_index(batch.f('ix_checks_monitor_fault_id'))
        batch.drop_column('monitor_fault_id')
        batch.drop_column('inferred')
    op.drop_index(op.f('ix_sweep_runs_started_at'), table_name='sweep_runs')
    op.drop_table('sweep_runs')
    op.drop_index(op.f('ix_monitor_faults_ended_at'), table_name='monitor_faults')
    op.drop_index(op.f('ix_monitor_faults_started_at'), table_name='monitor_faults')
    op.drop_table('monitor_faults')
