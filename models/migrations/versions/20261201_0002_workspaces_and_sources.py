"""workspaces and stored data sources

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 10:00:00

Adds `workspace` (one per client) and `data_source` (stored uploads), and moves what existed
into a first workspace, "My workspace": every snapshot (with its share links), every mapping
profile, and the app-wide "last opened snapshot" (now the workspace's `open_snapshot_id`;
the `app_state` table it lived in is dropped). Mapping profile names become unique per workspace.

Written by hand (autogenerate cannot fill the new NOT NULL columns); the tables agree with
models/tables.py (tests/db/test_migrations.py compares them and migrates a database holding
snapshots and links, on SQLite and PostgreSQL).
"""
from datetime import datetime, timezone
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0002'
down_revision: Union[str, Sequence[str], None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

UTC_DATETIME = sa.DateTime(timezone=True)
FIRST_WORKSPACE = "My workspace"
LAST_OPENED_KEY = "last_opened_snapshot_id"


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _create_workspace_table() -> None:
    op.create_table('workspace',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('time_zone', sa.String(length=64), nullable=False),
    sa.Column('accent_color', sa.String(length=7), nullable=True),
    sa.Column('report_footer', sa.String(length=500), nullable=True),
    sa.Column('logo', sa.LargeBinary(), nullable=True),
    sa.Column('logo_mime', sa.String(length=40), nullable=True),
    sa.Column('report_settings', sa.JSON(), nullable=False),
    sa.Column('showing', sa.String(length=20), nullable=False),
    sa.Column('open_snapshot_id', sa.Integer(), nullable=True),
    sa.Column('created_at', UTC_DATETIME, nullable=False),
    sa.Column('updated_at', UTC_DATETIME, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workspace'))
    )
    with op.batch_alter_table('workspace', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_workspace_name'), ['name'], unique=True)


def _first_workspace(bind) -> int:
    """Create "My workspace", opening the snapshot that was opened last (if it still exists)."""
    last_opened = None
    row = bind.execute(sa.text("SELECT value FROM app_state WHERE key = :key"), {"key": LAST_OPENED_KEY}).first()
    if row is not None:
        value = row[0]
        if isinstance(value, str):  # SQLite hands JSON back as text
            value = int(value) if value.strip().isdigit() else None
        if isinstance(value, int) and bind.execute(
                sa.text("SELECT 1 FROM snapshot WHERE id = :id"), {"id": value}).first() is not None:
            last_opened = value
    workspace = sa.table(
        'workspace', sa.column('name', sa.String), sa.column('time_zone', sa.String),
        sa.column('report_settings', sa.JSON), sa.column('showing', sa.String),
        sa.column('open_snapshot_id', sa.Integer), sa.column('created_at', UTC_DATETIME),
        sa.column('updated_at', UTC_DATETIME),
    )
    now = _now()
    bind.execute(workspace.insert().values(
        name=FIRST_WORKSPACE, time_zone="UTC", report_settings={},
        showing="snapshot" if last_opened is not None else "sources", open_snapshot_id=last_opened,
        created_at=now, updated_at=now,
    ))
    return bind.execute(sa.text("SELECT id FROM workspace WHERE name = :name"), {"name": FIRST_WORKSPACE}).scalar_one()


def _add_workspace_column(table: str, workspace_id: int) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.add_column(sa.Column('workspace_id', sa.Integer(), nullable=True))
    op.get_bind().execute(sa.text(f"UPDATE {table} SET workspace_id = :id"), {"id": workspace_id})
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.alter_column('workspace_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_index(batch_op.f(f'ix_{table}_workspace_id'), ['workspace_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f(f'fk_{table}_workspace_id_workspace'), 'workspace',
                                    ['workspace_id'], ['id'], ondelete='CASCADE')


def upgrade() -> None:
    bind = op.get_bind()
    _create_workspace_table()
    workspace_id = _first_workspace(bind)

    _add_workspace_column('snapshot', workspace_id)
    _add_workspace_column('mapping_profile', workspace_id)
    with op.batch_alter_table('mapping_profile', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mapping_profile_name'))
        batch_op.create_unique_constraint(batch_op.f('uq_mapping_profile_workspace_id_name'), ['workspace_id', 'name'])

    op.create_table('data_source',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('family', sa.String(length=40), nullable=False),
    sa.Column('dimensions', sa.JSON(), nullable=False),
    sa.Column('platforms', sa.JSON(), nullable=False),
    sa.Column('currencies', sa.JSON(), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('file_sha256', sa.String(length=64), nullable=False),
    sa.Column('file_size', sa.Integer(), nullable=False),
    sa.Column('load_report', sa.JSON(), nullable=False),
    sa.Column('mapping', sa.JSON(), nullable=False),
    sa.Column('files', sa.JSON(), nullable=False),
    sa.Column('date_from', sa.Date(), nullable=True),
    sa.Column('date_to', sa.Date(), nullable=True),
    sa.Column('row_count', sa.Integer(), nullable=False),
    sa.Column('frame_parquet', sa.LargeBinary(), nullable=False),
    sa.Column('frame_sha256', sa.String(length=64), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('created_at', UTC_DATETIME, nullable=False),
    sa.Column('updated_at', UTC_DATETIME, nullable=False),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], name=op.f('fk_data_source_workspace_id_workspace'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_source'))
    )
    with op.batch_alter_table('data_source', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_data_source_workspace_id'), ['workspace_id'], unique=False)

    op.drop_table('app_state')


def downgrade() -> None:
    """Back to one shared list: every workspace's snapshots and profiles stay (a profile whose name
    another workspace also used keeps only the oldest), sources and branding are dropped."""
    bind = op.get_bind()
    op.create_table('app_state',
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('value', sa.JSON(), nullable=True),
    sa.Column('updated_at', UTC_DATETIME, nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_app_state'))
    )
    opened = bind.execute(sa.text(
        "SELECT open_snapshot_id FROM workspace WHERE showing = 'snapshot' AND open_snapshot_id IS NOT NULL "
        "ORDER BY id LIMIT 1")).scalar()
    if opened is not None:
        state = sa.table('app_state', sa.column('key', sa.String), sa.column('value', sa.JSON),
                         sa.column('updated_at', UTC_DATETIME))
        bind.execute(state.insert().values(key=LAST_OPENED_KEY, value=opened, updated_at=_now()))

    with op.batch_alter_table('data_source', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_data_source_workspace_id'))
    op.drop_table('data_source')

    bind.execute(sa.text(
        "DELETE FROM mapping_profile WHERE id NOT IN (SELECT MIN(id) FROM mapping_profile GROUP BY name)"))
    with op.batch_alter_table('mapping_profile', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_mapping_profile_workspace_id_name'), type_='unique')
        batch_op.create_index(batch_op.f('ix_mapping_profile_name'), ['name'], unique=True)
    for table in ('mapping_profile', 'snapshot'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f'fk_{table}_workspace_id_workspace'), type_='foreignkey')
            batch_op.drop_index(batch_op.f(f'ix_{table}_workspace_id'))
            batch_op.drop_column('workspace_id')

    with op.batch_alter_table('workspace', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_workspace_name'))
    op.drop_table('workspace')
