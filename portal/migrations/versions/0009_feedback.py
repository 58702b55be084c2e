"""citizens' reports about services: reports, the re-checks they ask for, "citizens report problems" incidents

Revision ID: 0009
Revises: 0008

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('feedback_incidents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reports', sa.Integer(), nullable=False),
    sa.Column('health_at_start', sa.String(length=20), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], name=op.f('fk_feedback_incidents_service_id_services')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_incidents'))
    )
    with op.batch_alter_table('feedback_incidents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_incidents_ended_at'), ['ended_at'], unique=False)
        batch_op.create_index('ix_feedback_incidents_service_started', ['service_id', 'started_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_feedback_incidents_started_at'), ['started_at'], unique=False)

    op.create_table('feedback_rechecks',
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], name=op.f('fk_feedback_rechecks_service_id_services')),
    sa.PrimaryKeyConstraint('service_id', name=op.f('pk_feedback_rechecks'))
    )
    with op.batch_alter_table('feedback_rechecks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_rechecks_done_at'), ['done_at'], unique=False)

    op.create_table('feedback_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('description_public', sa.Boolean(), nullable=False),
    sa.Column('contact', sa.String(length=255), nullable=True),
    sa.Column('client_hash', sa.String(length=64), nullable=False),
    sa.Column('repeats', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('reply', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('first_reply_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('replied_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('contact_erased_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("category IN ('not_opening', 'submit_error', 'sign_in', 'wrong_info', 'other')", name=op.f('ck_feedback_reports_category')),
    sa.CheckConstraint("status IN ('new', 'acknowledged', 'resolved', 'not_a_problem')", name=op.f('ck_feedback_reports_status')),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], name=op.f('fk_feedback_reports_service_id_services')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_reports'))
    )
    with op.batch_alter_table('feedback_reports', schema=None) as batch_op:
        batch_op.create_index('ix_feedback_reports_client_created', ['client_hash', 'created_at'], unique=False)
        batch_op.create_index('ix_feedback_reports_service_created', ['service_id', 'created_at'], unique=False)
        batch_op.create_index('ix_feedback_reports_status_closed', ['status', 'closed_at'], unique=False)



def downgrade():
    with op.batch_alter_table('feedback_reports', schema=None) as batch_op:
        batch_op.drop_index('ix_feedback_reports_status_closed')
        batch_op.drop_index('ix_feedback_reports_service_created')
        batch_op.drop_index('ix_feedback_reports_client_created')

    op.drop_table('feedback_reports')
    with op.batch_alter_table('feedback_rechecks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_rechecks_done_at'))

    op.drop_table('feedback_rechecks')
    with op.batch_alter_table('feedback_incidents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_incidents_started_at'))
        batch_op.drop_index('ix_feedback_incidents_service_started')
        batch_op.drop_index(batch_op.f('ix_feedback_incidents_ended_at'))

    op.drop_table('feedback_incidents')
