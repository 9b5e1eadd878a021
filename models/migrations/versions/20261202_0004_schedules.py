"""report schedules and their delivery log

Revision ID: 0004
Revises: 0002
Create Date: 2026-12-02 10:00:00

Adds `delivery_schedule` (a report emailed on a cadence, per snapshot or of a workspace's latest
data) and `delivery_attempt` (every try at sending one). Both die with their workspace (and a
snapshot's schedules with the snapshot): ON DELETE CASCADE. Only new tables: nothing existing
changes, so the revision can follow any other that does not touch them.

The tables agree with models/tables.py (tests/db/test_migrations.py compares them on SQLite and
PostgreSQL).
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0004'
down_revision: Union[str, Sequence[str], None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table('delivery_schedule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('snapshot_id', sa.Integer(), nullable=True),
    sa.Column('period', sa.String(length=20), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('cadence', sa.JSON(), nullable=False),
    sa.Column('recipients', sa.JSON(), nullable=False),
    sa.Column('deliver', sa.String(length=10), nullable=False),
    sa.Column('link_days', sa.Integer(), nullable=True),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('next_due_at', UTC_DATETIME, nullable=False),
    sa.Column('retry_at', UTC_DATETIME, nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('claim_token', sa.String(length=64), nullable=True),
    sa.Column('claimed_until', UTC_DATETIME, nullable=True),
    sa.Column('last_attempt_at', UTC_DATETIME, nullable=True),
    sa.Column('last_sent_at', UTC_DATETIME, nullable=True),
    sa.Column('last_status', sa.String(length=20), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('created_at', UTC_DATETIME, nullable=False),
    sa.Column('updated_at', UTC_DATETIME, nullable=False),
    sa.ForeignKeyConstraint(['snapshot_id'], ['snapshot.id'], name=op.f('fk_delivery_schedule_snapshot_id_snapshot'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'],
                            name=op.f('fk_delivery_schedule_workspace_id_workspace'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_schedule'))
    )
    with op.batch_alter_table('delivery_schedule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delivery_schedule_next_due_at'), ['next_due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_delivery_schedule_snapshot_id'), ['snapshot_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_delivery_schedule_workspace_id'), ['workspace_id'], unique=False)

    op.create_table('delivery_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('schedule_id', sa.Integer(), nullable=False),
    sa.Column('slot_at', UTC_DATETIME, nullable=True),
    sa.Column('started_at', UTC_DATETIME, nullable=False),
    sa.Column('finished_at', UTC_DATETIME, nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('manual', sa.Boolean(), nullable=False),
    sa.Column('recipients', sa.Integer(), nullable=False),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.Column('message_id', sa.String(length=255), nullable=True),
    sa.ForeignKeyConstraint(['schedule_id'], ['delivery_schedule.id'],
                            name=op.f('fk_delivery_attempt_schedule_id_delivery_schedule'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_attempt'))
    )
    with op.batch_alter_table('delivery_attempt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delivery_attempt_schedule_id'), ['schedule_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('delivery_attempt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delivery_attempt_schedule_id'))
    op.drop_table('delivery_attempt')
    with op.batch_alter_table('delivery_schedule', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delivery_schedule_workspace_id'))
        batch_op.drop_index(batch_op.f('ix_delivery_schedule_snapshot_id'))
        batch_op.drop_index(batch_op.f('ix_delivery_schedule_next_due_at'))
    op.drop_table('delivery_schedule')
